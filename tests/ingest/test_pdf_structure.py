"""The PDF loader keeps the document's structure: tables as pipe rows, headings as sections,
no running footers, paragraphs joined from wrapped lines."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rag_oracle.ingest.pdf import PdfLoader
from rag_oracle.types import Document
from tests.conftest import make_pdf

SAMPLE_PDFS = Path(__file__).resolve().parents[2] / "corpus" / "pdf"
PROTOCOL = SAMPLE_PDFS / "perioperative-anticoagulant-protocol.pdf"
BENZODIAZEPINES = SAMPLE_PDFS / "benzodiazepine-equivalence-and-switching.pdf"
SINUSITIS = SAMPLE_PDFS / "acute-sinusitis-stewardship-guide.pdf"
_ROW = re.compile(r"^\| .* \|$")


def load(path: Path) -> Document:
    [doc] = PdfLoader().load(path).documents
    return doc


def tables(doc: Document) -> list[list[str]]:
    """Every table of the text: a paragraph whose lines are all `| cell | cell |` rows."""
    return [para.split("\n") for para in doc.text.split("\n\n") if all(_ROW.match(r) for r in para.split("\n"))]


def table_with(doc: Document, word: str) -> list[str]:
    [table] = [t for t in tables(doc) if any(word in row for row in t)]
    return table


def section_text(doc: Document, title: str) -> str:
    [section] = [s for s in doc.sections if s.title == title]
    return doc.text[section.start : section.end]


@pytest.fixture(scope="module")
def protocol() -> Document:
    return load(PROTOCOL)


# --- the sample corpus --------------------------------------------------------------------


def test_doac_hold_table_is_pipe_rows_header_first(protocol: Document) -> None:
    assert table_with(protocol, "Apixaban") == [
        "| Drug and renal function | Low/moderate bleeding risk | High bleeding risk |",
        "| Apixaban, rivaroxaban, edoxaban | 1-day hold | 2-day hold |",
        "| Dabigatran, CrCl 50 mL/min or more | 1-day hold | 2-day hold |",  # a cell wrapped over two lines
        "| Dabigatran, CrCl 30 to 49 mL/min | 2-day hold | 4-day hold |",
    ]
    block = "\n".join(table_with(protocol, "Apixaban"))
    at = protocol.text.index(block)
    assert protocol.text[at - 2 : at] == "\n\n" and protocol.text[at + len(block) : at + len(block) + 2] == "\n\n"
    assert protocol.text[:at].endswith('"2 to 3 days".\n\n')  # the paragraph before stays a paragraph


def test_benzodiazepine_equivalence_table_follows_its_introduction() -> None:
    doc = load(BENZODIAZEPINES)
    table = table_with(doc, "Lorazepam")
    assert table[0] == "| Drug | Approximate equivalent dose | Elimination half-life (hours) |"
    assert "| Lorazepam | 1 mg | 10 to 20 |" in table
    assert "| Chlordiazepoxide | 25 mg | 5 to 30 (with long-acting metabolites) |" in table
    assert len(table) == 8
    assert "roughly equivalent to diazepam 10 mg:\n\n| Drug | Approximate" in doc.text
    assert not [s.title for s in doc.sections if s.title.startswith("Drug")]  # the header row is no heading
    assert section_text(doc, "Approximate oral equivalents").startswith("The following doses")


def test_wrapped_cells_join_within_their_column() -> None:
    table = table_with(load(SINUSITIS), "Amoxicillin")
    assert table[0] == "| Situation | Antibiotic and adult dose | Duration |"
    assert "| First line | Amoxicillin 500 mg three times daily or 875 mg twice daily | 5 to 7 days |" in table
    assert "| Penicillin allergy | Doxycycline 100 mg twice daily or 200 mg once daily | 5 to 7 days |" in table


@pytest.mark.parametrize("path", [PROTOCOL, BENZODIAZEPINES, SINUSITIS], ids=lambda p: p.stem)
def test_running_footer_is_dropped(path: Path) -> None:
    doc = load(path)
    assert "not clinical guidance - page" not in doc.text
    assert not re.search(r"page \d of \d", doc.text)
    assert doc.text.endswith("demonstration corpus; not clinical guidance.")  # the closing note itself stays


def test_headings_are_section_titles_not_glued_to_paragraphs(protocol: Document) -> None:
    titles = [s.title for s in protocol.sections]
    assert titles == [
        "",
        "Scope",
        "Step 1: classify the bleeding risk of the procedure",
        "Step 2: classify the thrombotic risk of the patient",
        "Step 3: warfarin",
        "Step 4: direct oral anticoagulants",
        "Key points",
        "Note",
    ]
    assert section_text(protocol, "Step 4: direct oral anticoagulants").startswith('In this protocol, a "1-day hold"')
    assert "Step 4: direct oral anticoagulants" not in protocol.text
    assert "Is it bacterial?" in [s.title for s in load(SINUSITIS).sections]  # told by its bold font


def test_page_of_still_finds_the_page(protocol: Document) -> None:
    assert len(protocol.page_starts) == 3
    assert protocol.page_of(protocol.text.index("This protocol covers adults")) == 1
    assert protocol.page_of(protocol.text.index("Bridging increases major bleeding")) == 2
    assert protocol.page_of(protocol.text.index("Day -6: last dose of warfarin")) == 2
    assert protocol.page_of(protocol.text.index("| Drug and renal function")) == 3


def test_hyphens_and_list_items(protocol: Document) -> None:
    assert "two- to three-fold" in protocol.text and "twoto" not in protocol.text
    assert "low-molecular-weight heparin" in protocol.text
    assert "\n\n- Moderate: atrial fibrillation with a high CHA2DS2-VASc score" in protocol.text
    assert "\n\n- Low: atrial fibrillation" in protocol.text


# --- PDFs built here ----------------------------------------------------------------------


def test_built_two_column_table(tmp_path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    pdf.add_page()
    pdf.multi_cell(0, 6, "Blood-pressure targets depend on age:", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    with pdf.table(col_widths=(40, 80), text_align="LEFT") as table:
        for cells in [
            ["Population", "Systolic target"],
            ["Adults under 65", "Below 130 mmHg"],
            ["Adults 65 or older, frail", "Below 140 mmHg when standing blood pressure allows it"],
        ]:
            row = table.row()
            for cell in cells:
                row.cell(cell)
    pdf.ln(3)
    pdf.multi_cell(0, 6, "Check orthostatic blood pressure before lowering treatment further.")
    path = tmp_path / "targets.pdf"
    pdf.output(str(path))

    doc = load(path)
    assert tables(doc) == [
        [
            "| Population | Systolic target |",
            "| Adults under 65 | Below 130 mmHg |",
            "| Adults 65 or older, frail | Below 140 mmHg when standing blood pressure allows it |",
        ]
    ]
    assert doc.text.startswith("Blood-pressure targets depend on age:\n\n| Population |")
    assert doc.text.endswith("|\n\nCheck orthostatic blood pressure before lowering treatment further.")


def test_built_table_without_borders(tmp_path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    pdf.add_page()
    pdf.multi_cell(0, 6, "Starting doses:", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    for drug, dose in [("Drug", "Dose"), ("Sertraline", "50 mg daily"), ("Mirtazapine", "15 mg at night")]:
        pdf.cell(50, 6, drug)
        pdf.cell(50, 6, dose, new_x="LMARGIN", new_y="NEXT")
    path = tmp_path / "doses.pdf"
    pdf.output(str(path))

    assert tables(load(path)) == [
        ["| Drug | Dose |", "| Sertraline | 50 mg daily |", "| Mirtazapine | 15 mg at night |"]
    ]


def test_two_column_prose_is_read_column_by_column_not_as_a_table(tmp_path: Path) -> None:
    from fpdf import FPDF

    left = "Warfarin is stopped five days before the procedure in most patients. " * 6
    right = "Apixaban is held for one day before low risk procedures and two days before high risk ones. " * 6
    pdf = FPDF()
    pdf.set_font("Helvetica", size=10)
    pdf.add_page()
    top = pdf.get_y()
    pdf.set_xy(10, top)
    pdf.multi_cell(90, 5, left)
    pdf.set_xy(110, top)
    pdf.multi_cell(90, 5, right)
    path = tmp_path / "columns.pdf"
    pdf.output(str(path))

    doc = load(path)
    assert tables(doc) == []
    assert left.strip() in doc.text and right.strip() in doc.text
    assert doc.text.index(left.strip()) < doc.text.index(right.strip())


def test_built_line_breaks_hyphens_and_running_header(tmp_path: Path) -> None:
    from fpdf import FPDF

    class WithHeader(FPDF):
        def header(self) -> None:
            self.set_font("Helvetica", size=8)
            self.cell(0, 6, "Sample Hospital - Anticoagulation handbook", new_x="LMARGIN", new_y="NEXT")
            self.set_font("Helvetica", size=11)

        def footer(self) -> None:
            self.set_y(-15)
            self.set_font("Helvetica", size=8)
            self.cell(0, 10, f"Page {self.page_no()}", align="C")

    pdf = WithHeader()
    pdf.set_font("Helvetica", size=11)
    for text in [
        "Give therapeutic low-molecular-\nweight heparin while the INR is low. The antico-\nagulant effect "
        "of warfarin wears off over five days.",
        "Bridging raises major bleeding two-\nto three-fold in most trials.",
        "Restart apixaban once haemostasis is secure.",
    ]:
        pdf.add_page()
        pdf.multi_cell(0, 6, text)
    path = tmp_path / "handbook.pdf"
    pdf.output(str(path))

    doc = load(path)
    assert "Anticoagulation handbook" not in doc.text and "Page " not in doc.text
    assert "therapeutic low-molecular-weight heparin while the INR is low." in doc.text
    assert "The anticoagulant effect of warfarin" in doc.text
    assert "two- to three-fold" in doc.text
    assert doc.page_of(doc.text.index("Bridging raises")) == 2
    assert doc.page_of(doc.text.index("Restart apixaban")) == 3


def test_make_pdf_headings_still_found_by_their_words(tmp_path: Path) -> None:
    path = make_pdf(
        tmp_path / "plain.pdf",
        "Plain handout",
        [["Dosing", "Start low.", "Monitoring", "Check the INR weekly."]],
    )
    doc = load(path)
    assert [s.title for s in doc.sections] == ["Dosing", "Monitoring"]
    assert doc.text == "Start low.\n\nCheck the INR weekly."
