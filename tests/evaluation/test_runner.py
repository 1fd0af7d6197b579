"""Runs: outputs, resume after a kill, one failing question, comparison and the HTML report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag_oracle.evaluation import runner
from rag_oracle.evaluation.compare import compare_runs
from rag_oracle.evaluation.report import write_report
from rag_oracle.evaluation.runner import RunConfigMismatchError, run_evaluation

QUESTIONS = [
    {
        "id": "warfarin",
        "question": "How many days before surgery should warfarin be stopped?",
        "reference_answer": "Stop warfarin 5 days before surgery.",
        "relevant_ids": ["test:warfarin-guide", "pmid:800000101"],
    },
    {
        "id": "sertraline",
        "question": "What dose of sertraline is used for depression?",
        "reference_answer": "Sertraline is started at 50 mg daily.",
        "relevant_ids": ["doc-sertraline"],
    },
    {
        "id": "amox",
        "question": "Is amoxicillin first line for bacterial sinusitis?",
        "reference_answer": "Yes, amoxicillin is first line.",
        "relevant_ids": ["doc-amox"],
        "decision": "yes",
    },
    {
        "id": "platelets",
        "question": "What platelet count defines thrombocytopenia?",
        "reference_answer": "Below 150 x 10^9/L.",
        "relevant_ids": ["doc-platelets"],
    },
    {
        "id": "offtopic",
        "question": "Which gluon lattice yields quantum chromodynamics confinement?",
        "reference_answer": "",
        "relevant_ids": [],
    },
]


@pytest.fixture
def questions_file(tmp_path: Path) -> Path:
    path = tmp_path / "questions.jsonl"
    path.write_text("".join(json.dumps(q) + "\n" for q in QUESTIONS))
    return path


def test_run_writes_predictions_metrics_and_manifest(
    built_index: Path, questions_file: Path, settings, tmp_path: Path
) -> None:
    result = run_evaluation(questions_file, built_index, tmp_path / "run", settings)
    out = tmp_path / "run"
    preds = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    assert [p["id"] for p in preds] == [q["id"] for q in QUESTIONS]
    p = preds[0]
    assert {"answer", "citations", "retrieved_documents", "retrieved_chunks", "latency_ms", "decision"} <= set(p)
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics["retrieval"]) == {"ndcg@10", "recall@10", "recall@100", "mrr@10"}
    assert set(metrics["answer"]) == {
        "rouge1",
        "rouge2",
        "rougeL",
        "token_f1",
        "semantic_similarity",
        "rougeL_direct",
        "token_f1_direct",
        "rougeL_lead",
        "token_f1_lead",
    }
    assert set(metrics["citations"]) == {
        "validity",
        "sentence_coverage",
        "support",
        "numeric_support",
        "abstention_rate",
        "draft_validity",
        "draft_support",
        "draft_numeric_support",
        "removal_rate",
        "invented_number_rate",
    }
    assert set(metrics["nuggets"]) == {"nugget_recall", "forbidden_rate", "fully_right"}
    assert set(metrics["abstention"]) == {"abstention_recall", "answer_rate"}
    assert set(metrics["decision"]) == {"accuracy", "macro_f1", "decided"}
    assert metrics["retrieval"]["recall@10"]["n"] == 4  # the off-topic question has no relevant ids
    assert metrics["retrieval"]["ndcg@10"]["ci95"][0] <= metrics["retrieval"]["ndcg@10"]["mean"]
    assert metrics["latency"]["total"]["p50"] > 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["identity"]["dataset"]["sha256"]
    assert manifest["identity"]["generator"] == {"name": "extractive", "version": "2"}
    assert manifest["identity"]["settings"]["retrieve"]["mode"] == "hybrid"
    assert "git" in manifest and "package_versions" in manifest
    assert result.resumed == 0


def test_killed_run_resumes_where_it_stopped(
    built_index: Path, questions_file: Path, settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = runner._predict
    calls = {"n": 0}

    def dies_after_two(oracle, q):
        if calls["n"] == 2:
            raise KeyboardInterrupt  # the user pressed Ctrl-C, or the machine went down
        calls["n"] += 1
        return real(oracle, q)

    monkeypatch.setattr(runner, "_predict", dies_after_two)
    with pytest.raises(KeyboardInterrupt):
        run_evaluation(questions_file, built_index, tmp_path / "run", settings)
    pred_file = tmp_path / "run" / "predictions.jsonl"
    assert len(pred_file.read_text().splitlines()) == 2
    with open(pred_file, "a") as fh:
        fh.write('{"id": "torn-li')  # died in the middle of writing a line
    monkeypatch.setattr(runner, "_predict", real)
    result = run_evaluation(questions_file, built_index, tmp_path / "run", settings)
    assert result.resumed == 2
    assert [p["id"] for p in result.predictions] == [q["id"] for q in QUESTIONS]
    assert len(pred_file.read_text().splitlines()) == len(QUESTIONS)


def test_resuming_with_other_settings_is_refused(
    built_index: Path, questions_file: Path, settings, tmp_path: Path
) -> None:
    run_evaluation(questions_file, built_index, tmp_path / "run", settings, limit=1)
    with pytest.raises(RunConfigMismatchError, match="settings"):
        run_evaluation(
            questions_file,
            built_index,
            tmp_path / "run",
            settings.with_overrides({"retrieve": {"mode": "bm25"}}),
            limit=1,
        )


def test_a_failing_question_is_recorded_and_the_run_goes_on(
    built_index: Path, questions_file: Path, settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rag_oracle.generate.extractive import ExtractiveGenerator

    real = ExtractiveGenerator.draft

    def flaky(self, question, passages, on_token=None):
        if "sertraline" in question:
            raise RuntimeError("generator exploded")
        return real(self, question, passages, on_token)

    monkeypatch.setattr(ExtractiveGenerator, "draft", flaky)
    result = run_evaluation(questions_file, built_index, tmp_path / "run", settings)
    failed = [p for p in result.predictions if "error" in p]
    assert [p["id"] for p in failed] == ["sertraline"] and "generator exploded" in failed[0]["error"]
    assert result.metrics["counts"]["errors"] == 1 and result.metrics["counts"]["questions"] == 5


def test_parallel_run_matches_serial(built_index: Path, questions_file: Path, settings, tmp_path: Path) -> None:
    serial = run_evaluation(questions_file, built_index, tmp_path / "a", settings)
    parallel = run_evaluation(questions_file, built_index, tmp_path / "b", settings, workers=2)
    assert [p["answer"] for p in serial.predictions] == [p["answer"] for p in parallel.predictions]


def test_compare_and_report(built_index: Path, questions_file: Path, settings, tmp_path: Path) -> None:
    run_evaluation(questions_file, built_index, tmp_path / "hybrid", settings)
    run_evaluation(
        questions_file, built_index, tmp_path / "bm25", settings.with_overrides({"retrieve": {"mode": "bm25"}})
    )
    comparison = compare_runs(str(tmp_path / "hybrid"), str(tmp_path / "bm25"))
    assert comparison.paired_questions == 5
    names = {(d.group, d.metric) for d in comparison.deltas}
    assert ("retrieval", "ndcg@10") in names and ("answer", "rougeL") in names and ("decision", "accuracy") in names
    same = compare_runs(str(tmp_path / "hybrid"), str(tmp_path / "hybrid"))
    assert all(d.delta == 0 and not d.significant for d in same.deltas) and same.changed == []

    html = write_report([str(tmp_path / "hybrid"), str(tmp_path / "bm25")], tmp_path / "report.html").read_text()
    assert html.count("<svg") >= 2
    assert "How many days before surgery should warfarin be stopped?" in html
    assert "Stop warfarin 5 days before surgery." in html  # the reference answer
    assert 'src="http' not in html and 'href="http' not in html and "<link" not in html


def test_report_of_a_missing_run(tmp_path: Path) -> None:
    with pytest.raises(RunConfigMismatchError, match="not a finished run"):
        write_report([str(tmp_path / "nothing")], tmp_path / "r.html")


def test_warm_up_question_is_reported_apart_from_the_latency_percentiles(
    built_index: Path, questions_file: Path, settings, tmp_path: Path
) -> None:
    result = run_evaluation(questions_file, built_index, tmp_path / "run", settings)
    marked = [p["id"] for p in result.predictions if p.get("warm_up")]
    assert marked == [result.predictions[0]["id"]]
    total = result.metrics["latency"]["total"]
    assert total["n"] == len(result.predictions) - 1
    assert total["warm_up"] == [result.predictions[0]["latency_ms"]["total"]]
