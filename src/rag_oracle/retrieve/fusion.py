"""Reciprocal rank fusion (Cormack et al., 2009): score(d) = sum over lists of 1 / (k + rank(d)).

A pure function with a deterministic tie-break (equal fused scores ordered by id), so fused
rankings are reproducible run to run.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def rrf_score(ranks: Iterable[int | None], k: int = 60) -> float:
    """The fused score of one item from its rank in each list (None: not in that list), added in
    list order exactly as `reciprocal_rank_fusion` adds them, so the two give the same floats."""
    score = 0.0
    for rank in ranks:
        if rank is not None:
            score = score + 1.0 / (k + rank)
    return score


def reciprocal_rank_fusion(rankings: Sequence[Sequence[str]], k: int = 60) -> list[tuple[str, float]]:
    """Fuse ranked id lists (best first) into one list of (id, fused score), best first.

    >>> reciprocal_rank_fusion([["a", "b"], ["b", "c"]], k=60)[0][0]
    'b'
    """
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, 1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
