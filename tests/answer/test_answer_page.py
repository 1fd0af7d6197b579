"""What the answer page shows about an answer: study types and links, patient context, the patient
audience's layout, the verdict badge, and how current the evidence is."""

from __future__ import annotations

import pytest

from rag_oracle.answer.builder import answer_dates, for_audience
from rag_oracle.answer.context import context_notes, contextual_question, with_context
from rag_oracle.answer.decision import verdict_label
from rag_oracle.answer.question import analyse
from rag_oracle.answer.render import authors_line, reference_line, render_markdown
from rag_oracle.text.analyzer import UniformStatistics
from rag_oracle.text.lexicon import clearance_ranges, populations_in
from rag_oracle.text.publication import source_links, study_label, study_type
from rag_oracle.types import (
    Answer,
    AnswerDates,
    AnswerSection,
    AnswerSentence,
    DraftSection,
    DraftSentence,
    PatientContext,
    Reference,
)


@pytest.mark.parametrize(
    ("types", "expected"),
    [
        (["Journal Article", "Practice Guideline"], "guideline"),
        (["Review", "Systematic Review", "Meta-Analysis"], "systematic_review"),  # the most authoritative wins
        (["Meta-Analysis"], "meta_analysis"),
        (["Randomized Controlled Trial", "Journal Article"], "rct"),
        (["Observational Study"], "cohort"),
        (["Case-Control Studies"], "case_control"),
        (["Case Reports"], "case_report"),
        (["Drug Monograph"], "drug_label"),
        (["Review"], "review"),
        (["Journal Article"], None),
        ([], None),
    ],
)
def test_study_type_from_publication_types(types, expected):
    assert study_type(types) == expected


def test_study_labels_read_as_words():
    assert study_label("rct") == "Randomised trial"
    assert study_label(None) == ""


def test_only_well_formed_identifiers_become_links():
    links = source_links({"pmid": "900100001", "pmcid": "pmc9001001", "doi": "10.5555/chat.elderly", "file": "a.pdf"})
    assert links == {
        "pmid": "https://pubmed.ncbi.nlm.nih.gov/900100001/",
        "pmcid": "https://pmc.ncbi.nlm.nih.gov/articles/PMC9001001/",
        "doi": "https://doi.org/10.5555/chat.elderly",
    }
    # metadata cannot smuggle another address (or a script) into the page's links
    assert source_links({"pmid": "javascript:alert(1)", "doi": "https://evil.example/x", "pmcid": "PMC1 x"}) == {}
    assert source_links({"doi": "10.1000/a b"}) == {}


def test_patient_context_becomes_the_questions_population():
    older = PatientContext(age_group="older_adult")
    asked = "What is the starting dose of clonazepam?"
    assert contextual_question(asked, older) == "What is the starting dose of clonazepam in older adults?"
    assert populations_in(contextual_question(asked, older)) == {"older adults"}
    both = PatientContext(pregnancy="breastfeeding", renal_function="moderate")
    question = contextual_question("Which antidepressant is preferred?", both)
    assert question == (
        "Which antidepressant is preferred during breastfeeding and with creatinine clearance 30 to 59 mL/min?"
    )
    assert clearance_ranges(question) == [(30.0, 60.0)]
    assert contextual_question(asked, None) == asked
    assert contextual_question(asked, PatientContext()) == asked
    assert contextual_question(asked, PatientContext(renal_function="normal")) == asked  # no population


def test_the_questions_own_words_win_over_the_context():
    older = PatientContext(age_group="older_adult")
    asked = "What is the dose of amoxicillin in children?"
    assert contextual_question(asked, older) == asked
    assert context_notes(asked, older) == [
        "The question names children; the patient context's age group (older adults) was not applied."
    ]
    assert context_notes("What is the dose of amoxicillin in older adults?", older) == []


def test_a_measured_clearance_joins_the_analysis():
    context = PatientContext(creatinine_clearance=40)
    question = contextual_question("How long should dabigatran be held before surgery?", context)
    assert question == "How long should dabigatran be held before surgery with creatinine clearance 40 mL/min?"
    analysis = with_context(analyse(question, UniformStatistics()), context)
    assert analysis.clearance == (40.0, 41.0)
    assert "renal" in analysis.population
    stated = analyse("dose with creatinine clearance 30 to 49 mL/min", UniformStatistics())
    assert with_context(stated, context).clearance == stated.clearance  # the question's own range stays


def test_context_labels_for_the_header():
    context = PatientContext(age_group="older_adult", pregnancy=None, renal_function="severe")
    assert context.labels() == ["Older adult (65+)", "Severe renal impairment (CrCl 15-29 mL/min)"]
    assert PatientContext(creatinine_clearance=42.5).labels() == ["CrCl 42.5 mL/min"]
    assert PatientContext().empty and not context.empty


def _draft(*kinds: str) -> list[DraftSection]:
    titles = {"direct": "Answer", "dosing": "Dosing and administration", "safety": "Safety and monitoring"}
    return [
        DraftSection(kind=k, title=titles.get(k, "Key points"), sentences=[DraftSentence(text=k, citations=[1])])
        for k in kinds
    ]


def test_patient_audience_plain_headings_safety_first_and_no_dosing_unless_asked():
    sections = _draft("direct", "dosing", "safety", "key_points")
    yes_no = analyse("Is clonazepam safe in older adults?", UniformStatistics())
    patient = for_audience(sections, "patient", yes_no)
    assert [(s.kind, s.title) for s in patient] == [
        ("direct", "In short"),
        ("safety", "Safety: what to watch for"),
        ("key_points", "Good to know"),
    ]
    dose = analyse("What is the starting dose of clonazepam?", UniformStatistics())
    assert [s.kind for s in for_audience(sections, "patient", dose)] == ["direct", "safety", "key_points", "dosing"]
    assert for_audience(sections, "clinician", yes_no) == sections
    # an answer that is only dosing keeps it: an empty answer would say less than the evidence does
    assert [s.kind for s in for_audience(_draft("dosing"), "patient", yes_no)] == ["dosing"]


@pytest.mark.parametrize(
    ("question", "verdict", "label"),
    [
        ("Is amoxicillin needed for acute sinusitis in adults?", "no", "Not needed"),
        ("Is an antibiotic recommended for viral sinusitis?", "no", "Not recommended"),
        ("Is clonazepam safe in pregnancy?", "yes", "Safe"),
        ("Is bridging contraindicated here?", "yes", "Contraindicated"),
        ("Is an antibiotic not needed here?", "yes", "Not needed"),
        ("Does aspirin reduce stroke?", "yes", ""),  # no predicate a badge can name: no badge
        ("Is clonazepam safe in pregnancy?", "maybe", ""),  # the answer does not decide: no badge
        ("Is clonazepam safe in pregnancy?", None, ""),
    ],
)
def test_the_verdict_badge_is_worded_as_the_question_asks(question, verdict, label):
    assert verdict_label(question, verdict) == label


def _reference(number: int, year: int | None) -> Reference:
    return Reference(
        number=number,
        chunk_id=f"d{number}#0",
        doc_id=f"d{number}",
        title=f"Doc {number}",
        year=year,
        passage="p",
        authors=["Okafor A", "Lindqvist M", "Haddad R", "Moreau C"],
        journal="J Affect Disord",
        study_type="rct",
        identifiers={"pmid": "900100001"},
    )


def test_answer_dates_span_the_cited_years():
    answer = Answer(
        question="q", abstained=False, references=[_reference(1, 2019), _reference(2, 2022), _reference(3, None)]
    )
    dates = answer_dates("2026-11-30T10:00:00Z", answer)
    assert (dates.index_updated, dates.newest_evidence_year, dates.oldest_evidence_year) == (
        "2026-11-30T10:00:00Z",
        2022,
        2019,
    )
    assert dates.answered_at.endswith("Z")
    none = answer_dates("2026-11-30T10:00:00Z", Answer(question="q", abstained=True))
    assert none.newest_evidence_year is None


def test_reference_line_reads_as_a_citation_and_the_terminal_shows_dates_and_patient():
    ref = _reference(1, 2020)
    assert authors_line(ref.authors) == "Okafor A, Lindqvist M, Haddad R, et al."
    assert reference_line(ref) == (
        "Okafor A, Lindqvist M, Haddad R, et al. Doc 1. J Affect Disord. 2020. Randomised trial. PMID 900100001. "
        "chunk d1#0"
    )
    answer = Answer(
        question="What is the dose of clonazepam in older adults?",
        abstained=False,
        sections=[
            AnswerSection(kind="direct", title="Answer", sentences=[AnswerSentence(text="0.25 mg.", citations=[1])])
        ],
        references=[ref],
        verdict="Not recommended",
        dates=AnswerDates(index_updated="2026-11-30T10:00:00Z", newest_evidence_year=2020),
        patient_context=PatientContext(age_group="older_adult"),
    )
    text = render_markdown(answer)
    assert "Patient: Older adult (65+)" in text
    assert "Verdict: Not recommended" in text
    assert "Last updated: index 2026-11-30 · newest cited source 2020" in text


def test_a_stated_harm_answers_a_safety_question_no():
    from rag_oracle.answer.decision import polarity

    question = "Is clonazepam safe in the elderly?"
    harm = "In elderly patients clonazepam increases the risk of falls, hip fracture and delirium."
    assert polarity(harm, question) == "no"
    assert polarity("No falls or fractures occurred with clonazepam in the elderly.", question) == "yes"
    assert polarity("Lorazepam is safe in the elderly.", "Is lorazepam safe in the elderly?") == "yes"


def test_undated_sources_are_not_outdated_by_a_year():
    from rag_oracle.answer.render import evidence_phrase

    answer = Answer(question="q", abstained=False, references=[_reference(1, 2022), _reference(2, None)])
    dates = answer_dates("2026-11-30T10:00:00Z", answer)
    assert dates.undated_sources == 1
    assert evidence_phrase(dates) == "newest dated source 2022, 1 cited source undated"
    assert evidence_phrase(dates.model_copy(update={"undated_sources": 0})) == "newest cited source 2022"


def test_a_badge_needs_the_lead_to_speak_to_the_predicate():
    def answer_with(lead: str) -> Answer:
        sentence = AnswerSentence(text=lead, citations=[1])
        return Answer(
            question="q", abstained=False, sections=[AnswerSection(kind="direct", title="Answer", sentences=[sentence])]
        )

    question = "Does a patient on warfarin need bridging before surgery?"
    # the rule read "yes" from a sentence about minor procedures: the badge would say what no source says
    minor = answer_with("Many minor procedures can be performed without interruption of warfarin.")
    assert verdict_label(question, "yes", minor) == ""
    said = answer_with("Bridging is not needed for most patients who interrupt warfarin.")
    assert verdict_label(question, "no", said) == "Not needed"
    assert verdict_label(
        "Is clonazepam safe in older adults?", "no", answer_with("Avoid clonazepam in older adults.")
    ) == ("Not safe")
