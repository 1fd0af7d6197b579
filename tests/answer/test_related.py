"""Related questions: phrased with the subject as the reader wrote it, grammatical for drugs,
classes, conditions and measurements, only about facets the passages discuss for that subject,
and only those the index can answer."""

from __future__ import annotations

import re

import pytest

from rag_oracle.answer.agreement import evidence_for
from rag_oracle.answer.question import analyse
from rag_oracle.answer.related import candidates, related_questions, subjects_of
from rag_oracle.testing.hits import passage_hit
from rag_oracle.text.analyzer import UniformStatistics
from rag_oracle.types import Hit, QuestionAnalysis


def hit(doc: str, text: str, *, title: str = "", section: str = "", rank: int = 1) -> Hit:
    return passage_hit(doc, text, title=title, section=section, rank=rank)


def related(question: str, passages: list[Hit], answerable=None, **kwargs) -> list[str]:
    analysis = analyse(question, UniformStatistics())
    return related_questions(question, analysis, evidence_for(analysis, passages, None), answerable, **kwargs)


def every(question: str, passages: list[Hit]) -> list[str]:
    analysis = analyse(question, UniformStatistics())
    return candidates(question, analysis, evidence_for(analysis, passages, None))


CLONAZEPAM = hit(
    "clonazepam-label",
    "Panic disorder: start clonazepam 0.25 mg twice daily and increase to 1 mg/day after 3 days. "
    "In older adults, start at 0.25 mg at bedtime. "
    "When stopping, taper by 0.125 mg twice daily every 3 days. "
    "Clonazepam can cause sedation and dependence. "
    "Monitor for respiratory depression. "
    "Concomitant use of clonazepam with opioids can cause profound sedation and death.",
    title="Clonazepam tablets: prescribing information",
    section="Dosage and administration",
)
SERTRALINE = hit(
    "sertraline-label",
    "Sertraline: start 50 mg once daily for depression. "
    "In older adults, many clinicians start at 25 mg/day. "
    "Use lower or less frequent doses in hepatic impairment. "
    "Sertraline is often chosen in pregnancy because of extensive experience. "
    "Reduce gradually; abrupt stopping can cause dizziness.",
    title="Sertraline tablets: prescribing information",
    section="Dosing",
)
_OPENING = re.compile(r"^(?:What|How|When|Which|Can|Does|Do) ")


def test_drug_follow_ups_name_the_drug_as_written_and_skip_what_was_asked() -> None:
    question = "What is the starting dose of clonazepam for panic disorder?"
    assert related(question, [CLONAZEPAM]) == [
        "What is the usual dose of clonazepam in older adults?",
        "How should clonazepam be tapered?",
        "What are the main safety concerns with clonazepam?",
        "What monitoring is needed with clonazepam?",
    ]
    # Beyond the first four: the interaction the passage states; never a dosing question (asked).
    offered = every(question, [CLONAZEPAM])
    assert "Which drug interactions matter with clonazepam?" in offered
    assert "What is the usual dose of clonazepam?" not in offered
    assert related("How should clonazepam be tapered?", [CLONAZEPAM])[:2] == [
        "What is the usual dose of clonazepam?",
        "What is the usual dose of clonazepam in older adults?",
    ]
    assert not any("tapered" in q for q in every("How should clonazepam be tapered?", [CLONAZEPAM]))


def test_a_brand_name_is_kept_as_written() -> None:
    offered = related("What is the usual dose of Zoloft?", [SERTRALINE])
    assert offered and all("Zoloft" in q for q in offered)
    assert "How should Zoloft be tapered?" in offered


def test_other_populations_the_passages_cover_are_offered_grammatically() -> None:
    offered = every("What is the usual dose of sertraline?", [SERTRALINE])
    assert offered[:3] == [
        "What is the usual dose of sertraline in older adults?",
        "Can sertraline be used in pregnancy?",
        "Does sertraline need a dose adjustment in liver impairment?",
    ]
    # Asked about older adults: not offered again; the question's population is kept where the
    # passages say the facet for it, and left out where they do not.
    older = every("What is the usual dose of sertraline in older adults?", [SERTRALINE])
    assert not any(q.endswith("in older adults?") for q in older)
    assert "How should sertraline be tapered?" in older


def test_a_class_is_phrased_in_the_plural_and_choose_is_never_a_subject() -> None:
    question = "Which antidepressant should I choose for an older adult?"
    passages = [
        hit(
            "older-depression",
            "Antidepressants: start at 10 mg/day in older adults and increase slowly. "
            "Antidepressants should be tapered over at least four weeks in older adults. "
            "Antidepressants increase the risk of falls and hyponatraemia in older adults. "
            "Monitor sodium in older adults during the first month.",
            title="Antidepressants in older adults",
            section="Recommendations",
        )
    ]
    analysis = analyse(question, UniformStatistics())
    evidence = evidence_for(analysis, passages, None)
    assert [s.phrase for s in subjects_of(question, analysis, evidence)] == ["antidepressants"]
    offered = related_questions(question, analysis, evidence)
    assert offered == [
        "What are the usual doses of antidepressants in older adults?",
        "How should antidepressants be tapered in older adults?",
        "What are the main safety concerns with antidepressants in older adults?",
        "What monitoring is needed with antidepressants in older adults?",
    ]
    assert not any("choose" in q for q in offered)


def test_no_subject_or_a_generic_one_gives_no_related_questions() -> None:
    assert related("What is the maximum dose?", [CLONAZEPAM]) == []
    assert related("Which one should I choose?", [CLONAZEPAM]) == []
    # Even an analysis that took a question verb for the subject yields nothing, never
    # "What is the usual dose of choose?".
    question = "Which should I choose for an older adult?"
    analysis = QuestionAnalysis(subject=["choose"], topic_terms=["choos"], population=["older adults"])
    assert related_questions(question, analysis, evidence_for(analysis, [CLONAZEPAM], None)) == []
    # What the index never mentions is no subject either.
    missing = QuestionAnalysis(subject=["gout", "flare"], topic_terms=["gout", "flare"], missing=["gout flare"])
    assert related_questions("How is a gout flare treated?", missing, evidence_for(missing, [CLONAZEPAM], None)) == []


def test_condition_subject_is_the_run_of_topic_words_as_written() -> None:
    passages = [
        hit(
            "oh",
            "Orthostatic hypotension is defined as a fall in systolic pressure of at least 20 mmHg within 3 minutes "
            "of standing. Standing blood pressure should be measured at diagnosis and when falls occur. "
            "Orthostatic hypotension is common in older adults and is linked to falls and syncope.",
            title="Orthostatic hypotension",
            section="Orthostatic hypotension",
        )
    ]
    question = "How is orthostatic hypotension managed in older adults?"
    offered = every(question, passages)
    assert offered == [
        "How is orthostatic hypotension diagnosed?",
        "How is orthostatic hypotension defined?",
        "What are the complications of orthostatic hypotension in older adults?",
        "How should orthostatic hypotension be monitored?",
    ]
    # "Is orthostatic hypotension common?": "common" follows the subject in the question, but the
    # passages never use "hypotension common" as a phrase.
    analysis = analyse("Is orthostatic hypotension common in older adults?", UniformStatistics())
    evidence = evidence_for(analysis, passages, None)
    assert [
        s.phrase for s in subjects_of("Is orthostatic hypotension common in older adults?", analysis, evidence)
    ] == ["orthostatic hypotension"]


def test_a_drug_inside_a_condition_name_makes_a_condition_question() -> None:
    passages = [
        hit(
            "hit",
            "Heparin-induced thrombocytopenia (HIT) is an immune reaction to heparin. "
            "In HIT, stop all heparin and start a non-heparin anticoagulant such as argatroban. "
            "Avoid warfarin in HIT until the platelet count has recovered.",
            title="Heparin-induced thrombocytopenia",
            section="Management",
        )
    ]
    question = "How do you diagnose heparin-induced thrombocytopenia?"
    analysis = analyse(question, UniformStatistics())
    evidence = evidence_for(analysis, passages, None)
    [subject] = subjects_of(question, analysis, evidence)
    assert (subject.phrase, subject.kind) == ("heparin-induced thrombocytopenia", "condition")
    assert related_questions(question, analysis, evidence) == [
        "How is heparin-induced thrombocytopenia managed?",
        "Which medications are used for heparin-induced thrombocytopenia?",
        "Which treatments should be avoided for heparin-induced thrombocytopenia?",
    ]
    assert not any("dose of heparin" in q for q in candidates(question, analysis, evidence))


def test_a_plural_condition_takes_a_plural_verb() -> None:
    passages = [
        hit(
            "platelets",
            "Low platelet counts are often found incidentally. Low platelet counts should be confirmed with a "
            "repeat count in citrate. Low platelet counts in a well patient can be monitored every 4 to 6 weeks.",
            title="Low platelet count in adults",
            section="Low platelet counts",
        )
    ]
    offered = every("What causes low platelet counts in adults?", passages)
    assert "How are low platelet counts diagnosed?" in offered
    assert "How should low platelet counts be monitored?" in offered
    assert not any(" is low platelet counts" in q for q in offered)


def test_a_measurement_gets_target_and_monitoring_questions_only() -> None:
    passages = [
        hit(
            "bp",
            "For community-dwelling older adults, a systolic blood pressure target below 130 mmHg is recommended. "
            "In children, blood pressure targets are set by percentile. "
            "Measure blood pressure with a validated device after 5 minutes of rest.",
            title="Blood pressure targets by age",
            section="Blood pressure",
        )
    ]
    offered = every("What blood pressure target is recommended in pregnancy?", passages)
    assert offered == [
        "What is the target for blood pressure in older adults?",
        "How should blood pressure be monitored?",
    ]


def test_nothing_about_another_drugs_facets() -> None:
    passages = [
        hit(
            "mixed",
            "Clonazepam: start 0.25 mg twice daily. "
            "Warfarin: check the INR weekly and monitor for bleeding; many drugs interact with warfarin. "
            "In older adults, start warfarin at 2 mg daily. "
            "Clonazepam is given at bedtime, whereas warfarin needs INR monitoring.",
            title="Drug notes",
        )
    ]
    clonazepam = every("What is the starting dose of clonazepam?", passages)
    assert not any(re.search(r"monitoring|interactions|safety|older adults", q) for q in clonazepam)
    assert not any("warfarin" in q for q in clonazepam)
    # The same passages do give those facets for warfarin: the check above can fail.
    warfarin = every("What is the usual dose of warfarin?", passages)
    assert "What monitoring is needed with warfarin?" in warfarin
    assert "Which drug interactions matter with warfarin?" in warfarin
    assert "What is the usual dose of warfarin in older adults?" in warfarin


def test_only_answerable_questions_are_offered() -> None:
    question = "What is the starting dose of clonazepam for panic disorder?"
    everything = every(question, [CLONAZEPAM])
    asked: list[str] = []

    def answerable(candidate: str) -> bool:
        asked.append(candidate)
        return "tapered" not in candidate and "older adults" not in candidate

    offered = related(question, [CLONAZEPAM], answerable, limit=2)
    assert offered == [q for q in everything if answerable(q)][:2]
    assert "How should clonazepam be tapered?" not in offered
    assert related(question, [CLONAZEPAM], lambda q: False) == []
    asked.clear()
    related(question, [CLONAZEPAM], answerable, limit=10, max_checks=3)
    assert len(asked) == 3  # no more checks (retrievals) than allowed


@pytest.mark.parametrize(
    "question",
    [
        "What is the starting dose of clonazepam for panic disorder?",
        "How should clonazepam be tapered?",
        "What is the usual dose of sertraline?",
        "What is the usual dose of Zoloft?",
    ],
)
def test_follow_ups_are_well_formed_and_deterministic(question: str) -> None:
    first = every(question, [CLONAZEPAM, SERTRALINE])
    assert first == every(question, [CLONAZEPAM, SERTRALINE])
    assert len(first) == len(set(first))
    for q in first:
        assert q.endswith("?") and "  " not in q and " ?" not in q
        assert _OPENING.match(q), q
        # Capitals after the first word only where the question has them ("Zoloft").
        assert all(w in question for w in re.findall(r"(?<!^)\b[A-Z]\w*", q)), q
        assert not re.search(r"\b(?:choose|dose of (?:dose|usual|starting))\b", q)
