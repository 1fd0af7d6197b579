"""Which questions get a yes/no decision: the auxiliary may follow a title-style lead-in."""

from __future__ import annotations

import pytest

from rag_oracle.answer.decision import is_yes_no_question


@pytest.mark.parametrize(
    "question",
    [
        "Is clonazepam approved for depression?",
        "Should warfarin be bridged with heparin?",
        "Biliary atresia: should all patients undergo a portoenterostomy?",
        "Metered-dose inhalers. Do health care providers know what to teach?",
        "Warfarin before surgery - is bridging needed?",
    ],
)
def test_yes_no_questions(question: str) -> None:
    assert is_yes_no_question(question)


@pytest.mark.parametrize(
    "question",
    [
        "What is the dosage of clonazepam for treating depression?",
        "How many days before surgery should warfarin be stopped?",
        "Isoniazid dosing in renal failure?",  # "Is" inside a word is not an auxiliary
        "Storage of vaccines in the community: weak link in the cold chain?",  # no auxiliary at all
        "Clonazepam: is it approved for depression",  # a lead-in form needs the question mark
    ],
)
def test_other_questions(question: str) -> None:
    assert not is_yes_no_question(question)
