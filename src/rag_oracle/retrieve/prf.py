"""Pseudo-relevance feedback: a second search from what the first one found.

- **RM3** for BM25 (Lavrenko and Croft's relevance model, as Anserini and pyserini run it): the
  terms of the top `docs` chunks of a first BM25 search, each chunk weighing its score, give a
  term distribution; its `terms` most likely terms are mixed with the question's own (weight
  `original_weight` on the question) into a weighted query for the second search.
- **Rocchio** for dense retrieval: the question's vector moved toward the mean vector of the top
  chunks of a first dense search, `q + weight x mean(top)`, normalised.

Pure functions; the retrievers (retrieve/lexical.py, retrieve/dense.py) call them, and
benchmarks/retrieval_quality.py measures them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np


def rm3_weights(
    query_tokens: Sequence[str],
    feedback: Sequence[tuple[Sequence[str], float]],
    terms: int = 10,
    original_weight: float = 0.5,
) -> dict[str, float]:
    """The expanded query as token -> weight (summing to 1): `original_weight` x the question's
    token distribution + (1 - original_weight) x the relevance model's `terms` most likely tokens.

    `feedback` is (analysed tokens, first-search score) for each feedback chunk; P(t | R) is the
    sum over chunks of P(t | chunk) x the chunk's share of the scores. Ties are broken by token,
    so the expansion is deterministic. With no usable feedback, the question's own distribution."""
    counts = Counter(query_tokens)
    total = sum(counts.values())
    original = {t: c / total for t, c in counts.items()} if total else {}
    usable = [(tokens, score) for tokens, score in feedback if tokens and score > 0]
    mass = sum(score for _, score in usable)
    if not usable or mass <= 0:
        return original
    relevance: dict[str, float] = {}
    for tokens, score in usable:
        share = score / mass / len(tokens)
        for token, count in Counter(tokens).items():
            relevance[token] = relevance.get(token, 0.0) + count * share
    top = sorted(relevance.items(), key=lambda kv: (-kv[1], kv[0]))[:terms]
    top_mass = sum(v for _, v in top)
    expansion = {t: v / top_mass for t, v in top} if top_mass else {}
    weights = {
        t: original_weight * original.get(t, 0.0) + (1 - original_weight) * expansion.get(t, 0.0)
        for t in dict.fromkeys([*original, *expansion])
    }
    return {t: w for t, w in weights.items() if w > 0}


def rocchio(query: np.ndarray, feedback: np.ndarray, weight: float = 0.5) -> np.ndarray:
    """The query vector moved toward the mean of the `feedback` vectors (rows), L2-normalised, float32."""
    query = np.asarray(query, dtype=np.float32).reshape(-1)
    if feedback is None or not len(feedback) or weight == 0:
        return query
    moved = query + np.float32(weight) * np.asarray(feedback, dtype=np.float32).mean(axis=0)
    norm = float(np.linalg.norm(moved))
    return (moved / norm).astype(np.float32) if norm > 0 else query
