"""Aggregate per-question values into metrics.json, under exactly these keys::

    retrieval: ndcg@10, recall@10, recall@100, mrr@10
    answer:    rouge1, rouge2, rougeL, token_f1, semantic_similarity      (the whole answer)
               rougeL_direct, token_f1_direct                          (the direct answer alone)
               rougeL_lead, token_f1_lead    (baseline: first 2 sentences of the top retrieved document)
    decision:  accuracy, macro_f1, decided          (only when questions carry a decision; a question
               given no verdict counts as wrong, and decided is the share given one)
    citations: validity, sentence_coverage, support, numeric_support, abstention_rate   (the answer shown)
               draft_validity, draft_support, draft_numeric_support, removal_rate,
               invented_number_rate                                  (the draft, before verification)
    attribution: subject_agreement, population_agreement, repeated_references, repeated_statements,
               verdict_error_rate                                   (evaluation/attribution.py)
    nuggets:   nugget_recall, forbidden_rate, fully_right         (questions with must_include / must_not_include)
    abstention: abstention_recall (unanswerable declined), answer_rate (answerable answered)
    latency:   {retrieve, generate, total}: {p50, p95, n} in milliseconds, without the warm-up
               questions (the first a process answered), whose own figures are under "warm_up"
    counts:    questions, errors, abstained, ...

Each metric is {"mean", "ci95": [low, high], "n", "n_undefined"}; the interval is a 95%
bootstrap over questions (1,000 resamples, seed 0). Errors are counted, not scored.
"""

from __future__ import annotations

import numpy as np

from rag_oracle.evaluation.answer_metrics import decision_scores, percentile, summarize

RETRIEVAL = ["ndcg@10", "recall@10", "recall@100", "mrr@10"]
ANSWER = [
    "rouge1",
    "rouge2",
    "rougeL",
    "token_f1",
    "semantic_similarity",
    "rougeL_direct",
    "token_f1_direct",
    "rougeL_lead",
    "token_f1_lead",
]
CITATIONS = {
    "validity": "validity",
    "sentence_coverage": "sentence_coverage",
    "support": "support",
    "numeric_support": "numeric_support",
    "abstention_rate": "abstained",
    "draft_validity": "draft_validity",
    "draft_support": "draft_support",
    "draft_numeric_support": "draft_numeric_support",
    "removal_rate": "removal_rate",
    "invented_number_rate": "invented_number_rate",
}
ATTRIBUTION = {
    "subject_agreement": "subject_agreement",
    "population_agreement": "population_agreement",
    "repeated_references": "repeated_references",
    "repeated_statements": "repeated_statements",
    "verdict_error_rate": "verdict_error",
}
NUGGETS = {"nugget_recall": "nugget_recall", "forbidden_rate": "forbidden", "fully_right": "fully_right"}
ABSTENTION = {"abstention_recall": "declined_unanswerable", "answer_rate": "answered_answerable"}
STAGES = ["retrieve", "generate", "total"]


def per_question(predictions: list[dict], metric: str) -> list[float | None]:
    """One metric's value for each scored question (None where undefined)."""
    ok = [p for p in predictions if "error" not in p]
    if metric in CITATIONS:
        # .get: runs written before the draft metrics existed have no value (undefined, not an error)
        return [p["citation_metrics"].get(CITATIONS[metric]) for p in ok]
    if metric in ATTRIBUTION:
        return [p.get("attribution", {}).get(ATTRIBUTION[metric]) for p in ok]
    key = NUGGETS.get(metric) or ABSTENTION.get(metric)
    if key is not None:
        return [p["scores"].get(key) for p in ok]
    return [p["scores"].get(metric) for p in ok]


def _decision_with_ci(predictions: list[dict], resamples: int = 1000) -> dict | None:
    labelled = [p for p in predictions if p.get("gold_decision") and "error" not in p]
    if not labelled:
        return None
    gold = [p["gold_decision"] for p in labelled]
    pred = [p.get("decision") for p in labelled]
    point = decision_scores(gold, pred)
    rng = np.random.default_rng(0)
    samples: dict[str, list[float]] = {k: [] for k in point}
    for _ in range(resamples):
        idx = rng.integers(0, len(labelled), len(labelled))
        s = decision_scores([gold[i] for i in idx], [pred[i] for i in idx])
        for k in samples:
            samples[k].append(s[k])
    return {
        k: {"mean": point[k], "ci95": [float(np.percentile(v, 2.5)), float(np.percentile(v, 97.5))], "n": len(labelled)}
        for k, v in samples.items()
    }


def aggregate(predictions: list[dict]) -> dict:
    ok = [p for p in predictions if "error" not in p]
    # warm-up questions (the first a process answered: model loading) are left out of the percentiles
    warm = [p for p in ok if not p.get("warm_up")] or ok
    metrics: dict = {
        "retrieval": {m: summarize(per_question(predictions, m)) for m in RETRIEVAL},
        "answer": {m: summarize(per_question(predictions, m)) for m in ANSWER},
        "citations": {m: summarize(per_question(predictions, m)) for m in CITATIONS},
        "attribution": {m: summarize(per_question(predictions, m)) for m in ATTRIBUTION},
        "nuggets": {m: summarize(per_question(predictions, m)) for m in NUGGETS},
        "abstention": {m: summarize(per_question(predictions, m)) for m in ABSTENTION},
        "latency": {
            stage: {
                "p50": percentile([p["latency_ms"][stage] for p in warm], 50),
                "p95": percentile([p["latency_ms"][stage] for p in warm], 95),
                "n": len(warm),
                "warm_up": [p["latency_ms"][stage] for p in ok if p.get("warm_up")],
            }
            for stage in STAGES
        },
        "counts": {
            "questions": len(predictions),
            "errors": len(predictions) - len(ok),
            "abstained": sum(bool(p.get("abstained")) for p in ok),
            "with_relevant_ids": sum(bool(p.get("relevant_ids")) for p in ok),
            "with_reference_answer": sum(bool((p.get("reference_answer") or "").strip()) for p in ok),
        },
    }
    decision = _decision_with_ci(predictions)
    if decision is not None:
        metrics["decision"] = decision
    return metrics
