"""Attribution metrics against hand-built answers: the wrong drug's dose, the wrong population,
one document cited as several references, a statement made twice, a verdict against the text."""

from __future__ import annotations

import pytest

from rag_oracle.evaluation.attribution import attribution_scores, drugs_in, population_contradicts, populations_in
from rag_oracle.types import Answer, AnswerSection, AnswerSentence, Reference


def ref(number: int, doc: str, passage: str, title: str = "") -> Reference:
    return Reference(number=number, chunk_id=f"{doc}#0", doc_id=doc, title=title, passage=passage)


def answer(question: str, sentences: list[tuple[str, list[int]]], refs: list[Reference], decision=None) -> Answer:
    direct = [AnswerSentence(text=t, citations=c) for t, c in sentences[:2]]
    rest = [AnswerSentence(text=t, citations=c) for t, c in sentences[2:]]
    sections = [AnswerSection(kind="direct", title="Answer", sentences=direct)]
    if rest:
        sections.append(AnswerSection(kind="key_points", title="Key points", sentences=rest))
    return Answer(question=question, abstained=False, sections=sections, references=refs, decision=decision)


def test_a_dose_under_another_drugs_heading_disagrees():
    q = "What is the starting dose of clonazepam for panic disorder?"
    sertraline = ref(
        1,
        "ssri",
        "Antidepressant starting doses\nSertraline:\nStart 25 mg once daily for one week, then increase to 50 mg.",
    )
    clonazepam = ref(2, "clz", "For panic disorder start clonazepam 0.25 mg twice daily.", "Clonazepam")
    a = answer(
        q,
        [
            ("Start 25 mg once daily for one week, then increase to 50 mg.", [1]),  # the heading says sertraline
            ("For panic disorder start clonazepam 0.25 mg twice daily.", [2]),
            ("Clonazepam is a benzodiazepine.", [2]),  # no number: not a dose sentence
        ],
        [sertraline, clonazepam],
    )
    assert attribution_scores(q, a)["subject_agreement"] == pytest.approx(1 / 2)
    # the document title is the last resort for a sentence that names no drug
    titled = ref(1, "clz2", "Start at 0.25 mg at bedtime.", "Clonazepam in older adults")
    b = answer(q, [("Start at 0.25 mg at bedtime.", [1])], [titled])
    assert attribution_scores(q, b)["subject_agreement"] == 1.0
    # a question naming no drug leaves it undefined
    assert attribution_scores("What is the usual starting dose?", a)["subject_agreement"] is None


def test_populations():
    assert populations_in("In older adults, start low") == {"older adults"}
    assert populations_in("Adults aged 18-64 with depression") == {"adults"}
    assert population_contradicts({"older adults"}, {"adults"})
    assert not population_contradicts({"older adults"}, {"older adults", "renal"})
    assert population_contradicts(set(), {"children"})  # a paediatric dose for a general question
    assert not population_contradicts(set(), {"older adults"})
    assert population_contradicts({"pregnancy"}, {"renal"})
    q = "What is the dose of clonazepam in older adults?"
    refs = [ref(1, "a", "Trial in adults aged 18-64.\nClonazepam 0.5 mg daily was used."), ref(2, "b", "x")]
    a = answer(
        q,
        [
            ("Clonazepam 0.5 mg daily was used.", [1]),  # its passage's earlier line: adults 18-64
            ("In older adults start clonazepam at 0.25 mg.", [2]),
            ("Children need weight-based dosing of clonazepam.", [2]),
        ],
        refs,
    )
    assert attribution_scores(q, a)["population_agreement"] == pytest.approx(1 / 3)


def test_repeated_documents_and_statements():
    q = "How long before surgery should warfarin be stopped?"
    refs = [ref(1, "guide", "p1"), ref(2, "guide", "p2"), ref(3, "trial", "p3"), ref(4, "guide", "p4")]
    a = answer(
        q,
        [
            ("Stop warfarin 5 days before surgery.", [1]),
            ("Warfarin should be stopped 5 days before surgery.", [2]),  # the same statement again
            ("Check the INR the day before surgery.", [3, 4]),
        ],
        refs,
    )
    scores = attribution_scores(q, a)
    assert scores["repeated_references"] == 2.0  # 4 references, 2 documents
    assert scores["repeated_statements"] == 1.0


def test_a_verdict_against_its_own_lead_is_an_error():
    q = "Are benzodiazepines recommended for chronic insomnia in older adults?"
    refs = [ref(1, "g", "Avoid benzodiazepines for insomnia in older adults.")]
    against = answer(q, [("Avoid benzodiazepines for insomnia in older adults.", [1])], refs, decision="yes")
    agrees = answer(q, [("Avoid benzodiazepines for insomnia in older adults.", [1])], refs, decision="no")
    assert attribution_scores(q, against)["verdict_error"] == 1.0
    assert attribution_scores(q, agrees)["verdict_error"] == 0.0
    positive = answer(q, [("CBT-I is recommended first line for chronic insomnia.", [1])], refs, decision="no")
    assert attribution_scores(q, positive)["verdict_error"] == 1.0
    assert attribution_scores(q, answer(q, [("Sleep varies.", [1])], refs))["verdict_error"] is None


def test_drug_names_are_resolved_offline():
    assert drugs_in("Xanax or alprazolam at bedtime") == frozenset({"alprazolam"})
    assert "sertraline" in drugs_in("Sertraline:")
    assert drugs_in("Start 25 mg once daily.") == frozenset()


def test_abstentions_have_no_attribution():
    a = Answer(question="q", abstained=True)
    assert set(attribution_scores("What is the dose of clonazepam?", a).values()) == {None}
