"""The offline vocabulary: drugs (canonical, brands resolved, with offsets), drug classes and their
members, the populations a text names or is about, and creatinine clearance ranges."""

from __future__ import annotations

import math

import pytest

from rag_oracle.text import lexicon
from rag_oracle.text.lexicon import (
    clearance_ranges,
    contradicts,
    drug_mentions,
    drugs_in,
    is_class,
    member_of,
    populations_in,
    stated_populations,
)

SSRIS = "selective serotonin reuptake inhibitors"

# --- drugs ----------------------------------------------------------------------------------------


def test_mentions_give_canonical_names_surfaces_and_offsets_in_order() -> None:
    text = "Augment Sertraline (50 mg/day) with clonazepam 0.5 mg at bedtime."
    mentions = drug_mentions(text)
    assert [(m.name, m.surface) for m in mentions] == [("sertraline", "Sertraline"), ("clonazepam", "clonazepam")]
    for m in mentions:
        assert text[m.start : m.end] == m.surface
    assert mentions[0].start < mentions[1].start


@pytest.mark.parametrize(
    ("brand", "name"),
    [
        ("Zoloft", "sertraline"),
        ("Klonopin", "clonazepam"),
        ("Xanax", "alprazolam"),
        ("Lexapro", "escitalopram"),
        ("Eliquis", "apixaban"),
        ("Coumadin", "warfarin"),
    ],
)
def test_brand_names_resolve_to_the_drug(brand: str, name: str) -> None:
    text = f"Take {brand} 5 mg daily."
    [m] = drug_mentions(text)
    assert (m.name, m.surface, text[m.start : m.end]) == (name, brand, brand)


def test_a_brand_and_its_generic_are_one_drug() -> None:
    assert drugs_in("Zoloft") == drugs_in("sertraline") == frozenset({"sertraline"})


def test_multiword_and_combination_names() -> None:
    assert [m.surface for m in drug_mentions("clavulanic acid")] == ["clavulanic acid"]
    assert drugs_in("amoxicillin-clavulanate 875 mg") == frozenset({"amoxicillin", "clavulanic acid"})


def test_classes_are_named_by_their_canonical_heading() -> None:
    assert drugs_in("SSRIs are first line.") == frozenset({SSRIS})
    assert drugs_in("Avoid benzodiazepines.") == frozenset({"benzodiazepines"})
    assert drugs_in("statins") == frozenset({"hydroxymethylglutaryl-coa reductase inhibitors"})


@pytest.mark.parametrize(
    "text", ["Give oxygen and water.", "Restrict sodium and potassium; avoid alcohol.", "No drug is named here.", ""]
)
def test_words_that_are_not_drugs_in_clinical_prose(text: str) -> None:
    assert drug_mentions(text) == ()
    assert drugs_in(text) == frozenset()


def test_a_class_written_out_is_the_class() -> None:
    assert drugs_in("Selective serotonin reuptake inhibitors are first line.") == frozenset({SSRIS})


# --- classes --------------------------------------------------------------------------------------


def test_classes_and_single_drugs() -> None:
    drug_mentions("SSRIs, benzodiazepines, penicillins, anticoagulants, opioids, sertraline, warfarin, clonazepam")
    for name in (SSRIS, "benzodiazepines", "penicillins", "anticoagulants", "analgesics, opioid"):
        assert is_class(name), name
    for name in ("sertraline", "warfarin", "clonazepam", "glass"):
        assert not is_class(name), name


def test_ssris_contain_sertraline_but_not_clonazepam() -> None:
    assert member_of("sertraline", SSRIS) is True
    assert member_of("escitalopram", SSRIS) is True
    assert member_of("clonazepam", SSRIS) is False
    assert member_of("rivaroxaban", "factor xa inhibitors") is True
    assert member_of("warfarin", "factor xa inhibitors") is False


def test_benzodiazepines_contain_clonazepam_by_mesh_tree_and_no_opioid() -> None:
    drug_mentions("clonazepam, diazepam, morphine, oxycodone and sertraline versus benzodiazepines")
    assert "benzodiazepines" not in lexicon.CLASS_MEMBERS  # read from the tree, not from the list
    assert member_of("clonazepam", "benzodiazepines") is True
    assert member_of("diazepam", "benzodiazepines") is True
    assert member_of("morphine", "benzodiazepines") is False
    assert member_of("oxycodone", "benzodiazepines") is False
    assert member_of("sertraline", "benzodiazepines") is False


def test_membership_is_unknown_when_neither_the_list_nor_the_tree_can_tell() -> None:
    drug_mentions("clonazepam and opioids")
    assert member_of("clonazepam", "a class nobody named") is None
    assert member_of("clonazepam", "analgesics, opioid") is None  # a pharmacologic action: no tree to read


def test_class_membership_does_not_depend_on_what_was_read_before(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lexicon, "_TREES", {})  # the state of a process that has read no text yet
    member_of.cache_clear()  # memoised answers were read from the trees the process had
    is_class.cache_clear()
    try:
        assert member_of("clonazepam", "benzodiazepines") is True
    finally:
        member_of.cache_clear()
        is_class.cache_clear()


def test_factor_xa_inhibitors_are_a_class() -> None:
    [m] = drug_mentions("factor Xa inhibitors")
    assert is_class(m.name)


def test_a_monoclonal_antibody_is_one_drug_not_a_class() -> None:
    names = [m.name for m in drug_mentions("rituximab, infliximab and tenecteplase")]
    assert names == ["rituximab", "infliximab", "tenecteplase"]
    assert not any(is_class(n) for n in names)


# --- populations ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("adults aged 70 to 89", {"older adults"}),  # older adults are not adults in general
        ("adults aged 65 and older", {"older adults"}),
        ("elderly patients", {"older adults"}),
        ("patients over 75", {"older adults"}),
        ("adults aged 18 to 64", {"adults"}),
        ("older adults and adults 18 to 64", {"adults", "older adults"}),  # younger adults named too
        ("adults under 65 and older adults", {"adults", "older adults"}),
        ("the adult dose", {"adults"}),
        ("children under 12 years", {"children"}),
        ("infants and neonates", {"children"}),
        ("aged 16 years", {"children"}),
        ("in pregnancy or breastfeeding", {"pregnancy"}),
        ("creatinine clearance below 30 mL/min", {"renal"}),
        ("on haemodialysis", {"renal"}),
        ("in cirrhosis", {"hepatic"}),
        ("older adults with renal impairment", {"older adults", "renal"}),
        ("Start 0.25 mg twice daily.", set()),
    ],
)
def test_populations_in(text: str, expected: set[str]) -> None:
    assert populations_in(text) == frozenset(expected)


def test_child_pugh_is_hepatic_not_children() -> None:
    assert populations_in("In Child-Pugh B cirrhosis, reduce to 5 mg.") == frozenset({"hepatic"})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a criterion, not the statement's population
        ("Reduce to 2.5 mg if the patient has two of: age 80 years or older, weight 60 kg or less.", set()),
        ("For example, in children 5 mg.", set()),
        ("Use caution in older adults, such as those with renal impairment.", {"older adults"}),
        # the parenthesis is an aside when something else is named
        ("Treat for 10 to 14 days in children (adults usually 5 to 7 days).", {"children"}),
        # ... and the statement's population when nothing else is
        ("Use argatroban (preferred in renal impairment).", {"renal"}),
        ("In adults, 5 mg; when pregnant, avoid.", {"adults"}),
        ("Adults: 10 mg daily.", {"adults"}),
    ],
)
def test_stated_populations(text: str, expected: set[str]) -> None:
    assert stated_populations(text) == frozenset(expected)


@pytest.mark.parametrize(
    ("asked", "stated", "expected"),
    [
        # nothing stated contradicts nothing
        ((), (), False),
        (("children",), (), False),
        # a question naming no population is about adults: only a children-only statement contradicts it
        ((), ("children",), True),
        ((), ("children", "adults"), False),
        ((), ("older adults",), False),
        ((), ("renal",), False),
        # naming the question's population never contradicts
        (("older adults",), ("older adults", "adults"), False),
        (("renal",), ("renal", "children"), False),
        # between age groups, only another group contradicts
        (("older adults",), ("adults",), True),
        (("adults",), ("older adults",), True),
        (("adults",), ("children",), True),
        (("children",), ("adults",), True),
        (("children",), ("renal",), False),
        # a special population alone is about adults
        (("renal",), ("children",), True),
        (("renal",), ("adults",), False),
        (("renal",), ("older adults",), False),
        (("pregnancy",), ("older adults",), False),
        # between special populations, only another one contradicts
        (("renal",), ("hepatic",), True),
        (("renal",), ("pregnancy",), True),
        (("pregnancy",), ("hepatic",), True),
        (("older adults", "renal"), ("hepatic",), True),
        (("older adults",), ("renal",), False),
        (("older adults", "renal"), ("adults",), True),
    ],
)
def test_contradicts(asked: tuple[str, ...], stated: tuple[str, ...], expected: bool) -> None:
    assert contradicts(frozenset(asked), frozenset(stated)) is expected


def test_a_renal_question_is_contradicted_by_a_children_only_statement() -> None:
    asked = populations_in("What is the dose of apixaban in renal impairment?")
    assert asked == frozenset({"renal"})
    assert contradicts(asked, stated_populations("In children, apixaban 2.5 mg twice daily."))
    assert not contradicts(asked, stated_populations("Adults: apixaban 5 mg twice daily."))


# --- creatinine clearance -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30 to 49 mL/min", [(30.0, 50.0)]),
        ("CrCl 15-29 mL/min", [(15.0, 30.0)]),
        ("15\u201329 mL/min", [(15.0, 30.0)]),
        ("below 30 mL/min", [(0.0, 30.0)]),
        ("less than 30 ml/min", [(0.0, 30.0)]),
        ("< 30 mL/min", [(0.0, 30.0)]),
        ("50 mL/min or more", [(50.0, math.inf)]),
        ("50 mL/min or higher", [(50.0, math.inf)]),
        ("above 50 mL/min", [(50.0, math.inf)]),
        ("at least 50 mL/min", [(50.0, math.inf)]),
        ("30 to 49 mL/min; below 15 mL/min", [(30.0, 50.0), (0.0, 15.0)]),
        ("Give 30 mg.", []),
        ("30 to 49 mg/day", []),
    ],
)
def test_clearance_ranges(text: str, expected: list[tuple[float, float]]) -> None:
    assert clearance_ranges(text) == expected
