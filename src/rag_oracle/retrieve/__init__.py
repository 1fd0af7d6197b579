"""Retrieval stage: dense (FAISS), BM25 (bm25s) and their fusion (reciprocal rank or normalised scores)."""

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
    bm25 = Bm25Retriever(
        index, rm3_docs=settings.rm3_docs, rm3_terms=settings.rm3_terms, rm3_weight=settings.rm3_weight
    )
    if settings.mode == "bm25":
        return bm25
    dense = DenseRetriever(
        index,
        embedder,
        ef_search=settings.ef_search,
        nprobe=settings.nprobe,
        prf_chunks=settings.dense_prf_chunks,
        prf_weight=settings.dense_prf_weight,
    )
    if settings.mode == "dense":
        return dense
    return HybridRetriever(
        dense,
        bm25,
        candidates=settings.candidates,
        rrf_k=settings.rrf_k,
        fusion=settings.fusion,
        dense_weight=settings.dense_weight,
        adaptive=settings.adaptive_weight,
    )


__all__ = [
    "Bm25Retriever",
    "DenseRetriever",
    "Filters",
    "HybridRetriever",
    "Retriever",
    "make_retriever",
    "reciprocal_rank_fusion",
]
