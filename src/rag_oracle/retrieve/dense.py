"""Dense retrieval: the query embedding against the FAISS index (cosine similarity).

`ef_search` (HNSW) and `nprobe` (IVF) are the approximate indexes' search-time knobs, from
`[retrieve]` (`make_retriever` passes them); exact (Flat) indexes ignore them. `prf_chunks` > 0
moves the query vector toward its first search's best chunks before the search (Rocchio,
retrieve/prf.py)."""

from __future__ import annotations

import numpy as np

from rag_oracle.embed.base import Embedder
from rag_oracle.index import dense
from rag_oracle.index.store import Index
from rag_oracle.retrieve.base import hits_from_positions
from rag_oracle.retrieve.filters import Filters, allowed_positions
from rag_oracle.retrieve.lexical import check_query
from rag_oracle.retrieve.prf import rocchio
from rag_oracle.types import Hit


class DenseRetriever:
    name = "dense"

    def __init__(
        self,
        index: Index,
        embedder: Embedder,
        *,
        ef_search: int = dense.DEFAULT_EF_SEARCH,
        nprobe: int = dense.DEFAULT_NPROBE,
        prf_chunks: int = 0,
        prf_weight: float = 0.5,
    ) -> None:
        self.index = index
        self.embedder = embedder
        self.ef_search = ef_search
        self.nprobe = nprobe
        self.prf_chunks = prf_chunks  # feedback chunks (0: no feedback)
        self.prf_weight = prf_weight

    def search(self, query: str, k: int = 10, filters: Filters | None = None) -> list[Hit]:
        return hits_from_positions(self.index, *self.search_positions(query, k, filters), "dense")

    def search_positions(
        self, query: str, k: int = 10, filters: Filters | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(chunk positions, cosine scores) of the top k, best first; no chunk is read."""
        query = check_query(query, k)
        vector = self.embedder.embed_query(query)
        allowed = allowed_positions(self.index, filters)
        faiss_index = self.index.faiss_index
        if self.prf_chunks > 0:
            first, _ = dense.search(
                faiss_index, vector, self.prf_chunks, allowed, ef_search=self.ef_search, nprobe=self.nprobe
            )
            if len(first):
                vector = rocchio(vector, dense.reconstruct(faiss_index, first), self.prf_weight)
        return dense.search(faiss_index, vector, k, allowed, ef_search=self.ef_search, nprobe=self.nprobe)
