"""Through the one question path: a patient context changes what is searched and answered, the
patient audience changes the layout, references carry authors, journal, study type and links,
and every answer says how current it is."""

from __future__ import annotations

from rag_oracle.chat import ChatService
from rag_oracle.types import PatientContext

START = "What is the starting dose of clonazepam?"


def test_patient_context_becomes_the_population(service: ChatService) -> None:
    plain = service.ask(START)
    older = service.ask(START, context=PatientContext(age_group="older_adult"))
    assert plain.answer.question == START and plain.answer.patient_context is None
    assert older.answer.question == "What is the starting dose of clonazepam in older adults?"
    assert older.answer.patient_context == PatientContext(age_group="older_adult")
    assert "older adults" in older.answer.analysis.population
    # the passage about clonazepam in elderly patients is what the older adult's answer cites
    assert "clz-elderly" in [r.doc_id for r in older.answer.references]
    assert "0.25 mg" in older.answer.text
    assert older.standalone_question == START  # the search is the rewrite's; the context is beside it


def test_the_questions_own_population_wins_and_says_so(service: ChatService) -> None:
    turn = service.ask("What is the dose of clonazepam in children?", context=PatientContext(age_group="older_adult"))
    assert turn.answer.question == "What is the dose of clonazepam in children?"
    assert turn.answer.notes == [
        "The question names children; the patient context's age group (older adults) was not applied."
    ]
    # and the index has nothing on clonazepam in children: it declines rather than quote the elderly dose
    assert turn.answer.abstained and "clonazepam in children" in turn.answer.abstention_reason


def test_references_carry_authors_journal_study_type_and_links(service: ChatService) -> None:
    answer = service.ask("What is the dose of clonazepam for depression?").answer
    ref = next(r for r in answer.references if r.doc_id == "clz-depression")
    assert ref.authors[:2] == ["Okafor A", "Lindqvist M"] and ref.journal == "J Affect Disord"
    assert ref.study_type == "review"
    assert ref.links["pmid"] == "https://pubmed.ncbi.nlm.nih.gov/900100001/"
    assert ref.links["pmcid"] == "https://pmc.ncbi.nlm.nih.gov/articles/PMC9001001/"
    assert answer.dates is not None and answer.dates.index_updated
    assert answer.dates.newest_evidence_year == max(r.year for r in answer.references if r.year)


def test_the_patient_audience_changes_the_answer(service: ChatService) -> None:
    question = "Is clonazepam safe in elderly patients?"
    clinician = service.ask(question).answer
    patient = service.ask(question, overrides={"answer": {"audience": "patient"}}).answer
    assert clinician.audience == "clinician" and patient.audience == "patient"
    assert not clinician.abstained and not patient.abstained
    assert patient.sections[0].title == "In short"
    assert {s.title for s in clinician.sections} & {"Answer"}
    # no dosing section for a yes/no safety question asked by a patient
    assert "dosing" not in [s.kind for s in patient.sections]


def test_stages_are_reported_in_order(service: ChatService) -> None:
    stages: list[str] = []
    service.ask("What is the dose of clonazepam for depression?", on_stage=stages.append)
    assert stages == ["rewriting", "retrieving", "composing", "verifying"]


def test_a_renal_context_the_index_cannot_answer_is_named_plainly(service: ChatService) -> None:
    # the chat corpus holds nothing on clonazepam in renal impairment: the answer says so in words
    turn = service.ask(START, context=PatientContext(renal_function="moderate"))
    assert turn.answer.question == "What is the starting dose of clonazepam with creatinine clearance 30 to 59 mL/min?"
    assert turn.answer.abstained
    assert turn.answer.abstention_reason == (
        "The indexed literature has no passage about clonazepam at a creatinine clearance 30 to 59 mL/min."
    )
