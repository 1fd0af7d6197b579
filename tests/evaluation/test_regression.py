"""The sample regression set must not get worse: metrics stay within tolerance of evals/sample/baseline.json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag_oracle.evaluation.runner import run_evaluation

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def test_sample_regression_set_holds_its_baseline(sample, tmp_path: Path) -> None:
    settings, index, _ = sample
    baseline = json.loads((REPO / "evals" / "sample" / "baseline.json").read_text())
    result = run_evaluation(REPO / "evals" / "sample" / "questions.jsonl", index, tmp_path / "run", settings)
    assert result.metrics["counts"]["errors"] == 0
    failures = []
    for key, expected in baseline["metrics"].items():
        group, metric = key.split(".", 1)
        actual = result.metrics[group][metric]["mean"]
        if actual is None or actual < expected - baseline["tolerance"]:
            failures.append(f"{key}: {actual} < baseline {expected} - {baseline['tolerance']}")
    assert not failures, "regression against evals/sample/baseline.json:\n" + "\n".join(failures)
    assert result.metrics["counts"]["abstained"] <= baseline["max_abstained"]
    # the out-of-scope question must be declined
    off = next(p for p in result.predictions if p["id"] == "off-topic")
    assert off["abstained"]
