"""BM25 retrieval over chunks (bm25s)."""

from __future__ import annotations

import numpy as np

from rag_oracle.errors import QueryError
from rag_oracle.index import lexical
from rag_oracle.index.store import Index
from rag_oracle.retrieve.base import hits_from_positions
from rag_oracle.retrieve.filters import Filters, allowed_positions
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

    def __init__(self, index: Index) -> None:
        self.index = index

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
        positions, scores = lexical.search(self.index.bm25, query, k, mask)
        return positions[:k], scores[:k]
