"""Retrieval stage: dense (FAISS), BM25 (bm25s), their fusion (reciprocal rank or normalised scores) and an
optional second stage that rescores the best chunks (retrieve/rerank.py)."""

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
        return _reranked(bm25, index, embedder, settings)
    dense = DenseRetriever(
        index,
        embedder,
        ef_search=settings.ef_search,
        nprobe=settings.nprobe,
        prf_chunks=settings.dense_prf_chunks,
        prf_weight=settings.dense_prf_weight,
    )
    if settings.mode == "dense":
        return _reranked(dense, index, embedder, settings)
    hybrid = HybridRetriever(
        dense,
        bm25,
        candidates=settings.candidates,
        rrf_k=settings.rrf_k,
        fusion=settings.fusion,
        dense_weight=settings.dense_weight,
        adaptive=settings.adaptive_weight,
    )
    return _reranked(hybrid, index, embedder, settings)


def _reranked(retriever: Retriever, index: Index, embedder: Embedder, settings: RetrieveSettings) -> Retriever:
    if not settings.rerank_sentence and not settings.rerank_subject:
        return retriever
    from rag_oracle.retrieve.rerank import RerankingRetriever  # reads statements: the answer layer's text rules

    return RerankingRetriever(
        retriever,
        index,
        embedder,
        depth=settings.rerank_depth,
        sentence_weight=settings.rerank_sentence,
        subject_weight=settings.rerank_subject,
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
