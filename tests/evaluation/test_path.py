"""One question path: `eval run` answers exactly what `ask` (the CLI and the Python API) answers.

Before the pipeline was unified, the evaluation searched 300 chunks and gave the generator the
first 10, while `ask` read a pool of 24 and decided only yes/no questions; on a synthetic index
2 of 40 questions got a different answer. These tests compare the two paths question by
question, on answers, reference lists and decisions.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag_oracle import RagOracle
from rag_oracle.evaluation.runner import run_evaluation

QUESTIONS = [
    "How many days before surgery should warfarin be stopped?",
    "Should warfarin be bridged with heparin?",
    "What is the starting dose of clonazepam for panic disorder?",
    "Is clonazepam approved for depression?",
    "How should clonazepam be tapered?",
    "What dose of sertraline is used for depression?",
    "How long should amoxicillin be given for sinusitis?",
    "Is watchful waiting reasonable for acute sinusitis?",
    "What platelet count defines thrombocytopenia?",
    "How is pseudothrombocytopenia excluded?",
    "Does heparin cause thrombocytopenia?",
    "When should the INR be checked before surgery?",
    "Which patients need bridging anticoagulation?",
    "Which gluon lattice yields quantum chromodynamics confinement?",
    "How are platelet counts compared in the heparin study?",
    "When can warfarin be resumed after surgery?",
    "What is the dose increase step for sertraline?",
    "Can amoxicillin be used for viral sinusitis?",
    "What is the maximum clonazepam dose per day for panic disorder?",
    "Are benzodiazepines first line for depression?",
]


def _write_questions(path: Path, questions: list[str]) -> Path:
    with open(path, "w", encoding="utf-8") as fh:
        for i, q in enumerate(questions):
            fh.write(
                json.dumps({"id": f"q{i}", "question": q, "decision": "yes" if q.startswith("Is") else None}) + "\n"
            )
    return path


def _compare(oracle: RagOracle, predictions: list[dict], questions: list[str]) -> list[str]:
    differences = []
    for question, prediction in zip(questions, predictions, strict=True):
        answer = oracle.ask(question)
        mine = {
            "answer": answer.text,
            "abstained": answer.abstained,
            "decision": answer.decision,
            "references": [(r.number, r.chunk_id) for r in answer.references],
        }
        theirs = {
            "answer": prediction["answer"],
            "abstained": prediction["abstained"],
            "decision": prediction["decision"],
            "references": [(c["number"], c["chunk_id"]) for c in prediction["citations"]],
        }
        if mine != theirs:
            differences.append(f"{question!r}: ask {mine} != eval {theirs}")
    return differences


def test_eval_run_and_ask_give_identical_answers(built_index, settings, tmp_path):
    questions_file = _write_questions(tmp_path / "questions.jsonl", QUESTIONS)
    result = run_evaluation(questions_file, built_index, tmp_path / "run", settings)
    assert result.metrics["counts"]["errors"] == 0
    oracle = RagOracle(built_index, settings)
    differences = _compare(oracle, result.predictions, QUESTIONS)
    assert not differences, "\n".join(differences)
    # the set exercises both outcomes, so the comparison is not vacuous
    assert any(p["abstained"] for p in result.predictions)
    assert sum(not p["abstained"] for p in result.predictions) >= 10


def test_eval_run_and_ask_agree_with_per_run_settings(built_index, settings, tmp_path):
    """The same holds when the run uses settings other than the defaults (a flag passed to both)."""
    changed = settings.with_overrides({"retrieve": {"mode": "bm25"}, "answer": {"unsupported_policy": "flag"}})
    questions = QUESTIONS[:8]
    questions_file = _write_questions(tmp_path / "questions.jsonl", questions)
    result = run_evaluation(questions_file, built_index, tmp_path / "run", changed)
    differences = _compare(RagOracle(built_index, changed), result.predictions, questions)
    assert not differences, "\n".join(differences)


def test_the_comparison_sees_a_different_path(built_index, settings, tmp_path):
    """The check can fail: an evaluation that reads fewer passages than `ask` (as the old runner
    read another pool) is reported question by question."""
    narrower = settings.with_overrides({"answer": {"top_k": 2}})
    questions_file = _write_questions(tmp_path / "questions.jsonl", QUESTIONS)
    result = run_evaluation(questions_file, built_index, tmp_path / "run", narrower)
    assert _compare(RagOracle(built_index, settings), result.predictions, QUESTIONS)


@pytest.mark.slow
def test_sample_regression_questions_take_the_ask_path(sample, tmp_path):
    """On the shipped sample corpus with the real embedder, every regression question agrees."""
    settings, index, _ = sample
    repo = Path(__file__).resolve().parents[2]
    questions_file = repo / "evals" / "sample" / "questions.jsonl"
    questions = [json.loads(line)["question"] for line in questions_file.read_text().splitlines() if line.strip()]
    result = run_evaluation(questions_file, index, tmp_path / "run", settings)
    differences = _compare(RagOracle(index, settings), result.predictions, questions)
    assert not differences, "\n".join(differences)
