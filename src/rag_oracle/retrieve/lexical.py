"""BM25 retrieval over chunks (bm25s), with RM3 pseudo-relevance feedback as an option
(`rm3_docs` > 0; retrieve/prf.py)."""

from __future__ import annotations

import numpy as np

from rag_oracle.errors import QueryError
from rag_oracle.index import lexical
from rag_oracle.index.store import Index
from rag_oracle.retrieve.base import hits_from_positions
from rag_oracle.retrieve.filters import Filters, allowed_positions
from rag_oracle.retrieve.prf import rm3_weights
from rag_oracle.text.analyzer import expand_query, tokenize_one
from rag_oracle.text.passage import embedding_text
from rag_oracle.types import Hit


def check_query(query: str, k: int) -> str:
    query = (query or "").strip()
    if not query:
        raise QueryError("the question is empty; pass some text to search for")
    if k < 1:
        raise QueryError(f"k must be at least 1 (got {k})")
    return query


class Bm25Retriever:
    name = "bm25"

    def __init__(self, index: Index, *, rm3_docs: int = 0, rm3_terms: int = 10, rm3_weight: float = 0.5) -> None:
        self.index = index
        self.rm3_docs = rm3_docs  # feedback chunks (0: no feedback)
        self.rm3_terms = rm3_terms
        self.rm3_weight = rm3_weight  # of the question's own terms

    def search(self, query: str, k: int = 10, filters: Filters | None = None) -> list[Hit]:
        return hits_from_positions(self.index, *self.search_positions(query, k, filters), "bm25")

    def search_positions(
        self, query: str, k: int = 10, filters: Filters | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(chunk positions, BM25 scores > 0) of the top k, best first; no chunk is read."""
        query = check_query(query, k)
        allowed = allowed_positions(self.index, filters)
        mask = None
        if allowed is not None:
            mask = np.zeros(len(self.index.chunks), dtype=np.float32)
            mask[allowed] = 1.0
        tokens = tokenize_one(expand_query(query))
        bm25 = self.index.bm25
        if self.rm3_docs <= 0:
            positions, scores = lexical.search_tokens(bm25, tokens, k, mask)
            return positions[:k], scores[:k]
        first, first_scores = lexical.search_tokens(bm25, tokens, self.rm3_docs, mask)
        feedback = [
            (tokenize_one(embedding_text(info.title, chunk.text)), float(score))
            for (chunk, info), score in zip(self.index.chunks_and_infos(first.tolist()), first_scores, strict=True)
        ]
        weights = rm3_weights(tokens, feedback, self.rm3_terms, self.rm3_weight)
        positions, scores = lexical.search_tokens(bm25, list(weights), k, mask, list(weights.values()))
        return positions[:k], scores[:k]
