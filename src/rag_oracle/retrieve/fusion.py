"""Fusing ranked lists: reciprocal rank fusion (Cormack et al., 2009: score(d) = sum over lists of
1 / (k + rank(d))), normalised-score fusion (min-max or z-score, weighted), and document scores from
chunk scores (best chunk, or the sum of the best few).

Pure functions with deterministic tie-breaks (equal fused scores ordered by id or position), so
fused rankings are reproducible run to run; the hybrid retriever and benchmarks/retrieval_quality.py
use the same ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np


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


# --- score fusion ----------------------------------------------------------------------------------
#
# Normalised-score fusion (convex combination, as in Bruch et al. 2023, "An analysis of fusion functions
# for hybrid retrieval", and pyserini's dense-sparse hybrid): each list's scores are normalised over the
# list, then added with a weight per list. A candidate missing from a list gets that list's lowest
# normalised score: it scored at most that there.

NORMALISATIONS = ("minmax", "zscore")


def normalised(scores: np.ndarray, method: str) -> np.ndarray:
    """`scores` of one list normalised over the list: "minmax" to [0, 1] (all equal: all 1), "zscore"
    to mean 0 and standard deviation 1 (all equal: all 0); float64."""
    values = np.asarray(scores, dtype=np.float64)
    if method not in NORMALISATIONS:
        raise ValueError(f"unknown normalisation {method!r}; use one of {', '.join(NORMALISATIONS)}")
    if not len(values):
        return values
    if method == "minmax":
        low, high = values.min(), values.max()
        return np.ones_like(values) if high == low else (values - low) / (high - low)
    spread = values.std()
    return np.zeros_like(values) if spread == 0 else (values - values.mean()) / spread


def fuse_scores(
    lists: Sequence[tuple[np.ndarray, np.ndarray]], weights: Sequence[float], method: str
) -> tuple[np.ndarray, np.ndarray]:
    """(positions, fused scores) of every position in any of `lists` ((positions, scores) each), in
    position order: the sum over lists of weight x normalised score, a list's lowest normalised score
    for a position it lacks. Ranking them (ties by chunk id) is the caller's."""
    if len(lists) != len(weights):
        raise ValueError(f"{len(lists)} lists but {len(weights)} weights")
    positions = np.unique(np.concatenate([np.asarray(p, dtype=np.int64) for p, _ in lists] or [np.zeros(0, np.int64)]))
    fused = np.zeros(len(positions), dtype=np.float64)
    for (list_positions, scores), weight in zip(lists, weights, strict=True):
        if not len(list_positions):
            continue
        norm = normalised(scores, method)
        column = np.full(len(positions), norm.min())
        column[np.searchsorted(positions, np.asarray(list_positions, dtype=np.int64))] = norm
        fused += weight * column
    return positions, fused


def adaptive_weight(weight: float, coverage: float, strength: float) -> float:
    """The dense weight for one question: `weight` when BM25's best hit holds all of the question's
    words (`coverage` 1, index/lexical.py), up to `strength` more as the coverage falls to 0, since
    BM25 then matched only part of the question (consumer wording, synonyms); within [0, 1]."""
    return float(min(1.0, max(0.0, weight + strength * (1.0 - coverage))))


def rrf_scores(lists: Sequence[tuple[np.ndarray, np.ndarray]], k: int = 60) -> tuple[np.ndarray, np.ndarray]:
    """`rrf_score` of every position in any of `lists` (each (positions, scores), best first, ranks
    1, 2, ... in list order: ties are not ranked by chunk id here), in position order."""
    positions = np.unique(np.concatenate([np.asarray(p, dtype=np.int64) for p, _ in lists] or [np.zeros(0, np.int64)]))
    fused = np.zeros(len(positions), dtype=np.float64)
    for list_positions, _ in lists:
        ranks = np.arange(1, len(list_positions) + 1, dtype=np.float64)
        fused[np.searchsorted(positions, np.asarray(list_positions, dtype=np.int64))] += 1.0 / (k + ranks)
    return positions, fused


def document_scores(
    doc_of: np.ndarray, positions: np.ndarray, scores: np.ndarray, method: str = "max", top: int = 2
) -> tuple[np.ndarray, np.ndarray]:
    """Documents ranked from chunk scores: (document positions, scores) best first, equal scores by
    document position. `doc_of[p]` is chunk p's document; "max" is a document's best chunk, "sum" the
    sum of its `top` best chunks (a document that matches in several places ranks higher)."""
    if method not in ("max", "sum"):
        raise ValueError(f"unknown document aggregation {method!r}; use 'max' or 'sum'")
    docs = np.asarray(doc_of)[np.asarray(positions, dtype=np.int64)]
    values = np.asarray(scores, dtype=np.float64)
    order = np.lexsort((-values, docs))  # by document, best chunk first
    docs, values = docs[order], values[order]
    starts = np.flatnonzero(np.r_[True, docs[1:] != docs[:-1]]) if len(docs) else np.zeros(0, dtype=np.int64)
    if method == "max" or top <= 1:
        totals = values[starts]
    else:
        rank_in_doc = np.arange(len(docs)) - np.repeat(starts, np.diff(np.r_[starts, len(docs)]))
        keep = rank_in_doc < top
        totals = np.add.reduceat(np.where(keep, values, 0.0), starts) if len(docs) else values[:0]
    unique_docs = docs[starts]
    best = np.lexsort((unique_docs, -totals))
    return unique_docs[best], totals[best]
