"""Hybrid retrieval: dense and BM25 candidate lists fused by reciprocal rank fusion.

Each retriever contributes its top `candidates`; the fused list keeps both component scores
and ranks on every hit, so a user can see why a passage came up.
"""

from __future__ import annotations

from rag_oracle.retrieve.dense import DenseRetriever
from rag_oracle.retrieve.filters import Filters
from rag_oracle.retrieve.fusion import reciprocal_rank_fusion
from rag_oracle.retrieve.lexical import Bm25Retriever, check_query
from rag_oracle.types import Hit


class HybridRetriever:
    name = "hybrid"

    def __init__(self, dense: DenseRetriever, bm25: Bm25Retriever, *, candidates: int = 100, rrf_k: int = 60) -> None:
        self.dense = dense
        self.bm25 = bm25
        self.candidates = candidates
        self.rrf_k = rrf_k

    def search(self, query: str, k: int = 10, filters: Filters | None = None) -> list[Hit]:
        query = check_query(query, k)
        depth = max(k, self.candidates)
        dense_hits = {h.chunk.id: h for h in self.dense.search(query, depth, filters)}
        bm25_hits = {h.chunk.id: h for h in self.bm25.search(query, depth, filters)}
        fused = reciprocal_rank_fusion([list(dense_hits), list(bm25_hits)], k=self.rrf_k)
        hits = []
        for rank, (chunk_id, score) in enumerate(fused[:k], 1):
            d, b = dense_hits.get(chunk_id), bm25_hits.get(chunk_id)
            base = d or b
            hits.append(
                Hit(
                    chunk=base.chunk,
                    document=base.document,
                    rank=rank,
                    score=score,
                    dense_score=d.dense_score if d else None,
                    dense_rank=d.dense_rank if d else None,
                    bm25_score=b.bm25_score if b else None,
                    bm25_rank=b.bm25_rank if b else None,
                )
            )
        return hits
