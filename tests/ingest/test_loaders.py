"""Every loader: a good file, an empty file, a corrupt file; plus the XML safety rules."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from rag_oracle.errors import (
    CorruptFileError,
    EmptyFileError,
    EncryptedFileError,
    UnsafeXmlError,
    UnsupportedFormatError,
)
from rag_oracle.ingest.detect import loader_for
from tests.conftest import JATS_XML


def load(path: Path):
    return loader_for(path).load(path)


# --- PubMed -------------------------------------------------------------------------------


def test_pubmed_fields(corpus_dir: Path) -> None:
    [doc] = load(corpus_dir / "pubmed.xml").documents
    m = doc.metadata
    assert doc.id == "pmid:800000101"
    assert doc.title == "Warfarin interruption before surgery"
    assert [s.title for s in doc.sections] == ["BACKGROUND", "RESULTS", "CONCLUSIONS"]
    results = doc.sections[1]
    assert doc.text[results.start : results.end].startswith("Stopping warfarin 5 days")
    assert m.year == 2018 and m.journal == "Test Journal of Pharmacology"
    assert m.authors == ["Okafor A", "Test Study Group"]
    assert m.doi == "10.5555/test.800000101" and m.pmcid == "PMC42"
    assert m.mesh_terms == ["Warfarin"] and m.publication_types == ["Randomized Controlled Trial"]


def test_pubmed_gzipped_baseline_file(tmp_path: Path, corpus_dir: Path) -> None:
    gz = tmp_path / "pubmed24n0001.xml.gz"
    gz.write_bytes(gzip.compress((corpus_dir / "pubmed.xml").read_bytes()))
    [doc] = load(gz).documents
    assert doc.id == "pmid:800000101"


def test_pubmed_article_without_pmid_is_a_warning_not_a_failure(tmp_path: Path, corpus_dir: Path) -> None:
    text = (corpus_dir / "pubmed.xml").read_text()
    broken = text.replace('<PMID Version="1">800000101</PMID>', "")
    both = text.replace("</PubmedArticleSet>", broken[broken.index("<PubmedArticle>") :])
    path = tmp_path / "two.xml"
    path.write_text(both)
    result = load(path)
    assert len(result.documents) == 1
    assert "no PMID" in result.warnings[0]


@pytest.mark.parametrize(
    ("content", "error"),
    [
        ("", EmptyFileError),
        ("   \n", EmptyFileError),
        ("<PubmedArticleSet><PubmedArticle>", CorruptFileError),
        ("<PubmedArticleSet></PubmedArticleSet>", CorruptFileError),
    ],
)
def test_pubmed_bad_files(tmp_path: Path, content: str, error: type) -> None:
    path = tmp_path / "bad.xml"
    path.write_text(content)
    with pytest.raises(error):
        load(path)


def test_xml_entity_bomb_is_refused(tmp_path: Path) -> None:
    bomb = """<?xml version="1.0"?>
<!DOCTYPE PubmedArticleSet [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>
<PubmedArticleSet><PubmedArticle><MedlineCitation><PMID>1</PMID><Article><ArticleTitle>&c;</ArticleTitle></Article></MedlineCitation></PubmedArticle></PubmedArticleSet>"""
    path = tmp_path / "bomb.xml"
    path.write_text(bomb)
    with pytest.raises(UnsafeXmlError, match="entity"):
        load(path)


def test_xml_external_entity_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET")
    xxe = f"""<?xml version="1.0"?>
<!DOCTYPE PubmedArticleSet [<!ENTITY x SYSTEM "file://{secret}">]>
<PubmedArticleSet><PubmedArticle><MedlineCitation><PMID>1</PMID><Article><ArticleTitle>&x;</ArticleTitle></Article></MedlineCitation></PubmedArticle></PubmedArticleSet>"""
    path = tmp_path / "xxe.xml"
    path.write_text(xxe)
    with pytest.raises(UnsafeXmlError):
        load(path)


def test_unknown_xml_root_is_unsupported(tmp_path: Path) -> None:
    path = tmp_path / "feed.xml"
    path.write_text("<rss><channel/></rss>")
    with pytest.raises(UnsupportedFormatError, match="rss"):
        loader_for(path)


# --- JATS --------------------------------------------------------------------------------


def test_jats_fields_and_sections(corpus_dir: Path) -> None:
    [doc] = load(corpus_dir / "article.xml").documents
    assert doc.id == "pmcid:PMC7000001"
    assert doc.title == "Platelet counts after heparin exposure"
    assert doc.metadata.pmid == "800000001" and doc.metadata.doi == "10.5555/test.jats"
    assert doc.metadata.year == 2020 and doc.metadata.authors == ["Lindgren ME"]
    assert [s.title for s in doc.sections] == ["Abstract", "Methods", "Methods > Statistics", "Results"]
    assert "ten days" in doc.text  # inline markup kept as text
    assert "Figure text" not in doc.text  # figures are left out


def test_jats_without_text_fails(tmp_path: Path) -> None:
    path = tmp_path / "empty-article.xml"
    path.write_text("<article><front><article-meta/></front></article>")
    with pytest.raises(CorruptFileError, match="no article"):
        load(path)


def test_jats_malformed(tmp_path: Path) -> None:
    path = tmp_path / "broken.xml"
    path.write_text(JATS_XML[:400])
    with pytest.raises(CorruptFileError, match="malformed XML"):
        load(path)


# --- PDF ---------------------------------------------------------------------------------


def test_pdf_pages_title_and_sections(corpus_dir: Path) -> None:
    [doc] = load(corpus_dir / "clonazepam.pdf").documents
    assert doc.title == "Clonazepam dosing handout"
    assert len(doc.page_starts) == 2
    page2 = doc.page_starts[1]
    assert doc.text[page2:].lstrip().startswith("Taper clonazepam")
    assert doc.page_of(doc.text.index("0.25 mg")) == 1
    assert doc.page_of(doc.text.index("0.125 mg")) == 2
    assert [s.title for s in doc.sections] == ["Clonazepam Dosing", "Tapering"]


def test_pdf_title_falls_back_to_first_line(tmp_path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    pdf.add_page()
    pdf.multi_cell(0, 6, "Untitled handout on sinusitis\n\nMost sinusitis is viral and resolves in ten days.")
    path = tmp_path / "untitled.pdf"
    pdf.output(str(path))
    [doc] = load(path).documents
    assert doc.title.startswith("Untitled handout")


def test_pdf_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.pdf"
    path.write_bytes(b"")
    with pytest.raises(EmptyFileError):
        load(path)


def test_pdf_corrupt_file(tmp_path: Path) -> None:
    path = tmp_path / "corrupt.pdf"
    path.write_bytes(b"%PDF-1.7\n this is not really a pdf \x00\x01\x02 garbage")
    with pytest.raises(CorruptFileError, match="not a readable PDF"):
        load(path)


def test_pdf_truncated_file(tmp_path: Path, corpus_dir: Path) -> None:
    data = (corpus_dir / "clonazepam.pdf").read_bytes()
    path = tmp_path / "truncated.pdf"
    path.write_bytes(data[: len(data) // 3])
    with pytest.raises((CorruptFileError, EmptyFileError)):
        load(path)


def test_pdf_encrypted_file(tmp_path: Path, corpus_dir: Path) -> None:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for page in PdfReader(corpus_dir / "clonazepam.pdf").pages:
        writer.add_page(page)
    writer.encrypt(user_password="s3cret", algorithm="RC4-128")
    path = tmp_path / "locked.pdf"
    with open(path, "wb") as fh:
        writer.write(fh)
    with pytest.raises(EncryptedFileError, match="needs a password"):
        load(path)


def test_pdf_without_text(tmp_path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()  # a blank page, like a scanned image without OCR
    path = tmp_path / "blank.pdf"
    pdf.output(str(path))
    with pytest.raises(EmptyFileError, match="OCR"):
        load(path)


# --- Markdown and text -------------------------------------------------------------------


def test_markdown_front_matter_sections_and_cleanup(corpus_dir: Path) -> None:
    [doc] = load(corpus_dir / "guide.md").documents
    assert doc.id == "test:warfarin-guide"
    assert doc.title == "Holding warfarin before surgery"
    assert doc.metadata.year == 2022 and doc.metadata.publication_types == ["Practice Guideline"]
    assert [s.title for s in doc.sections] == ["Warfarin", "Bridging"]
    assert "**" not in doc.text and "high thrombotic risk" in doc.text
    assert "the protocol for details" in doc.text and "http" not in doc.text


def test_markdown_bad_front_matter(tmp_path: Path) -> None:
    path = tmp_path / "bad.md"
    path.write_text("---\nid: [unclosed\n---\n# T\n\nText here.\n")
    with pytest.raises(CorruptFileError, match="front matter"):
        load(path)


def test_markdown_headings_only_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "headings.md"
    path.write_text("# Title\n\n## Section\n")
    with pytest.raises(EmptyFileError):
        load(path)


def test_text_file(corpus_dir: Path) -> None:
    [doc] = load(corpus_dir / "notes.txt").documents
    assert doc.title == "Sinusitis notes"
    assert doc.text.startswith("Most acute sinusitis is viral.")
    assert doc.id.startswith("sha256:")


@pytest.mark.parametrize("name", ["empty.txt", "empty.md"])
def test_text_empty(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text("")
    with pytest.raises(EmptyFileError):
        load(path)


def test_text_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes("Caf\xe9 au lait and \xe9clairs".encode("latin-1"))
    with pytest.raises(CorruptFileError, match="UTF-8"):
        load(path)


# --- JSONL -------------------------------------------------------------------------------


def test_jsonl_ids_unchanged_and_metadata(corpus_dir: Path) -> None:
    docs = load(corpus_dir / "records.jsonl").documents
    assert [d.id for d in docs] == ["doc-amox", "doc-sertraline", "doc-platelets"]
    assert docs[1].metadata.mesh_terms == ["Sertraline"] and docs[1].metadata.year == 2016
    assert docs[0].text.count("\n\n") == 1


def test_jsonl_bad_lines_are_warnings(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    path.write_text(
        json.dumps({"id": "a", "text": "Fine record about warfarin."})
        + "\n{not json\n"
        + json.dumps({"id": "b", "text": ""})
        + "\n"
        + json.dumps(["a list"])
        + "\n"
    )
    result = load(path)
    assert [d.id for d in result.documents] == ["a"]
    assert len(result.warnings) == 3
    assert ":2: invalid JSON" in result.warnings[0]


def test_jsonl_all_bad(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text("{oops\n")
    with pytest.raises(CorruptFileError, match="usable record"):
        load(path)


def test_jsonl_empty(tmp_path: Path) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_text("\n\n")
    with pytest.raises(EmptyFileError):
        load(path)


def test_unsupported_extension(tmp_path: Path) -> None:
    path = tmp_path / "report.docx"
    path.write_bytes(b"PK\x03\x04")
    with pytest.raises(UnsupportedFormatError, match="supported"):
        loader_for(path)


def test_identical_content_gets_identical_hash(tmp_path: Path) -> None:
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("Title\n\nSame   text here.\n")
    b.write_text("Title\n\nSame text here.\n")
    assert load(a).documents[0].content_hash == load(b).documents[0].content_hash
