"""Document-level retrieval metrics, as pure functions over ranked ids and a set of relevant ids.

Binary relevance throughout (the interchange format's `relevant_ids` carry no grades).

- recall@k = |relevant ∩ top k| / |relevant|
- nDCG@k   = DCG@k / IDCG@k with DCG = sum over ranks i (1-based) of rel_i / log2(i + 1), and
             IDCG the DCG of a perfect ranking of min(k, |relevant|) relevant documents.
- MRR@k    = 1 / rank of the first relevant document within the top k, else 0.

A question with no relevant documents has no defined value: these functions return None and
callers leave it out of the mean (and count it).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence


def _dedupe(ranked: Sequence[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for item in ranked:
        if item not in seen:
            seen.add(item)
            out.append(item)
    return out


def recall_at_k(ranked: Sequence[str], relevant: Iterable[str], k: int) -> float | None:
    rel = set(relevant)
    if not rel:
        return None
    return len(rel & set(_dedupe(ranked)[:k])) / len(rel)


def ndcg_at_k(ranked: Sequence[str], relevant: Iterable[str], k: int) -> float | None:
    rel = set(relevant)
    if not rel:
        return None
    dcg = sum(1.0 / math.log2(i + 1) for i, doc in enumerate(_dedupe(ranked)[:k], 1) if doc in rel)
    idcg = sum(1.0 / math.log2(i + 1) for i in range(1, min(k, len(rel)) + 1))
    return dcg / idcg


def mrr_at_k(ranked: Sequence[str], relevant: Iterable[str], k: int) -> float | None:
    rel = set(relevant)
    if not rel:
        return None
    for i, doc in enumerate(_dedupe(ranked)[:k], 1):
        if doc in rel:
            return 1.0 / i
    return 0.0
