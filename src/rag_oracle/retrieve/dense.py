"""Dense retrieval: the query embedding against the FAISS index (cosine similarity).

`ef_search` (HNSW) and `nprobe` (IVF) are the approximate indexes' search-time knobs, from
`[retrieve]` (`make_retriever` passes them); exact (Flat) indexes ignore them."""

from __future__ import annotations

import numpy as np

from rag_oracle.embed.base import Embedder
from rag_oracle.index import dense
from rag_oracle.index.store import Index
from rag_oracle.retrieve.base import hits_from_positions
from rag_oracle.retrieve.filters import Filters, allowed_positions
from rag_oracle.retrieve.lexical import check_query
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
    ) -> None:
        self.index = index
        self.embedder = embedder
        self.ef_search = ef_search
        self.nprobe = nprobe

    def search(self, query: str, k: int = 10, filters: Filters | None = None) -> list[Hit]:
        return hits_from_positions(self.index, *self.search_positions(query, k, filters), "dense")

    def search_positions(
        self, query: str, k: int = 10, filters: Filters | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(chunk positions, cosine scores) of the top k, best first; no chunk is read."""
        query = check_query(query, k)
        vector = self.embedder.embed_query(query)
        return dense.search(
            self.index.faiss_index,
            vector,
            k,
            allowed_positions(self.index, filters),
            ef_search=self.ef_search,
            nprobe=self.nprobe,
        )
