"""Issue 11, fuzzed: whatever bytes a JSONL, Markdown, PubMed or JATS file holds, its loader
returns documents (and warnings) or raises a LoaderError naming the file, never anything else.

Inputs are structured but wrong (records with fields of every JSON type, front matter of any
YAML, articles with any part missing or misplaced), valid files with bytes cut or spliced in,
and raw bytes. Every document a loader returns must also pass the loader contract's checks and
serialise to JSON, as the index stores it.
"""

from __future__ import annotations

import gzip
import json
from datetime import date, datetime
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rag_oracle.errors import LoaderError
from rag_oracle.ingest.base import LoadResult
from rag_oracle.ingest.detect import loader_for
from rag_oracle.testing.contracts import LoaderContract
from tests.conftest import JATS_XML, MARKDOWN, PUBMED_XML

# Fast enough to run by default (the whole file in about 15 s); raise max_examples to fuzz harder locally.
FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

GOOD_PUBMED = PUBMED_XML.format(
    pmid="800000101",
    year=2018,
    title="Warfarin interruption",
    background="Warfarin is often interrupted.",
    results="Stopping 5 days before normalised the INR.",
    conclusions="Bridging increased bleeding.",
    ptype="Randomized Controlled Trial",
).encode()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def check_outcome(path: Path) -> LoadResult | LoaderError:
    """Load `path` as ingest would; fail on anything but a sound LoadResult or a LoaderError."""
    try:
        loader = loader_for(path)
        result = loader.load(path)
    except LoaderError as exc:
        assert exc.path == str(path) and str(path) in str(exc)
        return exc
    assert isinstance(result, LoadResult)
    for doc in result.documents:
        LoaderContract.check_document(doc, loader, path)
        doc.model_dump_json()  # the index writes it as JSON
    assert all(isinstance(w, str) and w.startswith(str(path)) for w in result.warnings)
    return result


def splice(data: bytes, at: int, cut: int, insert: bytes) -> bytes:
    at = at % (len(data) + 1)
    return data[:at] + insert + data[at + cut :]


def mutated(good: bytes) -> st.SearchStrategy[bytes]:
    """`good` with a slice cut out and other bytes spliced in."""
    return st.builds(splice, st.just(good), st.integers(0, len(good)), st.integers(0, 40), st.binary(max_size=24))


# --- JSONL -----------------------------------------------------------------------------

JSON_SCALARS = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=12)
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)
RECORD_KEYS = st.sampled_from(
    [
        "id",
        "title",
        "text",
        "authors",
        "year",
        "pmid",
        "pmcid",
        "doi",
        "url",
        "journal",
        "mesh",
        "mesh_terms",
        "publication_types",
        "source",
        "format",
        "extra",
    ]
) | st.text(max_size=6)
RECORDS = st.dictionaries(RECORD_KEYS, JSON_VALUES, max_size=6)
WITH_TEXT = st.builds(lambda r, t: {**r, "text": t}, RECORDS, st.text(min_size=1, max_size=40))
JSON_LINES = st.one_of(
    WITH_TEXT.map(json.dumps),
    RECORDS.map(json.dumps),
    JSON_VALUES.map(json.dumps),
    st.text(max_size=30),
).map(lambda s: s.encode("utf-8", "surrogatepass")) | st.binary(max_size=40)


@FUZZ
@given(
    lines=st.lists(JSON_LINES, max_size=5),
    bom=st.booleans(),
    gz=st.sampled_from(["", "gz", "truncated"]),
    cut=st.integers(0, 200),
)
def test_jsonl_loader_never_crashes(workdir: Path, lines: list[bytes], bom: bool, gz: str, cut: int) -> None:
    data = (b"\xef\xbb\xbf" if bom else b"") + b"\n".join(lines)
    path = workdir / ("records.jsonl.gz" if gz else "records.jsonl")
    if gz:
        data = gzip.compress(data)
        if gz == "truncated":
            data = data[: cut % (len(data) + 1)]
    path.write_bytes(data)
    check_outcome(path)


# --- Markdown front matter --------------------------------------------------------------

YAML_SCALARS = JSON_SCALARS | st.dates() | st.datetimes()
YAML_VALUES = st.recursive(
    YAML_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=6) | st.integers() | st.dates(), inner, max_size=4)
    ),
    max_leaves=10,
)
FRONT_KEYS = RECORD_KEYS | st.integers() | st.booleans()


def front_matter_yaml(mapping: dict) -> str:
    return yaml.safe_dump(mapping, allow_unicode=True, sort_keys=False)


FRONT_MATTER = st.one_of(
    st.dictionaries(FRONT_KEYS, YAML_VALUES, max_size=6).map(front_matter_yaml),
    YAML_VALUES.map(lambda v: yaml.safe_dump(v, sort_keys=False)),
    st.text(max_size=60),
    st.sampled_from(["a: &x [*x]", "year: 2019-13-45", "? [a, b]\n: c", "a: !!binary aGVsbG8=", "x: !!set {a, b}"]),
)
BODIES = st.sampled_from(["# Title\n\nText about warfarin.\n", "", "## Only a heading\n"]) | st.text(max_size=80)


@FUZZ
@given(front=FRONT_MATTER, body=BODIES)
def test_markdown_front_matter_never_crashes(workdir: Path, front: str, body: str) -> None:
    path = workdir / "note.md"
    path.write_bytes(f"---\n{front}\n---\n{body}".encode("utf-8", "surrogatepass"))
    check_outcome(path)


@FUZZ
@given(data=mutated(MARKDOWN.encode()) | st.binary(max_size=120))
def test_markdown_bytes_never_crash(workdir: Path, data: bytes) -> None:
    path = workdir / "guide.md"
    path.write_bytes(data)
    check_outcome(path)


# --- XML -------------------------------------------------------------------------------

XML_TEXT = st.text(max_size=20) | st.sampled_from(["2019", "Spring 1999", "10.5555/x", "PMC42", "RESULTS", ""])


def element_trees(tags: list[str], attributes: list[str]) -> st.SearchStrategy[ET.Element]:
    """Elements named from `tags`, with attributes and text drawn at random, nested at random."""

    def build(tag: str, attrs: dict[str, str], text: str | None, tail: str | None, children: list) -> ET.Element:
        el = ET.Element(tag, attrs)
        el.text, el.tail = text, tail
        el.extend(children)
        return el

    attrs = st.dictionaries(st.sampled_from(attributes), XML_TEXT, max_size=2)
    text = st.none() | XML_TEXT
    leaf = st.builds(build, st.sampled_from(tags), attrs, text, text, st.just([]))
    return st.recursive(
        leaf,
        lambda inner: st.builds(build, st.sampled_from(tags), attrs, text, text, st.lists(inner, max_size=4)),
        max_leaves=15,
    )


def as_file(root_tag: str, root_attrs: dict[str, str], children: list[ET.Element]) -> bytes:
    root = ET.Element(root_tag, root_attrs)
    root.extend(children)
    return b'<?xml version="1.0"?>\n' + ET.tostring(root)


PUBMED_TAGS = [
    "PubmedArticle",
    "MedlineCitation",
    "PMID",
    "Article",
    "ArticleTitle",
    "Abstract",
    "AbstractText",
    "Journal",
    "JournalIssue",
    "PubDate",
    "Year",
    "MedlineDate",
    "Title",
    "AuthorList",
    "Author",
    "LastName",
    "Initials",
    "CollectiveName",
    "ELocationID",
    "PublicationTypeList",
    "PublicationType",
    "MeshHeadingList",
    "MeshHeading",
    "DescriptorName",
    "PubmedData",
    "ArticleIdList",
    "ArticleId",
    "i",
]
PUBMED_ATTRS = ["Label", "EIdType", "IdType", "Version"]


@FUZZ
@given(
    articles=st.lists(element_trees(PUBMED_TAGS, PUBMED_ATTRS), max_size=3),
    root=st.sampled_from(["PubmedArticleSet", "PubmedBookArticleSet", "{urn:x}PubmedArticleSet"]),
)
def test_pubmed_structures_never_crash(workdir: Path, articles: list[ET.Element], root: str) -> None:
    path = workdir / "pubmed.xml"
    path.write_bytes(as_file(root, {}, articles))
    check_outcome(path)


@FUZZ
@given(data=mutated(GOOD_PUBMED) | st.binary(max_size=120), gz=st.booleans())
def test_pubmed_bytes_never_crash(workdir: Path, data: bytes, gz: bool) -> None:
    path = workdir / ("pubmed.xml.gz" if gz else "pubmed.xml")
    path.write_bytes(gzip.compress(data) if gz else data)
    check_outcome(path)


JATS_TAGS = [
    "article",
    "front",
    "journal-meta",
    "journal-title-group",
    "journal-title",
    "article-meta",
    "article-id",
    "title-group",
    "article-title",
    "contrib-group",
    "contrib",
    "name",
    "surname",
    "given-names",
    "pub-date",
    "year",
    "abstract",
    "body",
    "sec",
    "title",
    "p",
    "list",
    "list-item",
    "fig",
    "table-wrap",
    "italic",
]
JATS_ATTRS = ["pub-id-type", "abstract-type", "article-type"]


@FUZZ
@given(
    parts=st.lists(element_trees(JATS_TAGS, JATS_ATTRS), max_size=3),
    root=st.sampled_from(["article", "pmc-articleset"]),
    attrs=st.dictionaries(st.just("article-type"), XML_TEXT, max_size=1),
)
def test_jats_structures_never_crash(workdir: Path, parts: list[ET.Element], root: str, attrs: dict) -> None:
    path = workdir / "article.nxml"
    path.write_bytes(as_file(root, attrs, parts))
    check_outcome(path)


@FUZZ
@given(data=mutated(JATS_XML.encode()) | st.binary(max_size=120))
def test_jats_bytes_never_crash(workdir: Path, data: bytes) -> None:
    path = workdir / "article.nxml"
    path.write_bytes(data)
    check_outcome(path)


# --- what the fuzzer found, kept as plain examples ---------------------------------------


@pytest.mark.parametrize(
    "front",
    [
        "a: &x [*x]",  # a YAML alias cycle in an extra field
        "year: 2019-13-45",  # a date PyYAML cannot construct
        "title: {a: 1}",
        "1: one",  # a key that is not a string
        f"when: {datetime(2020, 1, 2, 3, 4)}",
    ],
)
def test_odd_front_matter_is_a_loader_error_or_kept(workdir: Path, front: str) -> None:
    path = workdir / "odd.md"
    path.write_text(f"---\n{front}\n---\n# T\n\nText about warfarin.\n")
    check_outcome(path)


def test_lone_surrogate_escape_in_jsonl_is_replaced(workdir: Path) -> None:
    path = workdir / "surrogate.jsonl"
    path.write_text('{"id": "a\\ud800", "title": "T\\udfff", "text": "Warfarin \\ud83d dose", "journal": "J\\ud800"}\n')
    [doc] = check_outcome(path).documents
    assert doc.id == "a\ufffd" and doc.text == "Warfarin \ufffd dose"
    assert doc.metadata.journal == "J\ufffd"


def test_yaml_dates_in_front_matter_become_text(workdir: Path) -> None:
    path = workdir / "dated.md"
    path.write_text("---\nreviewed: 2021-03-04\nyear: 2020-01-01\n---\n# T\n\nText about warfarin.\n")
    [doc] = check_outcome(path).documents
    assert doc.metadata.extra == {"reviewed": date(2021, 3, 4).isoformat()}
    assert doc.metadata.year == 2020
