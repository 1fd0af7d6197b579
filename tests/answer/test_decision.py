"""The yes/no verdict: read from the polarity of the direct answer's statements, relative to the question;
none when they disagree, carry no polarity or the answer abstained; never opposite to the lead."""

from __future__ import annotations

import pytest

from rag_oracle.answer.decision import decide, is_yes_no_question, polarity
from rag_oracle.types import Answer, AnswerSection, AnswerSentence


def answer(question: str, direct: list[str], *, others: list[str] = (), abstained: bool = False) -> Answer:
    sections = [AnswerSection(kind="direct", title="Answer", sentences=[_s(t) for t in direct])]
    if others:
        sections.append(AnswerSection(kind="key_points", title="Key points", sentences=[_s(t) for t in others]))
    return Answer(question=question, abstained=abstained, sections=[] if abstained else sections)


def _s(text: str) -> AnswerSentence:
    return AnswerSentence(text=text, citations=[1])


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


@pytest.mark.parametrize(
    ("question", "sentence", "expected"),
    [
        # the question's own predicate is negative: the same words answer it "yes"
        ("Is warfarin contraindicated in pregnancy?", "Warfarin is contraindicated in pregnancy.", "yes"),
        ("Is warfarin contraindicated in pregnancy?", "Warfarin is not contraindicated in pregnancy.", "no"),
        (
            "Should warfarin be started before the platelet count recovers?",
            "Do not start warfarin until the platelet count has recovered.",
            "no",
        ),
        ("Is bridging needed when warfarin is interrupted?", "Bridging is not needed for most patients.", "no"),
        ("Is bridging needed for patients taking DOACs?", "Patients taking DOACs are not bridged.", "no"),
        (
            "Is heparin bridging needed when warfarin is stopped?",
            "Heparin bridging does not reduce stroke and increases bleeding.",
            "no",
        ),
        ("Does aspirin increase bleeding?", "Aspirin increased major bleeding (p < 0.01).", "yes"),
        ("Does aspirin increase bleeding?", "Aspirin did not increase major bleeding.", "no"),
        ("Does exercise reduce blood pressure?", "Exercise increased systolic blood pressure.", "no"),
        (
            "Should benzodiazepines be used for insomnia in older adults?",
            "Avoid benzodiazepines in older adults.",
            "no",
        ),
        (
            "Is cognitive behavioural therapy recommended for chronic insomnia?",
            "Cognitive behavioural therapy is recommended as first-line treatment for chronic insomnia.",
            "yes",
        ),
        (
            "Is zolpidem recommended for insomnia in older adults?",
            "Zolpidem is not recommended for older adults.",
            "no",
        ),
        (
            "Does vitamin D improve fracture outcomes?",
            "There was no significant difference in fracture outcomes between the vitamin D and placebo groups.",
            "no",
        ),
        ("Does vitamin D prevent falls?", "Vitamin D supplementation failed to prevent falls.", "no"),
        (
            "Is laparoscopic repair safe?",
            "Laparoscopic repair was completed without complications in all patients.",
            "yes",
        ),
        ("Is laparoscopic repair safe?", "There were no complications after laparoscopic repair.", "yes"),
        ("Are the two tests equivalent?", "The two tests gave similar results in every patient.", "yes"),
        ("Are the two tests equivalent?", "The first test detected significantly more cases than the second.", "no"),
        ("Does smoking predict relapse?", "Smoking was a significant predictor of relapse.", "yes"),
        ("Does smoking predict relapse?", "Smoking was not a significant predictor of relapse.", "no"),
        ("Does the new stent improve patency?", "The effect of the stent on patency remains unclear.", "maybe"),
    ],
)
def test_polarity_is_read_relative_to_the_question(question: str, sentence: str, expected: str) -> None:
    assert polarity(sentence, question) == expected


@pytest.mark.parametrize(
    "sentence",
    [
        "To determine whether aspirin increases bleeding after surgery.",  # an aim
        "The purpose of this study was to compare bleeding with and without aspirin.",
        "Patients were randomized to aspirin or placebo.",  # a method
        "It has been suggested that aspirin increases bleeding.",  # earlier work
        "Bleeding is the most frequent complication of surgery.",  # a definition
        "Aspirin was given to 120 patients before surgery.",
        "Warfarin dosing depends on the INR.",  # nothing about the question
    ],
)
def test_sentences_that_state_no_finding_have_no_polarity(sentence: str) -> None:
    assert polarity(sentence, "Does aspirin increase bleeding after surgery?") is None


def test_the_lead_decides() -> None:
    q = "Is bridging needed when warfarin is interrupted for surgery?"
    a = answer(q, ["Bridging is not needed for most patients.", "Warfarin is stopped five days before surgery."])
    assert decide(q, a) == "no"
    a = answer(q, ["Bridging is recommended for patients with a mechanical mitral valve."])
    assert decide(q, a) == "yes"


def test_disagreeing_lead_sentences_give_no_verdict() -> None:
    q = "Does aspirin increase bleeding?"
    a = answer(q, ["Aspirin increased major bleeding.", "Aspirin did not increase major bleeding in older adults."])
    assert decide(q, a) is None


def test_lead_sentences_without_polarity_leave_the_verdict_to_the_rest_when_it_agrees() -> None:
    q = "Does aspirin increase bleeding?"
    lead = ["To determine whether aspirin increases bleeding.", "Patients were randomized to aspirin or placebo."]
    # the lead states no finding: the answer's other statements decide, when they agree
    assert decide(q, answer(q, lead, others=["Aspirin increased major bleeding."])) == "yes"
    mixed = ["Aspirin increased major bleeding.", "Aspirin did not increase major bleeding in the second trial."]
    assert decide(q, answer(q, lead, others=mixed)) is None
    assert decide(q, answer(q, lead, others=["Patients were followed for a year."])) is None


def test_an_abstained_answer_has_no_verdict() -> None:
    q = "Does aspirin increase bleeding?"
    assert decide(q, answer(q, ["Aspirin increased major bleeding."], abstained=True)) is None
    assert decide(q, Answer(question=q, abstained=False)) is None


def test_a_hedged_lead_gives_maybe() -> None:
    q = "Does the new stent improve patency?"
    a = answer(q, ["The effect of the stent on patency remains unclear; the trials are inconclusive."])
    assert decide(q, a) == "maybe"


def test_a_hedge_beside_a_polar_lead_gives_maybe() -> None:
    q = "Does the new stent improve patency?"
    a = answer(q, ["The new stent improved patency at one year.", "Its effect on patency beyond one year is unclear."])
    assert decide(q, a) == "maybe"


def test_a_conclusion_elsewhere_that_says_the_opposite_withdraws_the_verdict() -> None:
    q = "Does aspirin increase bleeding?"
    lead = ["Aspirin increased major bleeding."]
    assert decide(q, answer(q, lead, others=["In conclusion, aspirin did not increase bleeding."])) is None
    assert decide(q, answer(q, lead, others=["In conclusion, aspirin increased bleeding."])) == "yes"
    assert decide(q, answer(q, lead, others=["Aspirin did not increase bleeding in one trial."])) == "yes"


@pytest.mark.parametrize(
    ("question", "direct"),
    [
        ("Should benzodiazepines be used for insomnia?", ["Avoid benzodiazepines.", "Benzodiazepines are effective."]),
        ("Is bridging needed?", ["Bridging is not needed.", "Bridging reduced stroke."]),
        ("Does aspirin increase bleeding?", ["Aspirin increased bleeding.", "No increase in bleeding was seen."]),
        ("Is X contraindicated in Y?", ["X is contraindicated in Y.", "X is safe in Y."]),
        ("Does aspirin increase bleeding?", ["Aspirin did not increase bleeding.", "The effect remains unclear."]),
    ],
)
def test_the_verdict_is_never_opposite_to_the_lead_sentence(question: str, direct: list[str]) -> None:
    lead = polarity(direct[0], question)
    assert lead in {"yes", "no"}
    verdict = decide(question, answer(question, direct))
    assert verdict in {None, lead, "maybe"}
    assert verdict != {"yes": "no", "no": "yes"}[lead]
