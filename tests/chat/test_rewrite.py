"""Follow-up rewriting: the rule-based method, and the LLM rewriter with a scripted model."""

from __future__ import annotations

import re

import pytest

from rag_oracle.chat import Exchange, LlmRewriter, TurnRewriter, make_rewriter
from rag_oracle.settings import Settings
from rag_oracle.testing import ScriptedChatModel
from rag_oracle.text.analyzer import UniformStatistics

# Chunks containing each stemmed word: clonazepam is the most specific word of the first question.
FREQUENCIES = {"clonazepam": 3, "depress": 9, "elder": 4, "sertralin": 2, "warfarin": 2, "bridg": 1, "side": 5}


class Frequencies:
    """Term statistics from the table above (what an index would say)."""

    def document_frequency(self, term: str) -> int:
        return 0 if term.startswith("zzz") else FREQUENCIES.get(term, 1)  # "zzz...": a word no chunk holds


FIRST = Exchange(
    question="What is the dose of clonazepam for depression?",
    standalone="What is the dose of clonazepam for depression?",
)


@pytest.fixture
def rewriter() -> TurnRewriter:
    return TurnRewriter(Frequencies())


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
        ("and children?", "What is the dose of clonazepam for depression in children?"),
        # a new drug replaces the old one; it is never kept beside it
        ("what about sertraline?", "What is the dose of sertraline for depression?"),
        ("and sertraline for anxiety?", "What is the dose of sertraline for anxiety?"),
        ("Is it safe in pregnancy?", "Is clonazepam safe for depression in pregnancy?"),
        ("And what are its side effects?", "What are the side effects of clonazepam for depression?"),
        ("How should this drug be stopped?", "How should clonazepam be stopped for depression?"),
        ("Interactions?", "What are the interactions of clonazepam?"),
        ("What is the maximum?", "What is the maximum dose of clonazepam for depression?"),
        ("Can I give sertraline in pregnancy?", "Can I give sertraline for depression in pregnancy?"),
        ("and with alcohol?", "What is the dose of clonazepam for depression with alcohol?"),
    ],
)
def test_follow_ups_become_standalone_questions(rewriter: TurnRewriter, message: str, expected: str) -> None:
    assert rewriter.rewrite([FIRST], message) == expected


@pytest.mark.parametrize(
    "message",
    [
        "What is the usual dose of sertraline?",
        "And how long should warfarin be stopped before surgery?",
        "Is clonazepam safe in pregnancy?",  # names the subject itself
        "Warfarin bridging?",  # a new drug and a topic of its own
    ],
)
def test_self_contained_follow_ups_are_unchanged(rewriter: TurnRewriter, message: str) -> None:
    assert rewriter.rewrite([FIRST], message) == message


def _chain(rewriter: TurnRewriter, *turns: str) -> list[str]:
    history: list[Exchange] = []
    for message in turns:
        standalone = rewriter.rewrite(history, message) if history else message
        history.append(Exchange(question=message, standalone=standalone))
    return [h.standalone or "" for h in history[1:]]


def test_the_issue_follow_ups(rewriter: TurnRewriter) -> None:
    # each of these was appended to, stemmed, or lost its context before (issue 12)
    assert _chain(rewriter, "How long should apixaban be held before surgery?", "and for dabigatran?") == [
        "How long should dabigatran be held before surgery?"
    ]
    assert _chain(rewriter, "What is the blood pressure target for older adults?", "how should I measure it?") == [
        "How should I measure blood pressure for older adults?"
    ]
    nursing = _chain(
        rewriter,
        "What is the blood pressure target for older adults?",
        "What about in nursing-home residents?",
        "how should I measure it?",
    )
    assert nursing[-1] == "How should I measure blood pressure for older adults in nursing-home residents?"
    assert _chain(rewriter, "Which antibiotic is first line for acute sinusitis in adults?", "and in children?") == [
        "Which antibiotic is first line for acute sinusitis in children?"
    ]
    assert _chain(rewriter, "Best treatment for insomnia in older adults?", "is lorazepam safe for them?") == [
        "Is lorazepam safe for insomnia in older adults?"
    ]
    assert _chain(rewriter, "What is the starting dose of clonazepam for panic disorder?", "Interactions?") == [
        "What are the interactions of clonazepam?"
    ]
    assert _chain(rewriter, "What dose of amoxicillin is used for sinusitis in children?", "how long?") == [
        "How long should amoxicillin be given for sinusitis in children?"
    ]
    assert _chain(rewriter, "How long should apixaban be held before surgery?", "when can I restart it?") == [
        "When can apixaban be restarted after surgery?"
    ]
    assert _chain(rewriter, "How long should apixaban be held before surgery?", "can I give warfarin?") == [
        "Can I give warfarin before surgery?"
    ]


def test_a_new_population_replaces_the_old_one_of_its_kind(rewriter: TurnRewriter) -> None:
    bp = _chain(
        rewriter,
        "What is the blood pressure target for most adults with hypertension?",
        "And for adults aged 65 and older?",
        "What about frail older adults?",
    )
    assert bp == [
        "What is the blood pressure target for adults aged 65 and older with hypertension?",
        "What is the blood pressure target for frail older adults with hypertension?",
    ]
    # an age group and a special population are both kept: renal impairment does not replace older adults
    renal = _chain(rewriter, "What is the dose of apixaban in older adults?", "and with renal impairment?")
    assert renal == ["What is the dose of apixaban in older adults with renal impairment?"]


def test_a_quantity_asked_about_again_and_a_switch(rewriter: TurnRewriter) -> None:
    assert _chain(rewriter, "What is the maximum dose of citalopram?", "Is it different for patients over 60?") == [
        "Is the maximum dose of citalopram different for patients over 60?"
    ]
    switch = _chain(
        rewriter,
        "What is the usual oral dose of lorazepam for anxiety?",
        "What is the equivalent dose of diazepam?",
        "How would I switch?",
    )
    assert switch[-1] == "How would I switch from lorazepam to diazepam for anxiety?"


def test_nothing_is_rewritten_to_a_stem(rewriter: TurnRewriter) -> None:
    """Every word of a rewrite is a word of the previous question, of the message, or of a template."""
    template_words = set(
        "what is the are of how long should be given held restarted after when can which preferred maximum starting "
        "dose interactions side effects risks monitoring needed for tapered about in if to from with".split()
    )
    previous = [
        "What is the blood pressure target for older adults?",
        "How long should apixaban be held before surgery?",
        "What is the starting dose of clonazepam for panic disorder?",
    ]
    messages = ["how should I measure it?", "and for dabigatran?", "Interactions?", "and in children?", "how long?"]
    for question in previous:
        for message in messages:
            out = rewriter.rewrite([Exchange(question=question, standalone=question)], message)
            allowed = {w.lower() for w in re.findall(r"[A-Za-z0-9-]+", question + " " + message)} | template_words
            words = {w.lower() for w in re.findall(r"[A-Za-z0-9-]+", out)}
            assert words <= allowed, (question, message, out, words - allowed)


def test_first_message_and_unknown_subject_are_unchanged(rewriter: TurnRewriter) -> None:
    assert rewriter.rewrite([], "and in the elderly?") == "and in the elderly?"
    # no word of the earlier question occurs in the index: there is nothing to carry over
    assert rewriter.rewrite([Exchange(question="Tell me about zzz?")], "and in the elderly?") == "and in the elderly?"


def test_chains_resolve_from_raw_questions(rewriter: TurnRewriter) -> None:
    # An OpenAI-style history has no standalone questions: earlier turns are resolved first.
    history = [Exchange(question=FIRST.question), Exchange(question="and in the elderly?")]
    assert rewriter.rewrite(history, "Is it safe?") == "Is clonazepam safe for depression in the elderly?"
    assert rewriter.rewrite(history, "and with alcohol?") == (
        "What is the dose of clonazepam for depression in the elderly with alcohol?"
    )


def test_llm_rewriter_uses_the_model_and_falls_back(settings: Settings, rewriter: TurnRewriter) -> None:
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
    assert make_rewriter(settings, UniformStatistics()).name == "turn-rules"
    llm_settings = settings.with_overrides({"answer": {"generator": "llm"}})
    assert make_rewriter(llm_settings, UniformStatistics()).name == "llm"


def test_the_patient_the_alternative_and_a_taper_s_length(rewriter: TurnRewriter) -> None:
    # found by a physician reading live conversations (issue 12)
    assert _chain(
        rewriter,
        "How long should warfarin be held before hip surgery?",
        "does he need bridging?",
        "what can I prescribe instead?",
    ) == [
        "Does a patient on warfarin need bridging before hip surgery?",
        "What can I prescribe instead of warfarin before hip surgery?",
    ]
    assert _chain(rewriter, "How do I taper clonazepam in older adults?", "how long does it take?") == [
        "How long does a clonazepam taper take in older adults?"
    ]


def test_a_condition_clause_a_short_new_drug_question_and_which_one(rewriter: TurnRewriter) -> None:
    # the physician's re-read of live conversations (issue 12)
    hold = _chain(
        rewriter, "How long should dabigatran be held before surgery?", "what if CrCl is 40?", "when can I restart it?"
    )
    assert hold == [
        "How long should dabigatran be held before surgery if CrCl is 40?",
        "When can dabigatran be restarted after surgery if CrCl is 40?",
    ]
    assert _chain(rewriter, "Which antidepressant is preferred in pregnancy?", "what dose of sertraline?") == [
        "What dose of sertraline in pregnancy?"
    ]
    assert _chain(rewriter, "Should I give antibiotics for acute sinusitis in an adult?", "which one?") == [
        "Which antibiotic is preferred for acute sinusitis in an adult?"
    ]
