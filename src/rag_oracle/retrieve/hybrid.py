"""Hybrid retrieval: dense and BM25 candidate lists fused by reciprocal rank fusion (the default)
or by a weighted sum of normalised scores (`fusion` "minmax" or "zscore", `dense_weight`).

Each retriever contributes its top `candidates`; the fused list keeps both component scores
and ranks on every hit, so a user can see why a passage came up.

The lists are fused as chunk positions, and only chunks that decide the result are read from
the store (a few ms a search at a million chunks, for ~2 x candidates rows and Chunk objects).
A chunk's id matters in two places: equal scores in one list are ranked by chunk id, and equal
fused scores too. So a chunk in a tie of one list has a range of possible ranks, hence bounds on
its fused score; ties are read only for chunks whose upper bound reaches the k-th best lower
bound (the others cannot be among the k), and then the chunks whose exact fused score reaches the
k-th best. The result is the one fusing both lists of hits by chunk id gives, to the bit.

Score fusion needs no ranks, so no ties within a list matter: only equal fused scores are ordered
by chunk id, and only the chunks at the cut are read for that.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from rag_oracle.index import lexical
from rag_oracle.retrieve.base import ChunkRows
from rag_oracle.retrieve.dense import DenseRetriever
from rag_oracle.retrieve.filters import Filters
from rag_oracle.retrieve.fusion import NORMALISATIONS, adaptive_weight, fuse_scores, rrf_score
from rag_oracle.retrieve.lexical import Bm25Retriever, check_query
from rag_oracle.text.analyzer import expand_query, tokenize_one
from rag_oracle.types import Hit


class _Ranking:
    """One retriever's candidates (position -> score), ranked by score then chunk id: the rank of a
    chunk whose score no other shares is known; a tie's members share a rank range until `resolve`."""

    def __init__(self, positions: np.ndarray, scores: np.ndarray) -> None:
        pairs = sorted(zip(positions.tolist(), scores.tolist(), strict=True), key=lambda p: -p[1])
        self.score = dict(pairs)
        self._tie: dict[int, tuple[int, list[int]]] = {}  # position -> (first rank of its tie, members)
        self._rank: dict[int, int] = {}
        start = 0
        while start < len(pairs):
            end = start + 1
            while end < len(pairs) and pairs[end][1] == pairs[start][1]:
                end += 1
            if end - start == 1:
                self._rank[pairs[start][0]] = start + 1
            else:
                members = [p for p, _ in pairs[start:end]]
                for p in members:
                    self._tie[p] = (start + 1, members)
            start = end

    def ranks(self, position: int) -> tuple[int, int] | None:
        """(best, worst) rank the chunk can have; None when it is not in the list."""
        if position in self._rank:
            return self._rank[position], self._rank[position]
        if position in self._tie:
            first, members = self._tie[position]
            return first, first + len(members) - 1
        return None

    def rank(self, position: int) -> int | None:
        """The exact rank (None: not in the list); a tie must be resolved first."""
        if position in self._tie:
            raise KeyError(f"position {position} is in an unresolved tie")
        return self._rank.get(position)

    def unresolved(self, positions: Iterable[int]) -> set[int]:
        """The members of every tie that one of `positions` is in."""
        return {m for p in positions if p in self._tie for m in self._tie[p][1]}

    def resolve(self, positions: Iterable[int], rows: ChunkRows) -> None:
        """Rank the ties these positions are in by chunk id (`rows` must hold them all)."""
        for p in positions:
            if p in self._tie:
                first, members = self._tie[p]
                for rank, m in enumerate(sorted(members, key=rows.chunk_id), first):
                    self._rank[m] = rank
                    del self._tie[m]


class HybridRetriever:
    name = "hybrid"

    def __init__(
        self,
        dense: DenseRetriever,
        bm25: Bm25Retriever,
        *,
        candidates: int = 100,
        rrf_k: int = 60,
        fusion: str = "rrf",
        dense_weight: float = 0.5,
        adaptive: float = 0.0,
    ) -> None:
        if dense.index is not bm25.index:
            raise ValueError("the dense and BM25 retrievers of a hybrid retriever must search the same index")
        if fusion != "rrf" and fusion not in NORMALISATIONS:
            raise ValueError(f"unknown fusion {fusion!r}; use 'rrf', 'minmax' or 'zscore'")
        self.dense = dense
        self.bm25 = bm25
        self.candidates = candidates
        self.rrf_k = rrf_k
        self.fusion = fusion
        self.dense_weight = dense_weight
        self.adaptive = adaptive  # score fusion: how much more dense weight when BM25 matches the words poorly

    def search(self, query: str, k: int = 10, filters: Filters | None = None) -> list[Hit]:
        query = check_query(query, k)
        depth = max(k, self.candidates)
        if self.fusion != "rrf":
            return self._score_fusion(query, k, depth, filters)
        lists = [
            _Ranking(*self.dense.search_positions(query, depth, filters)),
            _Ranking(*self.bm25.search_positions(query, depth, filters)),
        ]
        candidates = list(dict.fromkeys(p for r in lists for p in r.score))
        rows = ChunkRows(self.dense.index)

        def fused(position: int, which: int) -> float:  # which: 0 best possible ranks, 1 worst
            return rrf_score((b[which] if (b := r.ranks(position)) else None for r in lists), self.rrf_k)

        # Contenders: chunks that can reach the k-th best worst-case score. Their ties are ranked
        # by chunk id (read once, together), which makes their fused scores exact.
        if len(candidates) > k:
            floor = sorted((fused(p, 1) for p in candidates), reverse=True)[k - 1]
            candidates = [p for p in candidates if fused(p, 0) >= floor]
        tied = set().union(*(r.unresolved(candidates) for r in lists))
        rows.read(tied)
        for r in lists:
            r.resolve(tied, rows)
        exact = {p: rrf_score((r.rank(p) for r in lists), self.rrf_k) for p in candidates}
        # The k best by (fused score, chunk id): every contender reaching the k-th best score is read.
        if len(candidates) > k:
            kth = sorted(exact.values(), reverse=True)[k - 1]
            candidates = [p for p in candidates if exact[p] >= kth]
        rows.read(candidates)
        top = sorted(candidates, key=lambda p: (-exact[p], rows.chunk_id(p)))[:k]
        dense, bm25 = lists
        return [
            Hit(
                chunk=rows[p][0],
                document=rows[p][1],
                rank=rank,
                score=exact[p],
                dense_score=dense.score.get(p),
                dense_rank=dense.rank(p),
                bm25_score=bm25.score.get(p),
                bm25_rank=bm25.rank(p),
            )
            for rank, p in enumerate(top, 1)
        ]

    def weight(self, query: str, bm25: tuple[np.ndarray, np.ndarray]) -> float:
        """The dense list's weight for this question (score fusion): `dense_weight`, raised by up to
        `adaptive` when BM25's best hit holds few of the question's words (fusion.adaptive_weight)."""
        if self.adaptive <= 0 or not len(bm25[0]):
            return self.dense_weight
        tokens = tokenize_one(expand_query(query))
        coverage = lexical.coverage(self.dense.index.bm25, tokens, int(bm25[0][0]))
        return adaptive_weight(self.dense_weight, coverage, self.adaptive)

    def _score_fusion(self, query: str, k: int, depth: int, filters: Filters | None) -> list[Hit]:
        dense = self.dense.search_positions(query, depth, filters)
        bm25 = self.bm25.search_positions(query, depth, filters)
        weight = self.weight(query, bm25)
        positions, fused = fuse_scores([dense, bm25], [weight, 1.0 - weight], self.fusion)
        if not len(positions):
            return []
        # the k best by fused score, and every chunk tied with the k-th (ordered by chunk id below)
        order = np.argsort(-fused, kind="stable")
        kth = fused[order[min(k, len(order)) - 1]]
        contenders = order[fused[order] >= kth]
        rows = ChunkRows(self.dense.index)
        rows.read(positions[contenders].tolist())
        top = sorted(contenders.tolist(), key=lambda i: (-fused[i], rows.chunk_id(int(positions[i]))))[:k]
        ranks = [dict(zip(p.tolist(), range(1, len(p) + 1), strict=True)) for p, _ in (dense, bm25)]
        scores = [dict(zip(p.tolist(), s.tolist(), strict=True)) for p, s in (dense, bm25)]
        hits = []
        for rank, i in enumerate(top, 1):
            p = int(positions[i])
            hits.append(
                Hit(
                    chunk=rows[p][0],
                    document=rows[p][1],
                    rank=rank,
                    score=float(fused[i]),
                    dense_score=scores[0].get(p),
                    dense_rank=ranks[0].get(p),
                    bm25_score=scores[1].get(p),
                    bm25_rank=ranks[1].get(p),
                )
            )
        return hits
