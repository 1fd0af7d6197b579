"""Statements keep the scope they sit in: a list item's label, a paragraph's heading, a lead-in over
its list, a table's header row; dangling openers point at the sentence they depend on."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag_oracle.ingest.base import TextBuilder, make_document
from rag_oracle.ingest.textfile import MarkdownLoader
from rag_oracle.text.structure import (
    Statement,
    document_statements,
    is_dangling,
    is_heading_like,
    statements_between,
)
from rag_oracle.types import Document, DocumentMetadata


def doc(*paragraphs: str, section: str = "", sections: list[tuple[str, list[str]]] | None = None) -> Document:
    """A document as the loaders build one: paragraphs joined by blank lines, one span per section."""
    builder = TextBuilder()
    for title, body in sections or [(section, list(paragraphs))]:
        builder.add_section(title, body)
    return make_document(text=builder.text, title="Test", sections=builder.sections, metadata=DocumentMetadata())


def by_text(document: Document) -> dict[str, Statement]:
    return {s.text: s for s in document_statements(document)}


def parts(statement: Statement, kind: str) -> list[str]:
    return [p.text for p in statement.scope if p.kind == kind]


def assert_offsets(document: Document) -> None:
    """Every sentence is the text at its offsets; every scope part with offsets is the text there
    (a table's header part names the header row's cells, so it is checked cell by cell)."""
    text = document.text
    for s in document_statements(document):
        if s.kind == "sentence":
            assert text[s.start : s.end] == s.text, s
        else:
            assert text[s.start : s.end].strip().startswith("|"), s
        for p in s.scope:
            if p.start is None:
                assert p.kind == "section", p  # only a section title lies outside the text
                continue
            if p.kind == "columns":
                written = text[p.start : p.end]
                assert all(cell in written for cell in p.text.split(" | ")), p
            else:
                assert text[p.start : p.end] == p.text, p


# --- labels ---------------------------------------------------------------------------------------

ESCITALOPRAM = (
    "- Escitalopram: start 10 mg once daily; may increase to 20 mg/day. "
    "For older adults, 10 mg/day is the usual recommended dose.\n"
    "- Sertraline: start 50 mg once daily. Older adults may need 25 mg.\n"
    "- Review the response after 4 weeks."
)


def test_a_list_items_label_scopes_every_sentence_of_the_item() -> None:
    d = doc(ESCITALOPRAM, section="Dosing")
    s = by_text(d)
    first = s["Escitalopram: start 10 mg once daily; may increase to 20 mg/day."]
    second = s["For older adults, 10 mg/day is the usual recommended dose."]
    assert second.innermost is not None
    assert (second.innermost.kind, second.innermost.text) == ("label", "Escitalopram")
    assert second.quote(d.text) == "Escitalopram: \u2026 For older adults, 10 mg/day is the usual recommended dose."
    # The first sentence holds its label already: quoted as it stands.
    assert parts(first, "label") == ["Escitalopram"]
    assert first.quote(d.text) == first.text
    assert_offsets(d)


def test_a_label_does_not_leak_into_the_next_list_item() -> None:
    d = doc(ESCITALOPRAM)
    s = by_text(d)
    assert parts(s["Older adults may need 25 mg."], "label") == ["Sertraline"]
    review = s["Review the response after 4 weeks."]
    assert review.innermost is None
    assert review.quote(d.text) == "Review the response after 4 weeks."


SEIZURES = (
    "Dosing in seizure disorders. Adults: the initial dose should not exceed 1.5 mg/day. "
    "The maximum recommended dose is 20 mg/day. "
    "Children up to 10 years or 30 kg: 0.01 to 0.03 mg/kg/day."
)


def test_a_paragraph_heading_and_labels_each_hold_until_the_next() -> None:
    d = doc(SEIZURES)
    statements = document_statements(d)
    # The heading is scope, not a statement of its own.
    assert [s.text for s in statements] == [
        "Adults: the initial dose should not exceed 1.5 mg/day.",
        "The maximum recommended dose is 20 mg/day.",
        "Children up to 10 years or 30 kg: 0.01 to 0.03 mg/kg/day.",
    ]
    assert all(parts(s, "heading") == ["Dosing in seizure disorders"] for s in statements)
    assert [parts(s, "label") for s in statements] == [["Adults"], ["Adults"], ["Children up to 10 years or 30 kg"]]
    maximum = statements[1]
    assert maximum.quote(d.text) == "Adults: \u2026 The maximum recommended dose is 20 mg/day."
    assert [p.kind for p in maximum.labels] == ["heading", "label"]  # outermost first
    assert maximum.scope_text == "Dosing in seizure disorders Adults"
    assert_offsets(d)


@pytest.mark.parametrize(
    "sentence",
    [
        "Amoxicillin is first line for uncomplicated disease: standard dose 500 mg three times daily.",
        "Sertraline is first line: start 50 mg once daily.",  # an auxiliary verb
        "Product labelling describes a schedule: 0.5 mg twice daily.",
        "Doses up to 20: 5 mg each.",  # a number before the colon and after it
        "Mix 1:1 with saline before the infusion.",  # a ratio
        "At 10:30 give the second dose.",  # a time
    ],
)
def test_a_clause_or_ratio_before_a_colon_is_not_a_label(sentence: str) -> None:
    d = doc(sentence)
    [s] = document_statements(d)
    assert s.text == sentence
    assert parts(s, "label") == [] and s.innermost is None
    assert s.quote(d.text) == sentence


@pytest.mark.parametrize(
    ("item", "label"),
    [
        ("1. Day -1: take the last dose in the morning.", "Day -1"),
        ("- Children up to 10 years or 30 kg: 0.01 mg/kg/day.", "Children up to 10 years or 30 kg"),
        ("- Older adults: start 25 mg daily.", "Older adults"),
    ],
)
def test_short_verbless_openers_before_a_colon_are_labels(item: str, label: str) -> None:
    [s] = document_statements(doc(item))
    assert parts(s, "label") == [label]


def test_a_sentence_naming_its_own_scope_is_quoted_alone() -> None:
    d = doc("- Citalopram: start 20 mg daily. Citalopram causes dose-dependent QT prolongation.")
    s = by_text(d)["Citalopram causes dose-dependent QT prolongation."]
    assert parts(s, "label") == ["Citalopram"]
    assert s.quote(d.text) == "Citalopram causes dose-dependent QT prolongation."


def test_a_heading_right_before_the_sentence_is_quoted_contiguously() -> None:
    d = doc("Dosing in panic disorder (adults). Start 0.25 mg twice daily. The maximum dose is 4 mg/day.")
    start, maximum = document_statements(d)
    assert parts(start, "heading") == ["Dosing in panic disorder (adults)"]
    assert start.quote(d.text) == "Dosing in panic disorder (adults). Start 0.25 mg twice daily."
    assert maximum.quote(d.text) == "Dosing in panic disorder (adults): \u2026 The maximum dose is 4 mg/day."


def test_a_one_sentence_paragraph_is_a_statement_not_a_heading() -> None:
    d = doc("Older adults.", "Start 25 mg daily.")
    assert [(s.text, s.innermost) for s in document_statements(d)] == [
        ("Older adults.", None),
        ("Start 25 mg daily.", None),
    ]


# --- lead-ins and heading paragraphs --------------------------------------------------------------


def test_a_lead_in_holds_over_its_list_across_blank_lines_and_ends_at_prose() -> None:
    lead = "The following doses are approximately equivalent to diazepam 10 mg"
    d = doc(
        f"Benzodiazepines differ in potency. {lead}:",
        "- Lorazepam 1 mg",
        "- Clonazepam 0.5 mg\n- Alprazolam 0.5 mg",
        "Switch gradually over several weeks.",
        "- Review at 4 weeks.",
    )
    s = by_text(d)
    assert s[f"{lead}:"].lead_in_of_block
    assert not s["Benzodiazepines differ in potency."].lead_in_of_block
    assert parts(s["Benzodiazepines differ in potency."], "lead_in") == []
    for item in ("Lorazepam 1 mg", "Clonazepam 0.5 mg", "Alprazolam 0.5 mg"):
        assert parts(s[item], "lead_in") == [lead], item
    assert parts(s["Switch gradually over several weeks."], "lead_in") == []
    assert s["Switch gradually over several weeks."].scope == ()
    assert s["Review at 4 weeks."].scope == ()  # a list after the prose is not the lead-in's
    assert_offsets(d)


def test_a_verbless_lead_in_is_a_heading_over_its_list() -> None:
    d = doc("For intermediate or high probability:", "- Stop heparin.", "- Start a non-heparin anticoagulant.")
    s = by_text(d)
    assert parts(s["Stop heparin."], "heading") == ["For intermediate or high probability"]
    assert parts(s["Start a non-heparin anticoagulant."], "heading") == ["For intermediate or high probability"]
    assert parts(s["Stop heparin."], "lead_in") == []
    assert s["Stop heparin."].quote(d.text) == "For intermediate or high probability: \u2026 Stop heparin."


def test_a_heading_paragraph_heads_the_list_after_it_but_not_the_prose_after_that() -> None:
    heading = "Apixaban, rivaroxaban and edoxaban"
    d = doc(
        heading,
        "- Low bleeding risk: stop 2 days before surgery.\n- High bleeding risk: stop 3 days before surgery.",
        "Warfarin is stopped 5 days before surgery.",
    )
    s = by_text(d)
    assert heading not in {st.text for st in document_statements(d)}
    low = s["Low bleeding risk: stop 2 days before surgery."]
    assert parts(low, "heading") == [heading] and parts(low, "label") == ["Low bleeding risk"]
    assert parts(s["High bleeding risk: stop 3 days before surgery."], "heading") == [heading]
    warfarin = s["Warfarin is stopped 5 days before surgery."]
    assert warfarin.scope == () and warfarin.quote(d.text) == warfarin.text
    assert_offsets(d)


# --- tables ---------------------------------------------------------------------------------------

MARKDOWN_TABLE = """\
# Antidepressant dosing

## Starting doses

Usual doses in adults:

| Drug | Starting dose | Maximum dose |
|------|---------------|--------------|
| **Sertraline** | 50 mg/day | 200 mg/day |
| Escitalopram | 10 mg/day |  |

Review the response after 4 weeks.
"""


def test_a_markdown_table_becomes_one_row_statement_per_row(tmp_path: Path) -> None:
    path = tmp_path / "table.md"
    path.write_text(MARKDOWN_TABLE, encoding="utf-8")
    d = MarkdownLoader().load(path).documents[0]
    rows = [s for s in document_statements(d) if s.kind == "row"]
    assert [r.text for r in rows] == [
        "Drug: Sertraline; Starting dose: 50 mg/day; Maximum dose: 200 mg/day.",
        "Drug: Escitalopram; Starting dose: 10 mg/day.",  # an empty cell is left out
    ]
    for row in rows:
        assert parts(row, "columns") == ["Drug | Starting dose | Maximum dose"]
        assert parts(row, "section") == ["Starting doses"]
        assert row.section == "Starting doses"
        assert row.quote(d.text) == row.text  # a row already names its columns
    # The lead-in before the table scopes its rows; the header row and separator are no statements.
    assert all(parts(r, "heading") == ["Usual doses in adults"] for r in rows)
    texts = [s.text for s in document_statements(d)]
    assert not any("---" in t or t.startswith("Drug: Drug") for t in texts)
    assert d.text[rows[0].start : rows[0].end] == "| Sertraline | 50 mg/day | 200 mg/day |"
    after = by_text(d)["Review the response after 4 weeks."]
    assert after.kind == "sentence" and parts(after, "columns") == [] and parts(after, "heading") == []
    assert_offsets(d)


def test_a_separator_line_in_the_text_is_skipped() -> None:
    d = doc("| Risk | Hold |\n| --- | --- |\n| Low | 1 day |\n| High | 2 days |")
    assert [(s.kind, s.text) for s in document_statements(d)] == [
        ("row", "Risk: Low; Hold: 1 day."),
        ("row", "Risk: High; Hold: 2 days."),
    ]


# --- dangling openers -----------------------------------------------------------------------------


def test_a_dangling_opener_depends_on_the_sentence_before_it_in_the_paragraph() -> None:
    d = doc(
        "Start 0.25 mg twice daily. That schedule suits most adults. It is well tolerated.",
        "It also helps sleep.",
    )
    statements = document_statements(d)
    assert [s.antecedent for s in statements] == [None, 0, 1, None]  # never across paragraphs
    assert [s.index for s in statements] == [0, 1, 2, 3]


def test_a_sentence_that_does_not_open_with_a_reference_has_no_antecedent() -> None:
    d = doc("Start 0.25 mg twice daily. Italy and Thailand use the same schedule. Therapy lasts 6 months.")
    assert [s.antecedent for s in document_statements(d)] == [None, None, None]


def test_a_dangling_opener_after_a_heading_does_not_reach_into_the_previous_paragraph() -> None:
    d = doc("Sertraline is an SSRI.", "Older adults. They need a lower dose.")
    they = by_text(d)["They need a lower dose."]
    assert parts(they, "heading") == ["Older adults"]
    assert they.antecedent is None


# --- sections, offsets and lookup -----------------------------------------------------------------


def test_sections_scope_their_statements_without_offsets() -> None:
    d = doc(sections=[("Dosage", ["Start 0.25 mg twice daily."]), ("Warnings", ["Avoid with opioids."])])
    start, warning = document_statements(d)
    assert (start.section, warning.section) == ("Dosage", "Warnings")
    assert [(p.kind, p.text, p.start) for p in start.scope] == [("section", "Dosage", None)]
    assert start.labels == () and start.innermost is None
    assert start.spans() == [(start.start, start.end)]  # the title is not in the text to highlight
    assert_offsets(d)


def test_spans_cover_the_scope_in_the_text_and_then_the_sentence() -> None:
    d = doc(SEIZURES)
    maximum = document_statements(d)[1]
    assert [d.text[a:b] for a, b in maximum.spans()] == [
        "Dosing in seizure disorders",
        "Adults",
        "The maximum recommended dose is 20 mg/day.",
    ]


def test_a_document_built_directly_without_sections() -> None:
    text = "Stop warfarin 5 days before surgery. Check the INR the day before surgery."
    d = Document(id="x", text=text, content_hash="h")
    statements = document_statements(d)
    assert [s.text for s in statements] == [
        "Stop warfarin 5 days before surgery.",
        "Check the INR the day before surgery.",
    ]
    assert all(s.scope == () and s.section == "" for s in statements)
    assert_offsets(d)


def test_statements_between_returns_only_those_inside_the_span() -> None:
    d = doc("Start 0.25 mg twice daily. Raise by 0.125 mg every 3 days.", "Avoid with opioids.")
    cut = d.text.index("Raise")
    assert [s.text for s in statements_between(d, 0, cut)] == ["Start 0.25 mg twice daily."]
    assert [s.text for s in statements_between(d, cut, len(d.text))] == [
        "Raise by 0.125 mg every 3 days.",
        "Avoid with opioids.",
    ]
    assert statements_between(d, 3, cut) == []  # a sentence cut in two is in neither half


@pytest.mark.parametrize(
    "document",
    [doc(ESCITALOPRAM), doc(SEIZURES), doc("Older adults. Start 25 mg daily. These patients need slower titration.")],
)
def test_offsets_match_the_text(document: Document) -> None:
    assert_offsets(document)


def test_a_heading_paragraph_after_extra_whitespace_keeps_its_offsets() -> None:
    text = "Sertraline is an SSRI.\n\n\nApixaban and edoxaban\n\n- Stop 2 days before surgery."
    d = Document(id="x", text=text, content_hash="h")
    stop = by_text(d)["Stop 2 days before surgery."]
    assert stop.quote(d.text) == "Apixaban and edoxaban: \u2026 Stop 2 days before surgery."
    assert_offsets(d)


# --- the predicates -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["Boxed warning.", "Older adults.", "Dosing in panic disorder (adults).", "Renal impairment:", "Apixaban"],
)
def test_heading_like(text: str) -> None:
    assert is_heading_like(text)


@pytest.mark.parametrize(
    "text",
    [
        "Start 0.25 mg twice daily.",  # a number
        "Stop warfarin before surgery.",  # an imperative
        "Warfarin is stopped early.",  # a verb
        "Clonazepam may cause sedation.",
        "dosing in older adults.",  # lower case: a fragment, not a heading
        "Dosing of clonazepam in older adults with panic.",  # seven words
        "",
    ],
)
def test_not_heading_like(text: str) -> None:
    assert not is_heading_like(text)


@pytest.mark.parametrize(
    "text",
    [
        "It is well tolerated.",
        "That schedule suits most adults.",
        "These patients need less.",
        "However, avoid it.",
        "In this case, halve the dose.",
        "The latter is preferred.",
        "  They improved.",
    ],
)
def test_dangling(text: str) -> None:
    assert is_dangling(text)


@pytest.mark.parametrize(
    "text",
    ["Italy uses it.", "Thesis: none.", "Therapy lasts 6 months.", "Theophylline interacts.", "The dose is 5 mg."],
)
def test_not_dangling(text: str) -> None:
    assert not is_dangling(text)
