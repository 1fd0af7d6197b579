"""Follow-up chains: rewrites scored against the standalone question the clinician meant."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag_oracle.errors import QuestionFileError
from rag_oracle.evaluation.followups import evaluate_followups, load_chains, score_rewrite

REPO = Path(__file__).resolve().parents[2]


class Scripted:
    name = "scripted"

    def __init__(self, replies):
        self.replies = list(replies)
        self.seen = []

    def rewrite(self, history, message):
        self.seen.append([h.resolved for h in history])
        return self.replies.pop(0)


def test_scores_by_hand():
    expected = "What is the starting dose of escitalopram for major depression?"
    appended = "What is the starting dose of sertraline for major depression, and escitalopram?"
    assert score_rewrite(expected, expected) == {
        "subject_right": 1.0,
        "population_right": 1.0,
        "token_f1": 1.0,
        "fully_right": 1.0,
    }
    wrong = score_rewrite(appended, expected)  # the old drug kept beside the new one
    assert wrong["subject_right"] == 0.0 and wrong["fully_right"] == 0.0 and 0 < wrong["token_f1"] < 1
    older = score_rewrite(
        "What is the dose of sertraline in children?", "What is the dose of sertraline in older adults?"
    )
    assert older["subject_right"] == 1.0 and older["population_right"] == 0.0


def test_history_carries_the_rewritten_questions(tmp_path):
    chains = [
        {
            "id": "c",
            "turns": ["Dose of sertraline?", "And escitalopram?", "In older adults?"],
            "expected_standalone": [
                "Dose of sertraline?",
                "Dose of escitalopram?",
                "Dose of escitalopram in older adults?",
            ],
        }
    ]
    rewriter = Scripted(["Dose of escitalopram?", "Dose of sertraline in older adults?"])
    result = evaluate_followups(chains, rewriter)
    assert rewriter.seen == [["Dose of sertraline?"], ["Dose of sertraline?", "Dose of escitalopram?"]]
    assert [t["fully_right"] for t in result["turns"]] == [1.0, 0.0]
    assert result["metrics"]["subject_right"]["mean"] == pytest.approx(0.5)
    assert result["metrics"]["population_right"]["mean"] == pytest.approx(1.0)


def test_bad_chain_files_name_the_line(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_text(json.dumps({"id": "a", "turns": ["q1", "q2"], "expected_standalone": ["q1"]}) + "\n")
    with pytest.raises(QuestionFileError, match=r"c.jsonl:1: 2 turns but 1 expected"):
        load_chains(path)
    with pytest.raises(QuestionFileError, match="does not exist"):
        load_chains(tmp_path / "none.jsonl")


@pytest.mark.slow
def test_clinical_followups_hold_their_baseline(sample):
    """Every chain of followups.jsonl passes; the held-out chains (written without seeing the rules)
    hold their measured figures."""
    from rag_oracle.chat.rewrite import make_rewriter
    from rag_oracle.index.store import Index

    settings, index, _ = sample
    baseline = json.loads((REPO / "evals" / "clinical" / "baseline.json").read_text())
    rewriter = make_rewriter(settings, Index.open(index))
    tol = baseline["tolerance"]
    failures = []
    for key, name in (("followups", "followups.jsonl"), ("followups_heldout", "followups_heldout.jsonl")):
        result = evaluate_followups(load_chains(REPO / "evals" / "clinical" / name), rewriter)
        failures += [
            f"{key}.{metric}: {result['metrics'][metric]['mean']:.3f} < baseline {expected} - {tol}"
            for metric, expected in baseline[key].items()
            if result["metrics"][metric]["mean"] < expected - tol
        ]
        if key == "followups":
            failures += [
                f"{t['id']} turn {t['turn']}: {t['message']!r} -> {t['produced']!r} (meant: {t['expected']!r})"
                for t in result["turns"]
                if not t["fully_right"]
            ]
    assert not failures, "\n".join(failures)
