"""Retrieval stage: dense (FAISS), BM25 (bm25s) and their reciprocal rank fusion."""

from __future__ import annotations

from rag_oracle.embed.base import Embedder
from rag_oracle.index.store import Index
from rag_oracle.retrieve.base import Retriever
from rag_oracle.retrieve.dense import DenseRetriever
from rag_oracle.retrieve.filters import Filters
from rag_oracle.retrieve.fusion import reciprocal_rank_fusion
from rag_oracle.retrieve.hybrid import HybridRetriever
from rag_oracle.retrieve.lexical import Bm25Retriever
from rag_oracle.settings import RetrieveSettings


def make_retriever(index: Index, embedder: Embedder, settings: RetrieveSettings) -> Retriever:
    if settings.mode == "bm25":
        return Bm25Retriever(index)
    dense = DenseRetriever(index, embedder, ef_search=settings.ef_search, nprobe=settings.nprobe)
    if settings.mode == "dense":
        return dense
    return HybridRetriever(dense, Bm25Retriever(index), candidates=settings.candidates, rrf_k=settings.rrf_k)


__all__ = [
    "Bm25Retriever",
    "DenseRetriever",
    "Filters",
    "HybridRetriever",
    "Retriever",
    "make_retriever",
    "reciprocal_rank_fusion",
]
