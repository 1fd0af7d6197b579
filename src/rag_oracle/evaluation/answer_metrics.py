"""Answer, decision, latency and citation metrics: pure functions, unit-tested against hand values.

Definitions (also in docs/evaluation.md):

- rouge1 / rouge2 / rougeL: F1 from `rouge-score` (Porter stemming), prediction vs reference.
- token_f1: SQuAD-style F1 over lower-cased alphanumeric tokens (articles and punctuation
  removed), as a bag of words with multiplicity.
- semantic_similarity: cosine of the embeddings of prediction and reference (computed by the
  runner with the index's embedder; this module only takes vectors).
- decision accuracy, macro_f1, decided: over the questions with a gold decision (yes / no / maybe).
  A question the answer gave no verdict for (None: abstained, or the evidence did not decide it)
  counts as wrong for accuracy and as a miss of its gold label for F1 (never as a false positive);
  macro F1 is the unweighted mean of per-label F1 over the labels present in the gold decisions;
  decided is the share of those questions with a verdict, so a rule that answers less can be told
  from one that answers worse.
- latency p50 / p95: nearest-rank percentiles, in milliseconds.
- bootstrap CI: 95% percentile interval of the mean over 1,000 resamples (seeded).

An empty prediction scores 0 on every answer metric; an empty reference makes the question
unscorable for answer metrics (None), so it is left out of the mean and counted.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

import numpy as np

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_TOKEN = re.compile(r"[a-z0-9]+(?:\.[0-9]+)?")


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(_ARTICLES.sub(" ", text.lower()))


def token_f1(prediction: str, reference: str) -> float | None:
    ref = _tokens(reference)
    if not ref:
        return None
    pred = _tokens(prediction)
    if not pred:
        return 0.0
    common = sum((Counter(pred) & Counter(ref)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


_SCORER = None


def rouge(prediction: str, reference: str) -> dict[str, float] | None:
    """rouge1, rouge2, rougeL F1; None when the reference is empty."""
    global _SCORER
    if not reference.strip():
        return None
    if not prediction.strip():
        return {"rouge1": 0.0, "rouge2": 0.0, "rougeL": 0.0}
    if _SCORER is None:
        from rouge_score import rouge_scorer

        _SCORER = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)
    scores = _SCORER.score(reference, prediction)
    return {name: float(s.fmeasure) for name, s in scores.items()}


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    na, nb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
    if na == 0 or nb == 0:
        return 0.0
    return float(a @ b) / (na * nb)


def decision_scores(gold: Sequence[str], predicted: Sequence[str | None]) -> dict[str, float] | None:
    """accuracy, macro_f1 and decided over labelled questions; a missing prediction (None) counts as wrong.

    >>> decision_scores(["yes", "no", "maybe", "no"], ["yes", None, "maybe", "yes"])
    {'accuracy': 0.5, 'macro_f1': 0.5555555555555555, 'decided': 0.75}
    """
    pairs = [(g, p) for g, p in zip(gold, predicted, strict=True) if g]
    if not pairs:
        return None
    accuracy = sum(g == p for g, p in pairs) / len(pairs)
    f1s = []
    for label in sorted({g for g, _ in pairs}):
        tp = sum(g == label and p == label for g, p in pairs)
        fp = sum(g != label and p == label for g, p in pairs)
        fn = sum(g == label and p != label for g, p in pairs)
        f1s.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    decided = sum(bool(p) for _, p in pairs) / len(pairs)
    return {"accuracy": accuracy, "macro_f1": sum(f1s) / len(f1s), "decided": decided}


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return float(ordered[rank - 1])


def bootstrap_ci(values: Sequence[float], *, resamples: int = 1000, seed: int = 0) -> tuple[float, float] | None:
    """95% percentile bootstrap interval of the mean."""
    vals = np.asarray([v for v in values if v is not None], dtype=float)
    if len(vals) == 0:
        return None
    if len(vals) == 1:
        return (float(vals[0]), float(vals[0]))
    rng = np.random.default_rng(seed)
    means = vals[rng.integers(0, len(vals), size=(resamples, len(vals)))].mean(axis=1)
    return (float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5)))


def summarize(values: Sequence[float | None], *, seed: int = 0) -> dict[str, object]:
    """{"mean", "ci95": [low, high], "n", "n_undefined"} for a per-question metric."""
    defined = [v for v in values if v is not None]
    mean = float(np.mean(defined)) if defined else None
    ci = bootstrap_ci(defined, seed=seed)
    return {
        "mean": mean,
        "ci95": list(ci) if ci else None,
        "n": len(defined),
        "n_undefined": len(values) - len(defined),
    }


def paired_bootstrap(
    a: Sequence[float], b: Sequence[float], *, resamples: int = 2000, seed: int = 0
) -> dict[str, float]:
    """Difference of means (b - a) over paired per-question values, its 95% CI and a two-sided p-value."""
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if len(x) != len(y) or len(x) == 0:
        raise ValueError("paired bootstrap needs two equal-length, non-empty lists")
    diff = y - x
    rng = np.random.default_rng(seed)
    means = diff[rng.integers(0, len(diff), size=(resamples, len(diff)))].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    observed = float(diff.mean())
    # p: how often the resampled difference falls on the other side of zero, doubled.
    if observed >= 0:
        p = 2 * float(np.mean(means <= 0))
    else:
        p = 2 * float(np.mean(means >= 0))
    return {"delta": observed, "ci95": [float(low), float(high)], "p_value": min(1.0, p), "n": len(diff)}
