"""Citation metrics of the draft, before verification cleaned it: they can fail where the answer's
own figures cannot (an invented dose and a fabricated marker are removed from the answer, so its
support is 1.0 by construction; the draft's is not)."""

from __future__ import annotations

import json

import pytest

from rag_oracle import RagOracle
from rag_oracle.evaluation.citation_metrics import citation_metrics, draft_citation_metrics
from rag_oracle.evaluation.runner import run_evaluation
from rag_oracle.generate.llm import LlmGenerator
from rag_oracle.testing import ScriptedChatModel
from rag_oracle.types import Answer, SentenceCheck

QUESTION = "How many days before surgery should warfarin be stopped?"


def _oracle(built_index, settings, *replies):
    s = settings.with_overrides({"answer": {"generator": "llm", "top_k": 4, "min_passage_similarity": -1.0}})
    model = ScriptedChatModel(list(replies))
    return RagOracle(built_index, s, generator=LlmGenerator(s.answer, s.llm, chat_model=model))


def _warfarin_number(built_index, settings) -> int:
    probe = _oracle(built_index, settings, "The passages do not answer this question.")
    shown = probe.ask(QUESTION).hits
    return next(i for i, h in enumerate(shown, 1) if "Stop warfarin 5 days" in h.chunk.text)


def test_an_invented_dose_and_a_fabricated_marker_lower_the_draft_figures(built_index, settings):
    n = _warfarin_number(built_index, settings)
    honest = f"## Answer\nStop warfarin 5 days before surgery [{n}].\n"
    made_up = (
        f"## Answer\nStop warfarin 5 days before surgery [{n}].\n"
        f"## Dosing and administration\n- Stop warfarin 9 days before surgery [{n}].\n"  # invented number
        f"- Check the INR the day before surgery [{n}, 17].\n"  # a marker naming no passage
    )
    clean = _oracle(built_index, settings, honest).ask(QUESTION)
    dirty = _oracle(built_index, settings, made_up).ask(QUESTION)
    good, bad = draft_citation_metrics(clean), draft_citation_metrics(dirty)
    assert good == {
        "draft_validity": 1.0,
        "draft_support": 1.0,
        "draft_numeric_support": 1.0,
        "removal_rate": 0.0,
        "invented_number_rate": 0.0,
    }
    # 3 sentences, 4 markers (one invalid); the "9 days" sentence removed; numbers: 5 days, 9 days
    assert bad["draft_validity"] == pytest.approx(3 / 4)
    assert bad["removal_rate"] == pytest.approx(1 / 3)
    assert bad["draft_support"] == pytest.approx(2 / 3)
    assert bad["draft_numeric_support"] == pytest.approx(1 / 2)
    assert bad["invented_number_rate"] == pytest.approx(1 / 2)
    # the answer a reader sees was cleaned: its own figures cannot tell the two drafts apart
    assert citation_metrics(dirty)["support"] == citation_metrics(clean)["support"] == 1.0


def test_hand_computed_values_from_verdicts():
    checks = [
        SentenceCheck(text="Give 5 mg daily.", section="dosing", status="supported", coverage=1.0, citations=[1]),
        SentenceCheck(
            text="Give 20 mg and 5 mg.",
            section="dosing",
            status="removed",
            coverage=1.0,
            unsupported_numbers=["20 mg"],
            citations=[1, 2],
        ),
        SentenceCheck(
            text="It helps in 3 days.",
            section="key_points",
            status="removed",
            coverage=0.0,
            invalid_markers=[9],
            citations=[9],
        ),
        SentenceCheck(text="No numbers here.", section="key_points", status="supported", coverage=1.0, citations=[2]),
    ]
    answer = Answer(question="q", abstained=False, verification=checks)
    got = draft_citation_metrics(answer)
    assert got["draft_validity"] == pytest.approx(4 / 5)  # 5 markers, [9] invalid
    assert got["draft_support"] == pytest.approx(2 / 4)
    assert got["removal_rate"] == pytest.approx(2 / 4)
    # numbers: 5 mg (ok); 20 mg (bad), 5 mg (ok); 3 days (no valid citation: bad) -> 2 of 4
    assert got["draft_numeric_support"] == pytest.approx(2 / 4)
    assert got["invented_number_rate"] == pytest.approx(2 / 3)  # 3 sentences state numbers, 2 invent one
    assert set(draft_citation_metrics(Answer(question="q", abstained=True)).values()) == {None}


def test_eval_run_reports_draft_and_answer_figures_side_by_side(built_index, settings, tmp_path):
    questions = tmp_path / "q.jsonl"
    questions.write_text(json.dumps({"id": "w", "question": QUESTION}) + "\n")
    result = run_evaluation(questions, built_index, tmp_path / "run", settings)
    citations = result.metrics["citations"]
    for key in ("support", "draft_support", "removal_rate", "invented_number_rate", "draft_validity"):
        assert key in citations and citations[key]["n"] + citations[key]["n_undefined"] == 1
