"""Follow-up rewriting: the rule-based method, and the LLM rewriter with a scripted model."""

from __future__ import annotations

import pytest

from rag_oracle.chat import Exchange, LlmRewriter, SubjectCarryRewriter, make_rewriter
from rag_oracle.settings import Settings
from rag_oracle.testing import ScriptedChatModel
from rag_oracle.text.analyzer import UniformStatistics

# Chunks containing each stemmed word: clonazepam is the most specific word of the first question.
FREQUENCIES = {"clonazepam": 3, "depress": 9, "elder": 4, "sertralin": 2, "warfarin": 2, "bridg": 1, "side": 5}


class Frequencies:
    """Term statistics from the table above (what an index would say)."""

    def document_frequency(self, term: str) -> int:
        return FREQUENCIES.get(term, 0)


FIRST = Exchange(
    question="What is the dose of clonazepam for depression?",
    standalone="What is the dose of clonazepam for depression?",
)


@pytest.fixture
def rewriter() -> SubjectCarryRewriter:
    return SubjectCarryRewriter(Frequencies())


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("and in the elderly?", "What is the dose of clonazepam for depression in the elderly?"),
        ("In pregnancy?", "What is the dose of clonazepam for depression in pregnancy?"),
        ("what about in the elderly?", "What is the dose of clonazepam for depression in the elderly?"),
        (
            "what if the patient is pregnant?",
            "What is the dose of clonazepam for depression if the patient is pregnant?",
        ),
        ("and children?", "What is the dose of clonazepam for depression, and children?"),
        ("Is it safe in pregnancy?", "Is clonazepam safe in pregnancy?"),
        ("And what are its side effects?", "What are clonazepam's side effects?"),
        ("How should this drug be stopped?", "How should clonazepam be stopped?"),
        ("Interactions?", "What is the dose of clonazepam for depression, and interactions?"),
    ],
)
def test_elliptical_follow_ups_carry_the_subject(rewriter: SubjectCarryRewriter, message: str, expected: str) -> None:
    assert rewriter.rewrite([FIRST], message) == expected


@pytest.mark.parametrize(
    "message",
    [
        "What is the usual dose of sertraline?",
        "And how long should warfarin be stopped before surgery?",
        "Is clonazepam safe in pregnancy?",  # names the subject itself
        "Warfarin bridging?",  # short, but names something more specific than the carried subject
    ],
)
def test_self_contained_follow_ups_are_unchanged(rewriter: SubjectCarryRewriter, message: str) -> None:
    assert rewriter.rewrite([FIRST], message) == message


def test_first_message_and_unknown_subject_are_unchanged(rewriter: SubjectCarryRewriter) -> None:
    assert rewriter.rewrite([], "and in the elderly?") == "and in the elderly?"
    # no word of the earlier question occurs in the index: there is nothing to carry over
    assert rewriter.rewrite([Exchange(question="Tell me about zzz?")], "and in the elderly?") == "and in the elderly?"


def test_chains_resolve_from_raw_questions(rewriter: SubjectCarryRewriter) -> None:
    # An OpenAI-style history has no standalone questions: earlier turns are resolved first.
    history = [Exchange(question=FIRST.question), Exchange(question="and in the elderly?")]
    assert rewriter.rewrite(history, "Is it safe?") == "Is clonazepam safe?"
    assert rewriter.rewrite(history, "and with alcohol?") == (
        "What is the dose of clonazepam for depression in the elderly with alcohol?"
    )


def test_llm_rewriter_uses_the_model_and_falls_back(settings: Settings, rewriter: SubjectCarryRewriter) -> None:
    model = ScriptedChatModel(['"What is the dose of clonazepam in older adults?"\n', "  \n"])
    llm = LlmRewriter(settings.llm, fallback=rewriter, chat_model=model)
    assert llm.prompt.ref == "rewrite@1"
    assert llm.rewrite([FIRST], "and in older adults?") == "What is the dose of clonazepam in older adults?"
    sent = model.history[0][-1].content  # the conversation and the follow-up reach the model
    assert f"User: {FIRST.question}" in sent and "and in older adults?" in sent
    # an empty reply falls back to the rules
    assert llm.rewrite([FIRST], "and in the elderly?") == (
        "What is the dose of clonazepam for depression in the elderly?"
    )
    assert llm.rewrite([], "a first question?") == "a first question?"  # no model call without history
    assert len(model.history) == 2


def test_make_rewriter_follows_the_generator(settings: Settings) -> None:
    assert make_rewriter(settings, UniformStatistics()).name == "subject-carry"
    llm_settings = settings.with_overrides({"answer": {"generator": "llm"}})
    assert make_rewriter(llm_settings, UniformStatistics()).name == "llm"
