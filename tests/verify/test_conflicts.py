"""Conflicts are real disagreements: same kind of value, same drug, same population, different
documents. Another drug's dose, a starting dose against a maximum, a value inside another
source's range, a list of thresholds for different procedures are not conflicts; a dose range
with a different bound is, and so is one source far outside all the others."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rag_oracle.answer.agreement import evidence_for
from rag_oracle.answer.question import analyse
from rag_oracle.testing.hits import passage_hit
from rag_oracle.text.analyzer import UniformStatistics
from rag_oracle.types import Hit
from rag_oracle.verify.conflicts import FoundConflict, compatible, context_line, find_conflicts, value_kind

REPO = Path(__file__).resolve().parents[2]
DEPRESSION_QUESTION = "What is the dosage of clonazepam for treating depression?"
REVIEW = "In the studies summarized here, the usual adjunctive clonazepam dose was 0.5 to 1 mg/day, typically given at bedtime."
META = "Clonazepam doses across the included trials ranged from 0.5 to 2 mg/day, usually given at bedtime."
TRIAL = "Clonazepam was started at 0.5 mg at bedtime and could be increased to 1 mg at bedtime after one week (dose range 0.5 to 1 mg/day)."
PLANTED = "The dosage of clonazepam for treating depression is 100 mg per day."


def hit(doc: str, text: str, rank: int = 1, title: str = "", section: str = "") -> Hit:
    return passage_hit(doc, text, rank=rank, title=title, section=section)


def conflicts(question: str, passages: list[Hit]) -> list[FoundConflict]:
    analysis = analyse(question, UniformStatistics())
    return find_conflicts(analysis, evidence_for(analysis, passages, None), passages)


def values(conflict: FoundConflict) -> list[str]:
    return [value for _, value, _ in conflict.statements]


# --- what is flagged ------------------------------------------------------------------------------


def test_dose_ranges_with_a_different_bound_are_flagged_with_the_drug_and_one_line_each() -> None:
    passages = [
        hit("trial", TRIAL, 1, "Adjunctive clonazepam in depression"),
        hit("meta", META, 2, "Benzodiazepine augmentation in depression"),
    ]
    [conflict] = conflicts(DEPRESSION_QUESTION, passages)
    assert conflict.quantity == "clonazepam dose range (mg/day)"
    assert values(conflict) == ["0.5 to 1 mg/day", "0.5 to 2 mg/day"]
    assert [h.chunk.doc_id for h, _, _ in conflict.statements] == ["trial", "meta"]
    # The third element is the sentence as it stands in the passage: the answer builder cites it.
    assert all(sentence in h.chunk.text for h, _, sentence in conflict.statements)
    assert len(conflict.contexts) == 2
    assert all(
        value in line and len(line) <= 170 for value, line in zip(values(conflict), conflict.contexts, strict=True)
    )
    assert not conflict.outlier


def test_the_drug_is_named_as_the_question_wrote_it() -> None:
    passages = [
        hit("a", "Klonopin: the maximum dose is 4 mg/day.", 1),
        hit("b", "Clonazepam: doses up to a maximum of 20 mg/day may be used.", 2),
    ]
    [conflict] = conflicts("What is the maximum dose of Klonopin?", passages)
    assert conflict.quantity.startswith("klonopin maximum daily dose")
    assert values(conflict) == ["4 mg/day", "20 mg/day"]


@pytest.mark.parametrize(
    ("planted", "value", "unit"),
    [
        (PLANTED, "100 mg per day", "mg/day"),  # "mg per day" is read as mg/day and shown as written
        ("Clonazepam for depression: give 100 mg at bedtime.", "100 mg at bedtime", "mg/day"),
        ("In depression the clonazepam dose is 100 mg.", "100 mg", "mg"),  # per dose, frequency unstated
        ("In depression give clonazepam 50 mg twice daily.", "50 mg twice daily", "mg twice daily"),
    ],
)
def test_one_source_far_outside_the_others_is_flagged_not_paired(planted: str, value: str, unit: str) -> None:
    passages = [
        hit("planted", planted, 1, "Clonazepam dosing in depression"),
        hit("review", REVIEW, 2, "Clonazepam for depression"),
        hit("trial", TRIAL, 3, "Adjunctive clonazepam in depression"),
        hit("meta", META, 4, "Benzodiazepine augmentation in depression"),
    ]
    found = conflicts(DEPRESSION_QUESTION, passages)
    first = found[0]
    assert first.outlier
    assert first.quantity.endswith(f"dose ({unit}): one source is far outside the others")
    assert first.quantity.startswith("clonazepam ")
    assert first.statements[0][0].chunk.doc_id == "planted"
    assert first.statements[0][1] == value
    assert {h.chunk.doc_id for h, _, _ in first.statements[1:]} == {"review", "trial", "meta"}
    # The outlier is not also paired with every other source; the real range disagreement remains.
    assert not any(value in v for c in found[1:] for v in values(c))
    assert any(c.quantity == "clonazepam dose range (mg/day)" for c in found[1:])


def test_an_outlier_needs_two_other_sources() -> None:
    passages = [hit("planted", PLANTED, 1), hit("review", REVIEW, 2, "Clonazepam for depression")]
    [conflict] = conflicts(DEPRESSION_QUESTION, passages)
    assert not conflict.outlier  # only a pair: 100 mg/day against 0.5 to 1 mg/day
    assert conflict.quantity == "clonazepam daily dose (mg/day)"  # a usual dose against a range
    assert sorted(values(conflict)) == ["0.5 to 1 mg/day", "100 mg per day"]


def test_a_per_dose_amount_is_not_taken_for_a_low_daily_total() -> None:
    passages = [
        hit("a", "Oxycodone is usually given as 5 mg.", 1),
        hit("b", "The usual oxycodone dose is 20 to 30 mg/day.", 2),
        hit("c", "Oxycodone: the usual total is 30 mg/day.", 3),
    ]
    assert not any(c.outlier for c in conflicts("What is the usual dose of oxycodone?", passages))


def test_different_maximum_doses_conflict() -> None:
    passages = [
        hit("a", "Sertraline: increase as needed to a maximum of 200 mg/day.", 1),
        hit("b", "Sertraline should not exceed 150 mg/day.", 2),
    ]
    [conflict] = conflicts("What is the maximum daily dose of sertraline?", passages)
    assert conflict.quantity == "sertraline maximum daily dose (mg/day)"
    assert conflict.kind == "maximum"


# --- what is not --------------------------------------------------------------------------------


def test_another_drugs_dose_is_never_the_questions_drug_dose() -> None:
    # The false conflict this module used to report: "sertralin (mg): 0.5 to 1 mg vs 25 to 50 mg".
    passages = [
        hit(
            "trial",
            "In adults starting sertraline for depression with prominent anxiety, adding clonazepam 0.5 to 1 mg at "
            "bedtime for 6 weeks produced faster relief of anxiety.",
            1,
        ),
        hit(
            "guide",
            "Sertraline: start 50 mg once daily; increase in 25 to 50 mg steps at intervals of at least one week "
            "if needed, to a maximum of 200 mg/day.",
            2,
        ),
    ]
    assert conflicts("What dose of sertraline is used for depression?", passages) == []


def test_different_kinds_are_not_compared() -> None:
    passages = [
        hit("a", "Sertraline: start 50 mg once daily.", 1),
        hit("b", "Sertraline may be increased to a maximum of 200 mg/day.", 2),
        hit("c", "Sertraline may be increased in 25 to 50 mg steps.", 3),
    ]
    assert conflicts("What dose of sertraline is used for depression?", passages) == []


def test_a_single_value_inside_the_other_sources_range_agrees() -> None:
    passages = [
        hit("review", REVIEW, 1, "Clonazepam for depression"),
        hit("trial", "The mean final clonazepam dose was 0.7 mg/day.", 2, "Clonazepam in depression"),
        hit("other", "Clonazepam is commonly given as 0.5 to 0.75 mg at bedtime.", 3, "Clonazepam in depression"),
    ]
    assert conflicts(DEPRESSION_QUESTION, passages) == []


def test_the_same_value_in_two_sources_or_two_values_in_one_source_are_not_conflicts() -> None:
    passages = [
        hit("a", "Sertraline: start 50 mg once daily.", 1),
        hit("b", "Sertraline is started at 50 mg daily.", 2),
        hit(
            "c", "Sertraline: start 50 mg once daily. In frail patients, some start sertraline at 25 mg once daily.", 3
        ),
    ]
    assert conflicts("What is the starting dose of sertraline?", passages) == []


def test_another_population_is_not_compared() -> None:
    passages = [
        hit("a", "Sertraline: start 50 mg once daily.", 1),
        hit("b", "In older adults, many clinicians start sertraline at 25 mg/day.", 2),
    ]
    assert conflicts("What is the starting dose of sertraline?", passages) == []


def test_a_dose_for_another_indication_is_not_compared() -> None:
    passages = [
        hit("label", "Dosing in panic disorder (adults). Start 0.25 mg twice daily.", 1, "Clonazepam monograph"),
        hit("trial", "In depression, clonazepam was started at 0.5 mg twice daily.", 2, "Clonazepam in depression"),
        hit("seizures", "Clonazepam for seizures is started at 1.5 mg twice daily.", 3, "Clonazepam in epilepsy"),
    ]
    assert conflicts("What is the starting dose of clonazepam for depression?", passages) == []


SINUSITIS = "Antibiotics for acute sinusitis"


def test_a_source_listing_the_others_value_as_an_alternative_agrees() -> None:
    passages = [
        hit(
            "table",
            "Amoxicillin 500 mg three times daily or 875 mg twice daily for 5 to 7 days in adults.",
            1,
            SINUSITIS,
        ),
        hit("trial", "Adults received amoxicillin 500 mg three times daily for 10 days.", 2, SINUSITIS),
        hit("other", "Amoxicillin 1000 mg three times daily is used where resistance is common.", 3, SINUSITIS),
    ]
    found = conflicts("What dose of amoxicillin is used for sinusitis in adults?", passages)
    # 875 mg twice daily is another regimen, not another value of 500 mg three times daily; only
    # 1000 mg three times daily disagrees with 500 mg three times daily.
    assert [sorted(values(c)) for c in found] == [["1000 mg three times daily", "500 mg three times daily"]]
    assert found[0].quantity == "amoxicillin dose (mg three times daily)"


def test_mg_per_kg_is_not_compared_with_mg() -> None:
    passages = [
        hit("a", "Amoxicillin: the usual dose is 45 mg/kg/day in children.", 1),
        hit("b", "Amoxicillin: the usual dose is 1500 mg/day in children.", 2),
    ]
    assert conflicts("What dose of amoxicillin is used in children?", passages) == []


def test_durations_of_different_things_are_not_compared() -> None:
    passages = [
        hit("a", "Most acute sinusitis is viral; watchful waiting for 7 to 10 days is reasonable in sinusitis."),
        hit("b", "For bacterial sinusitis give amoxicillin for 5 to 7 days in adults with sinusitis."),
        hit("c", "For bacterial sinusitis give amoxicillin for 5 to 7 days in adults with sinusitis today."),
    ]
    assert conflicts("How long to treat sinusitis?", passages) == []


def test_a_list_of_thresholds_for_different_procedures_is_not_set_against_one_threshold() -> None:
    passages = [
        hit(
            "a",
            "Suggested pre-procedure platelet counts are at least 20 x 10^9/L for central venous catheter placement, "
            "at least 50 x 10^9/L for most major surgery and at least 100 x 10^9/L for neurosurgery.",
        ),
        hit("b", "Prophylactic platelet transfusion is given when the count is below 10 x 10^9/L."),
    ]
    assert conflicts("What is the platelet transfusion threshold?", passages) == []


def test_the_same_stop_time_said_differently_agrees_and_a_different_one_conflicts() -> None:
    agree = [
        hit("a", "Stop warfarin 5 days before surgery."),
        hit("b", "Warfarin is stopped 5 days before elective surgery."),
    ]
    assert conflicts("How many days before surgery should warfarin be stopped?", agree) == []
    differ = [*agree, hit("c", "Stop warfarin 3 days before surgery.")]
    [conflict] = conflicts("How many days before surgery should warfarin be stopped?", differ)
    assert conflict.quantity == "warfarin duration"
    assert sorted(values(conflict)) == ["3 days", "5 days"]


def test_nothing_to_compare_gives_nothing() -> None:
    assert conflicts(DEPRESSION_QUESTION, []) == []
    assert conflicts(DEPRESSION_QUESTION, [hit("a", "Clonazepam is not an antidepressant.")]) == []


# --- the pieces ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "value", "unit", "kind"),
    [
        ("Start 0.25 mg twice daily.", "0.25 mg", "mg twice daily", "starting"),
        (TRIAL, "0.5 to 1 mg/day", "mg/day", "range"),
        (TRIAL, "1 mg", "mg/day", "titration"),
        (META, "0.5 to 2 mg/day", "mg/day", "range"),
        (REVIEW, "0.5 to 1 mg/day", "mg/day", "range"),  # a low-high dose written per day
        ("Commonly 0.25 to 0.5 mg at bedtime.", "0.25 to 0.5 mg at bedtime", "mg/day", "usual"),
        ("Adults: 200 mg on the first day, then 100 mg daily.", "100 mg daily", "mg/day", "titration"),
        (
            "The panic schedule (0.125 mg twice daily every 3 days) is fast.",
            "0.125 mg twice daily",
            "mg twice daily",
            "step",
        ),
        ("The maximum recommended dose is 20 mg/day.", "20 mg/day", "mg/day", "maximum"),
        ("The initial dose should not exceed 1.5 mg/day.", "1.5 mg/day", "mg/day", "maximum"),
        ("Increase in 25 to 50 mg steps.", "25 to 50 mg", "mg", "step"),
        ("Taper by a decrease of 0.125 mg twice daily.", "0.125 mg", "mg twice daily", "step"),
        ("Clonazepam 0.5 mg is equivalent to diazepam 10 mg.", "0.5 mg", "mg", "equivalence"),
        ("Mirtazapine (starting dose 15 mg at bedtime, range 15 to 45 mg).", "15 to 45 mg", "mg", "range"),
        ("Give for 5 to 7 days.", "5 to 7 days", "time", "duration"),
        ("Decrease every 3 days.", "3 days", "time", "interval"),
        ("Transfuse below 10 x 10^9/L.", "10 x 10^9/L", "x10^9/l", "threshold"),
        ("Drowsiness was more common (18% vs 7%).", "7%", "%", "measure"),
    ],
)
def test_value_kind(sentence: str, value: str, unit: str, kind: str) -> None:
    start = sentence.find(value, sentence.find("increased to") if value == "1 mg" else 0)
    assert value_kind(sentence, start, start + len(value), unit, " to " in value) == kind


def test_compatibility() -> None:
    assert not compatible("range", (0.5, 1), (0.5, 2))  # a range states its bounds
    assert compatible("usual", (0.5, 1), (0.5, 2))  # overlapping usual doses agree
    assert compatible("usual", (0.7, 0.7), (0.5, 1))  # a value inside the range
    assert compatible("range", (0.7, 0.7), (0.5, 1))
    assert not compatible("usual", (0.25, 0.4), (0.5, 1))  # disjoint
    assert not compatible("maximum", (150, 150), (200, 200))
    assert compatible("maximum", (200, 200), (205, 205))  # within 5%


def test_context_line_keeps_the_value_and_fits_one_line() -> None:
    quote = (
        "Practical approach: "
        + "words " * 40
        + "choose the lowest dose (commonly 0.25 to 0.5 mg at bedtime)"
        + " more" * 40
    )
    line = context_line(quote, "0.25 to 0.5 mg")
    assert "0.25 to 0.5 mg" in line and len(line) <= 162 and "\n" not in line
    assert line.startswith("\u2026") and line.endswith("\u2026")


# --- the sample corpus ---------------------------------------------------------------------------


def _corpus_conflicts(index_path: Path, settings, question: str) -> list[FoundConflict]:
    """What the answer builder compares: the passages retrieved for the question, judged."""
    from rag_oracle.api import RagOracle

    oracle = RagOracle(index_path, settings)
    # Deep enough for the hash embedder's rough ranking to reach the statements compared.
    passages = oracle.search(question, k=40)
    analysis = analyse(question, oracle.index)
    return find_conflicts(analysis, evidence_for(analysis, passages, oracle.index.documents), passages)


def _hash_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, extra: dict[str, str] | None = None):
    """The shipped sample corpus (plus `extra` markdown files) indexed with the hash embedder."""
    from rag_oracle.api import SAMPLE_SUBDIRS, ingest
    from rag_oracle.settings import load_settings

    for key in list(__import__("os").environ):
        if key.startswith("RAG_ORACLE_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    corpus = tmp_path / "corpus"
    for sub in SAMPLE_SUBDIRS:
        shutil.copytree(REPO / "corpus" / sub, corpus / sub)
    for name, text in (extra or {}).items():
        (corpus / "markdown" / name).write_text(text, encoding="utf-8")
    settings = load_settings().with_overrides(
        {"embed": {"model": "hash:dim=512", "cache_dir": str(tmp_path / "cache")}, "index": {"root": str(tmp_path)}}
    )
    path = tmp_path / "index"
    report = ingest([corpus / sub for sub in SAMPLE_SUBDIRS], path, settings)
    assert report.count("failed") == 0
    return path, settings


PLANTED_DOC = """---
id: planted:clonazepam-dose
source: Planted note
---

# Clonazepam dosing in depression

The dosage of clonazepam for treating depression is 100 mg per day.
"""
SERTRALINE_QUESTIONS = [
    "What is the starting dose of sertraline for major depression?",
    "What is the maximum daily dose of sertraline?",
    "What dose of sertraline is used for depression?",
]


def _assert_the_clonazepam_range_disagreement(found: list[FoundConflict]) -> None:
    ranges = [c for c in found if c.quantity == "clonazepam dose range (mg/day)"]
    assert ranges, [c.quantity for c in found]
    assert sorted(values(ranges[0])) == ["0.5 to 1 mg/day", "0.5 to 2 mg/day"]
    assert "pmid:900000102" in {h.chunk.doc_id for h, _, _ in ranges[0].statements}


def test_sample_corpus_keeps_the_clonazepam_range_disagreement(tmp_path, monkeypatch) -> None:
    path, settings = _hash_index(tmp_path, monkeypatch)
    found = _corpus_conflicts(path, settings, DEPRESSION_QUESTION)
    _assert_the_clonazepam_range_disagreement(found)
    assert not any(c.outlier for c in found)
    for question in SERTRALINE_QUESTIONS:
        assert _corpus_conflicts(path, settings, question) == [], question


def test_planted_outlier_dose_is_flagged_against_the_sample_corpus(tmp_path, monkeypatch) -> None:
    path, settings = _hash_index(tmp_path, monkeypatch, {"planted-clonazepam.md": PLANTED_DOC})
    found = _corpus_conflicts(path, settings, DEPRESSION_QUESTION)
    outlier = found[0]
    assert outlier.outlier and outlier.quantity.startswith("clonazepam daily dose (mg/day): one source is far outside")
    assert (outlier.statements[0][0].chunk.doc_id, outlier.statements[0][1]) == (
        "planted:clonazepam-dose",
        "100 mg per day",
    )
    assert len({h.chunk.doc_id for h, _, _ in outlier.statements[1:]}) >= 2
    _assert_the_clonazepam_range_disagreement(found[1:])


@pytest.mark.slow
def test_sample_index_with_the_real_embedder(sample) -> None:
    settings, path, _ = sample
    _assert_the_clonazepam_range_disagreement(_corpus_conflicts(path, settings, DEPRESSION_QUESTION))
    for question in SERTRALINE_QUESTIONS:
        assert _corpus_conflicts(path, settings, question) == [], question
