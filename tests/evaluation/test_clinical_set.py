"""The clinician regression set (evals/clinical/): well-formed, ids resolvable, and holding its baseline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag_oracle.evaluation.questions import load_questions

REPO = Path(__file__).resolve().parents[2]
CLINICAL = REPO / "evals" / "clinical"


def test_clinical_questions_are_well_formed_and_ids_exist(settings) -> None:
    from rag_oracle.api import ensure_sample_index
    from rag_oracle.index.store import Index

    questions = load_questions(CLINICAL / "questions.jsonl")
    assert len(questions) >= 60
    assert len({q.id for q in questions}) == len(questions)
    assert sum(not q.answerable for q in questions) >= 15
    assert sum(q.decision is not None for q in questions) >= 8
    for q in questions:
        assert q.must_include or not q.answerable, f"{q.id}: answerable question without must_include"
        assert q.relevant_ids or not q.answerable, f"{q.id}: answerable question without relevant_ids"
        assert q.reference_answer, f"{q.id}: no reference answer"
    path, _ = ensure_sample_index(settings, corpus_dir=REPO / "corpus")
    index = Index.open(path)
    known = set(index.documents) | set(index.aliases)
    missing = sorted({(q.id, r) for q in questions for r in q.relevant_ids if r not in known})
    assert not missing, f"relevant_ids not in the sample index: {missing}"


def test_clinical_followups_parse() -> None:
    chains = [json.loads(line) for line in (CLINICAL / "followups.jsonl").read_text().splitlines() if line.strip()]
    assert len(chains) >= 10
    assert len({c["id"] for c in chains}) == len(chains)
    for chain in chains:
        assert set(chain) == {"id", "turns", "expected_standalone"}, chain["id"]
        assert len(chain["turns"]) >= 2, chain["id"]
        assert len(chain["turns"]) == len(chain["expected_standalone"]), chain["id"]
        assert all(isinstance(t, str) and t.strip() for t in chain["turns"] + chain["expected_standalone"])
        assert chain["turns"][0] == chain["expected_standalone"][0], chain["id"]


@pytest.mark.slow
def test_clinical_set_holds_its_baseline(sample, tmp_path: Path) -> None:
    from rag_oracle.evaluation.runner import run_evaluation

    settings, index, _ = sample
    baseline = json.loads((CLINICAL / "baseline.json").read_text())
    result = run_evaluation(CLINICAL / "questions.jsonl", index, tmp_path / "run", settings)
    assert result.metrics["counts"]["errors"] == 0
    tol = baseline["tolerance"]
    failures = []
    for key, expected in baseline["metrics"].items():
        group, metric = key.split(".", 1)
        actual = result.metrics[group][metric]["mean"]
        if actual is None or actual < expected - tol:
            failures.append(f"{key}: {actual} < baseline {expected} - {tol}")
    for key, expected in baseline["max_metrics"].items():
        group, metric = key.split(".", 1)
        actual = result.metrics[group][metric]["mean"]
        if actual is None or actual > expected + tol:
            failures.append(f"{key}: {actual} > recorded {expected} + {tol}")
    # The bars hold absolutely, whatever the recorded figures (evals/clinical/baseline.json "targets").
    for key, (op, bar) in baseline["targets"].items():
        group, metric = key.split(".", 1)
        actual = result.metrics[group][metric]["mean"]
        if actual is None or (op == ">=" and actual < bar) or (op == "<=" and actual > bar):
            failures.append(f"{key}: {actual} does not meet the target {op} {bar}")
    # Conflicts: only the real disagreements listed in the baseline may be flagged (no false ones).
    predictions = [json.loads(line) for line in (tmp_path / "run" / "predictions.jsonl").read_text().splitlines()]
    flagged = {c["quantity"] for p in predictions for c in p.get("conflicts", [])}
    unexpected = flagged - set(baseline["allowed_conflicts"])
    if unexpected:
        failures.append(f"conflicts flagged that are not real disagreements: {sorted(unexpected)}")
    if not flagged & set(baseline["allowed_conflicts"]):
        failures.append("the real clonazepam 0.5 to 1 vs 0.5 to 2 mg/day disagreement is no longer flagged")
    assert not failures, "regression against evals/clinical/baseline.json:\n" + "\n".join(failures)
