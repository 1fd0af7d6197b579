"""Compare two runs question by question: paired bootstrap deltas and the questions that changed most.

Only questions present (and error-free) in both runs are paired. A difference is called
significant when its 95% paired-bootstrap interval excludes zero.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rag_oracle.evaluation.answer_metrics import paired_bootstrap
from rag_oracle.evaluation.metrics import ABSTENTION, ANSWER, ATTRIBUTION, CITATIONS, NUGGETS, RETRIEVAL, per_question
from rag_oracle.evaluation.runner import load_run

CHANGE_METRICS = ("rougeL", "ndcg@10")


@dataclass
class MetricDelta:
    group: str
    metric: str
    a: float
    b: float
    delta: float
    ci95: list[float]
    p_value: float
    n: int

    @property
    def significant(self) -> bool:
        return self.ci95[0] > 0 or self.ci95[1] < 0


@dataclass
class Comparison:
    run_a: str
    run_b: str
    paired_questions: int
    deltas: list[MetricDelta] = field(default_factory=list)
    changed: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "run_a": self.run_a,
            "run_b": self.run_b,
            "paired_questions": self.paired_questions,
            "warnings": self.warnings,
            "deltas": [{**d.__dict__, "significant": d.significant} for d in self.deltas],
            "changed": self.changed,
        }


def compare_runs(run_a: str, run_b: str, *, top: int = 10) -> Comparison:
    manifest_a, _, preds_a = load_run(run_a)
    manifest_b, _, preds_b = load_run(run_b)
    by_id_a = {p["id"]: p for p in preds_a if "error" not in p}
    by_id_b = {p["id"]: p for p in preds_b if "error" not in p}
    ids = [i for i in by_id_a if i in by_id_b]
    result = Comparison(run_a, run_b, len(ids))
    if manifest_a["identity"]["dataset"]["sha256"] != manifest_b["identity"]["dataset"]["sha256"]:
        result.warnings.append("the two runs used different question files; only shared ids are compared")
    if manifest_a["identity"]["index"]["fingerprint"] != manifest_b["identity"]["index"]["fingerprint"]:
        result.warnings.append("the two runs used indexes built with different settings")
    if not ids:
        result.warnings.append("no question was answered in both runs")
        return result
    paired_a = [by_id_a[i] for i in ids]
    paired_b = [by_id_b[i] for i in ids]
    groups = (
        ("retrieval", RETRIEVAL),
        ("answer", ANSWER),
        ("citations", list(CITATIONS)),
        ("attribution", list(ATTRIBUTION)),
        ("nuggets", list(NUGGETS)),
        ("abstention", list(ABSTENTION)),
    )
    for group, names in groups:
        for metric in names:
            va, vb = per_question(paired_a, metric), per_question(paired_b, metric)
            pairs = [(x, y) for x, y in zip(va, vb, strict=True) if x is not None and y is not None]
            if not pairs:
                continue
            xs, ys = [p[0] for p in pairs], [p[1] for p in pairs]
            stats = paired_bootstrap(xs, ys)
            result.deltas.append(
                MetricDelta(
                    group,
                    metric,
                    sum(xs) / len(xs),
                    sum(ys) / len(ys),
                    stats["delta"],
                    stats["ci95"],
                    stats["p_value"],
                    stats["n"],
                )
            )
    gold = [
        (a.get("gold_decision"), a.get("decision"), b.get("decision")) for a, b in zip(paired_a, paired_b, strict=True)
    ]
    labelled = [g for g in gold if g[0]]
    if labelled:
        xs = [float(g == pa) for g, pa, _ in labelled]
        ys = [float(g == pb) for g, _, pb in labelled]
        stats = paired_bootstrap(xs, ys)
        result.deltas.append(
            MetricDelta(
                "decision",
                "accuracy",
                sum(xs) / len(xs),
                sum(ys) / len(ys),
                stats["delta"],
                stats["ci95"],
                stats["p_value"],
                stats["n"],
            )
        )
    changes = []
    for a, b in zip(paired_a, paired_b, strict=True):
        diffs = {}
        for metric in CHANGE_METRICS:
            x, y = a["scores"].get(metric), b["scores"].get(metric)
            if x is not None and y is not None:
                diffs[metric] = y - x
        if diffs:
            size = max(abs(v) for v in diffs.values())
            changes.append(
                {
                    "id": a["id"],
                    "question": a["question"],
                    "change": diffs,
                    "size": size,
                    "answer_a": a.get("answer", ""),
                    "answer_b": b.get("answer", ""),
                }
            )
    changes.sort(key=lambda c: (-c["size"], c["id"]))
    result.changed = [c for c in changes[:top] if c["size"] > 0]
    return result
