"""Nugget scoring and abstention as measured behaviours, against hand-computed values."""

from __future__ import annotations

import json

import pytest

from rag_oracle.errors import QuestionFileError
from rag_oracle.evaluation.nuggets import normalise, nugget_scores, states
from rag_oracle.evaluation.questions import load_questions
from rag_oracle.evaluation.runner import run_evaluation

ANSWER = "For panic disorder start clonazepam 0.25 mg twice daily [1]; increase to 1 mg/day after 3 days [1]."


def test_phrases_match_after_normalising_and_patterns_as_regexes():
    assert normalise("0.5\u2013 1  MG") == "0.5- 1 mg"
    assert states(ANSWER, "0.25 MG twice daily")
    assert states(ANSWER, "re:0\\.25\\s*mg")
    assert not states(ANSWER, "25 mg once daily")
    assert not states(ANSWER, "re:sertraline")


def test_scores_by_hand():
    got = nugget_scores(ANSWER, False, ["0.25 mg twice daily", "1 mg/day", "taper"], ["sertraline", "25 mg once"])
    assert got == {"nugget_recall": pytest.approx(2 / 3), "forbidden": 0.0, "fully_right": 0.0}
    wrong = nugget_scores("Start sertraline 25 mg once daily.", False, ["0.25 mg"], ["sertraline"])
    assert wrong == {"nugget_recall": 0.0, "forbidden": 1.0, "fully_right": 0.0}
    right = nugget_scores(ANSWER, False, ["0.25 mg", "1 mg/day"], ["sertraline"])
    assert right["fully_right"] == 1.0
    # an abstention states nothing
    assert nugget_scores(ANSWER, True, ["0.25 mg"], [])["nugget_recall"] == 0.0
    # unanswerable: right only when declined, and recall is not defined
    assert nugget_scores("", True, [], ["25 mg"], answerable=False) == {
        "nugget_recall": None,
        "forbidden": 0.0,
        "fully_right": 1.0,
    }
    assert nugget_scores("Start at 25 mg/day.", False, [], ["25 mg"], answerable=False)["fully_right"] == 0.0
    assert nugget_scores(ANSWER, False, [], []) == {"nugget_recall": None, "forbidden": None, "fully_right": None}


def test_bad_nuggets_are_refused_with_the_line(tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_text(json.dumps({"id": "a", "question": "q?", "must_include": ["re:(unclosed"]}) + "\n")
    with pytest.raises(QuestionFileError, match=r"q.jsonl:1: .*not a valid regular expression"):
        load_questions(path)
    path.write_text(json.dumps({"id": "a", "question": "q?", "must_not_include": "sertraline"}) + "\n")
    with pytest.raises(QuestionFileError, match="must be a list"):
        load_questions(path)


def test_run_reports_nuggets_and_abstention(built_index, settings, tmp_path):
    questions = [
        {
            "id": "warfarin",
            "question": "How many days before surgery should warfarin be stopped?",
            "must_include": ["5 days"],
            "must_not_include": ["re:\\b10 days"],
        },
        {
            "id": "sertraline",
            "question": "What dose of sertraline is used for depression?",
            "must_include": ["50 mg", "re:200\\s*mg"],  # the second is not in the corpus: recall 1/2
        },
        {
            "id": "gluon",
            "question": "Which gluon lattice yields quantum chromodynamics confinement?",
            "answerable": False,
            "must_not_include": ["mg"],
        },
        {"id": "plain", "question": "Is a low platelet count below 150 thrombocytopenia?"},
    ]
    path = tmp_path / "q.jsonl"
    path.write_text("".join(json.dumps(q) + "\n" for q in questions))
    result = run_evaluation(path, built_index, tmp_path / "run", settings)
    by_id = {p["id"]: p["scores"] for p in result.predictions}
    assert by_id["warfarin"]["nugget_recall"] == 1.0 and by_id["warfarin"]["fully_right"] == 1.0
    assert by_id["sertraline"]["nugget_recall"] == 0.5 and by_id["sertraline"]["fully_right"] == 0.0
    assert by_id["gluon"]["declined_unanswerable"] == 1.0 and by_id["gluon"]["fully_right"] == 1.0
    m = result.metrics
    assert m["nuggets"]["nugget_recall"]["mean"] == pytest.approx(0.75) and m["nuggets"]["nugget_recall"]["n"] == 2
    assert m["nuggets"]["fully_right"]["mean"] == pytest.approx(2 / 3)
    assert m["nuggets"]["forbidden_rate"]["mean"] == 0.0 and m["nuggets"]["forbidden_rate"]["n"] == 2
    assert m["abstention"]["abstention_recall"] == {**m["abstention"]["abstention_recall"], "mean": 1.0, "n": 1}
    assert m["abstention"]["answer_rate"]["mean"] == 1.0 and m["abstention"]["answer_rate"]["n"] == 3
