"""Shared fixtures: small documents written by the tests themselves, and a fast hash embedder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag_oracle.settings import Settings, load_settings

PUBMED_XML = """<?xml version="1.0" ?>
<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st January 2024//EN" "https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_240101.dtd">
<PubmedArticleSet>
<PubmedArticle>
  <MedlineCitation Status="MEDLINE" Owner="NLM">
    <PMID Version="1">{pmid}</PMID>
    <Article PubModel="Print">
      <Journal>
        <JournalIssue CitedMedium="Print"><PubDate><Year>{year}</Year><Month>Mar</Month></PubDate></JournalIssue>
        <Title>Test Journal of Pharmacology</Title>
      </Journal>
      <ArticleTitle>{title}</ArticleTitle>
      <ELocationID EIdType="doi" ValidYN="Y">10.5555/test.{pmid}</ELocationID>
      <Abstract>
        <AbstractText Label="BACKGROUND" NlmCategory="BACKGROUND">{background}</AbstractText>
        <AbstractText Label="RESULTS" NlmCategory="RESULTS">{results}</AbstractText>
        <AbstractText Label="CONCLUSIONS" NlmCategory="CONCLUSIONS">{conclusions}</AbstractText>
      </Abstract>
      <AuthorList CompleteYN="Y">
        <Author ValidYN="Y"><LastName>Okafor</LastName><ForeName>Ada</ForeName><Initials>A</Initials></Author>
        <Author ValidYN="Y"><CollectiveName>Test Study Group</CollectiveName></Author>
      </AuthorList>
      <PublicationTypeList><PublicationType UI="D016449">{ptype}</PublicationType></PublicationTypeList>
    </Article>
    <MeshHeadingList>
      <MeshHeading><DescriptorName UI="D000001" MajorTopicYN="N">Warfarin</DescriptorName></MeshHeading>
    </MeshHeadingList>
  </MedlineCitation>
  <PubmedData><ArticleIdList><ArticleId IdType="pubmed">{pmid}</ArticleId><ArticleId IdType="pmc">PMC42</ArticleId></ArticleIdList></PubmedData>
</PubmedArticle>
</PubmedArticleSet>
"""

JATS_XML = """<?xml version="1.0"?>
<article article-type="research-article" xmlns:xlink="http://www.w3.org/1999/xlink">
<front>
  <journal-meta><journal-title-group><journal-title>Test Clinical Reports</journal-title></journal-title-group></journal-meta>
  <article-meta>
    <article-id pub-id-type="pmcid">PMC7000001</article-id>
    <article-id pub-id-type="pmid">800000001</article-id>
    <article-id pub-id-type="doi">10.5555/test.jats</article-id>
    <title-group><article-title>Platelet counts after heparin exposure</article-title></title-group>
    <contrib-group><contrib contrib-type="author"><name><surname>Lindgren</surname><given-names>Maja Eva</given-names></name></contrib></contrib-group>
    <pub-date pub-type="epub"><year>2020</year></pub-date>
    <abstract><p>Heparin can cause thrombocytopenia. We reviewed platelet counts in treated adults.</p></abstract>
  </article-meta>
</front>
<body>
  <sec><title>Methods</title><p>We measured platelet counts daily for <italic>ten</italic> days.</p>
    <fig><caption><p>Figure text that should not be indexed.</p></caption></fig>
    <sec><title>Statistics</title><p>Counts were compared with a paired test.</p></sec>
  </sec>
  <sec><title>Results</title><p>A fall of more than half from baseline suggested heparin-induced thrombocytopenia.</p></sec>
</body>
</article>
"""

MARKDOWN = """---
id: test:warfarin-guide
year: 2022
publication_types: [Practice Guideline]
source: Test guideline
---

# Holding warfarin before surgery

## Warfarin

Stop warfarin 5 days before surgery. Check the INR the day before surgery.
Resume warfarin the evening after surgery if bleeding is controlled.

## Bridging

Bridging with heparin is reserved for patients at **high thrombotic risk**.
See [the protocol](http://example.invalid) for details.

- Low risk: no bridging.
- High risk: bridge with enoxaparin.
"""

JSONL_RECORDS = [
    {
        "id": "doc-amox",
        "title": "Amoxicillin for sinusitis",
        "text": "Amoxicillin 500 mg three times daily for 5 to 7 days is first line for bacterial sinusitis in adults.\n\nMost sinusitis is viral and resolves without antibiotics.",
        "year": 2019,
        "source": "Test monograph",
        "publication_types": ["Drug Monograph"],
    },
    {
        "id": "doc-sertraline",
        "title": "Sertraline",
        "text": "Sertraline is started at 50 mg daily for depression. The dose may be increased in 50 mg steps at intervals of at least one week.",
        "year": 2016,
        "source": "Test monograph",
        "publication_types": ["Drug Monograph"],
        "mesh": ["Sertraline"],
    },
    {
        "id": "doc-platelets",
        "title": "Low platelet count",
        "text": "A platelet count below 150 x 10^9/L is thrombocytopenia. Repeat the count in a citrate tube to exclude pseudothrombocytopenia.",
        "year": 2021,
        "source": "Test review",
        "publication_types": ["Review"],
    },
]


def make_pdf(path: Path, title: str, pages: list[list[str]]) -> Path:
    """A real multi-page PDF made with fpdf2 (a dev dependency); each page is a list of paragraphs."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_title(title)
    pdf.set_font("Helvetica", size=11)
    for paragraphs in pages:
        pdf.add_page()
        for para in paragraphs:
            pdf.multi_cell(0, 6, para)
            pdf.ln(3)
    pdf.output(str(path))
    return path


@pytest.fixture
def corpus_dir(tmp_path: Path) -> Path:
    """A folder with one good file of every supported format."""
    root = tmp_path / "corpus"
    root.mkdir()
    (root / "pubmed.xml").write_text(
        PUBMED_XML.format(
            pmid="800000101",
            year=2018,
            title="Warfarin interruption before surgery",
            background="Warfarin is often interrupted before elective surgery.",
            results="Stopping warfarin 5 days before surgery normalised the INR in most patients.",
            conclusions="A 5-day interruption is adequate; bridging increased bleeding.",
            ptype="Randomized Controlled Trial",
        ),
        encoding="utf-8",
    )
    (root / "article.xml").write_text(JATS_XML, encoding="utf-8")
    (root / "guide.md").write_text(MARKDOWN, encoding="utf-8")
    (root / "notes.txt").write_text(
        "Sinusitis notes\n\nMost acute sinusitis is viral. Watchful waiting for 7 to 10 days is reasonable.\n",
        encoding="utf-8",
    )
    (root / "records.jsonl").write_text("\n".join(json.dumps(r) for r in JSONL_RECORDS) + "\n", encoding="utf-8")
    make_pdf(
        root / "clonazepam.pdf",
        "Clonazepam dosing handout",
        [
            [
                "Clonazepam Dosing",
                "Clonazepam is approved for panic disorder and seizure disorders.",
                "For panic disorder start 0.25 mg twice daily and increase to 1 mg per day after 3 days.",
            ],
            [
                "Tapering",
                "Taper clonazepam by 0.125 mg twice daily every 3 days.",
                "Clonazepam is not approved for depression.",
            ],
        ],
    )
    return root


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings for fast tests: the deterministic hash embedder and a private embedding cache."""
    for key in list(__import__("os").environ):
        if key.startswith("RAG_ORACLE_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    return load_settings().with_overrides(
        {
            "embed": {"model": "hash:dim=512", "cache_dir": str(tmp_path / "cache")},
            "chunk": {"max_tokens": 40, "overlap_tokens": 10},
            "index": {"root": str(tmp_path / "indexes")},
            "answer": {"min_passage_similarity": 0.1},
        }
    )


@pytest.fixture
def built_index(corpus_dir: Path, settings: Settings, tmp_path: Path) -> Path:
    from rag_oracle import ingest

    path = tmp_path / "indexes" / "test"
    report = ingest([corpus_dir], path, settings)
    assert report.count("failed") == 0, report.files
    return path


REPO = Path(__file__).resolve().parents[1]


def in_threads(work, threads: int = 4) -> list[BaseException]:
    """Run `work()` in `threads` threads at once; the exceptions they raised (empty: none did)."""
    import threading

    errors: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as exc:  # pragma: no cover - returned to the test, which fails on it
            errors.append(exc)

    started = [threading.Thread(target=run) for _ in range(threads)]
    for t in started:
        t.start()
    for t in started:
        t.join()
    return errors


@pytest.fixture(scope="session")
def sample(tmp_path_factory):
    """The shipped sample corpus indexed with the real default embedder (built once per session).

    Returns (settings, index path, ingest report).
    """
    import os

    from rag_oracle.api import ensure_sample_index

    saved = {k: os.environ.pop(k) for k in list(os.environ) if k.startswith("RAG_ORACLE_")}
    try:
        root = tmp_path_factory.mktemp("sample")
        settings = Settings().with_overrides(
            {"index": {"root": str(root / "indexes")}, "embed": {"cache_dir": str(root / "cache")}}
        )
        path, report = ensure_sample_index(settings, REPO / "corpus")
    finally:
        os.environ.update(saved)
    return settings, path, report
