"""The CLI end to end on the test corpus, with the hash embedder configured through a project file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from rag_oracle.cli import main
from rag_oracle.index.atomic import snapshot_dir


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    import os

    for key in list(os.environ):
        if key.startswith("RAG_ORACLE_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "rag-oracle.toml").write_text(
        f"""
[embed]
model = "hash:dim=512"
cache_dir = "{tmp_path / "cache"}"
[chunk]
max_tokens = 40
overlap_tokens = 10
[answer]
min_passage_similarity = 0.1
"""
    )
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(main, list(args), catch_exceptions=False)

    return run


def test_ingest_reports_bad_files_and_indexes_the_rest(cli, corpus_dir: Path, tmp_path: Path) -> None:
    (corpus_dir / "corrupt.pdf").write_bytes(b"%PDF-1.4\n\x00\x01garbage that is not a pdf")
    (corpus_dir / "malformed.xml").write_text("<PubmedArticleSet><PubmedArticle><MedlineCitation>")
    (corpus_dir / "slides.pptx").write_bytes(b"PK\x03\x04")
    result = cli("ingest", str(corpus_dir), "--index", str(tmp_path / "idx"), "--quiet")
    assert result.exit_code == 1
    assert "FAILED:" in result.stderr and "corrupt.pdf" in result.stderr and "not a readable PDF" in result.stderr
    assert "malformed.xml" in result.stderr and "malformed XML" in result.stderr
    assert "slides.pptx" in result.stderr and "unsupported" in result.stderr
    assert "6 ingested, 1 skipped, 2 failed" in result.stdout
    assert "8 documents" in result.stdout

    again = cli("ingest", str(corpus_dir), "--index", str(tmp_path / "idx"), "--json")
    report = json.loads(again.stdout)
    assert report["documents_added"] == 0 and report["total_documents"] == 8


def test_ingest_missing_path(cli, tmp_path: Path) -> None:
    result = cli("ingest", str(tmp_path / "nowhere"), "--index", str(tmp_path / "idx"), "--quiet")
    assert result.exit_code == 1
    assert "no such file" in result.stderr


def test_ingest_all_good_exits_zero(cli, corpus_dir: Path, tmp_path: Path) -> None:
    result = cli("ingest", str(corpus_dir), "--index", str(tmp_path / "idx"), "--quiet")
    assert result.exit_code == 0, result.stderr


@pytest.fixture
def index_dir(cli, corpus_dir: Path, tmp_path: Path) -> Path:
    assert cli("ingest", str(corpus_dir), "--index", str(tmp_path / "idx"), "--quiet").exit_code == 0
    return tmp_path / "idx"


def test_search_json_and_text(cli, index_dir: Path) -> None:
    result = cli("search", "warfarin before surgery", "--index", str(index_dir), "-k", "3", "--json")
    hits = json.loads(result.stdout)
    assert len(hits) == 3 and hits[0]["rank"] == 1
    assert {"dense_score", "bm25_score", "chunk", "document"} <= set(hits[0])
    text = cli("search", "warfarin before surgery", "--index", str(index_dir), "--mode", "bm25").stdout
    assert "bm25" in text and "dense" not in text.split("\n")[0]


def test_search_filters(cli, index_dir: Path) -> None:
    result = cli("search", "warfarin", "--index", str(index_dir), "--type", "Randomized Controlled Trial", "--json")
    assert {h["chunk"]["doc_id"] for h in json.loads(result.stdout)} == {"pmid:800000101"}
    bad = cli("search", "warfarin", "--index", str(index_dir), "--year-min", "2020", "--year-max", "2000")
    assert bad.exit_code == 2 and "year range is empty" in bad.stderr


def test_ask_text_and_json(cli, index_dir: Path) -> None:
    text = cli("ask", "How many days before surgery should warfarin be stopped?", "--index", str(index_dir)).stdout
    assert "[1]" in text and "References" in text and "not medical advice" in text
    data = json.loads(cli("ask", "sertraline dose", "--index", str(index_dir), "--json").stdout)
    assert data["references"] and data["timings_ms"]["total"] > 0


def test_bad_input_gets_one_line_errors(cli, index_dir: Path, tmp_path: Path) -> None:
    empty = cli("ask", "  ", "--index", str(index_dir))
    assert empty.exit_code == 2 and empty.stderr.startswith("error: the question is empty")
    missing = cli("search", "x", "--index", str(tmp_path / "nope"))
    assert missing.exit_code == 2 and "no index at" in missing.stderr and "Traceback" not in missing.stderr
    no_corpus = cli("ask", "anything")
    assert no_corpus.exit_code == 2 and "no sample corpus" in no_corpus.stderr
    bad_k = cli("search", "x", "--index", str(index_dir), "-k", "0")
    assert bad_k.exit_code == 2 and "k: Input should be greater than or equal to 1" in bad_k.stderr


def test_bad_config_file(cli, tmp_path: Path) -> None:
    (tmp_path / "bad.toml").write_text("[retrieve]\nmode = 'telepathy'\n")
    result = cli("--config", str(tmp_path / "bad.toml"), "search", "x", "--index", "y")
    assert result.exit_code == 2 and "mode" in result.stderr


def test_index_info_and_verify(cli, index_dir: Path, corpus_dir: Path) -> None:
    corpus = corpus_dir
    info = cli("index", "info", str(index_dir))
    assert (
        "documents    8" in info.stdout
        and "hash:v1:dim=512" in info.stdout
        and f"rag-oracle ingest {corpus}" in info.stdout
    )
    assert json.loads(cli("index", "info", str(index_dir), "--json").stdout)["counts"]["documents"] == 8
    ok = cli("index", "verify", str(index_dir))
    assert ok.exit_code == 0 and "OK" in ok.stdout
    store = snapshot_dir(index_dir) / "store.sqlite"
    store.write_bytes(store.read_bytes().replace(b"warfarin", b"warfariN", 1))
    bad = cli("index", "verify", str(index_dir))
    assert bad.exit_code == 1 and "checksum" in bad.stderr


def test_ask_builds_the_sample_index_on_first_use(cli, corpus_dir: Path, tmp_path: Path) -> None:
    sample = tmp_path / "corpus"  # corpus_dir already lives at ./corpus; the sample build reads its sub-folders
    (sample / "markdown").mkdir()
    (sample / "guide.md").rename(sample / "markdown" / "guide.md")
    first = cli("ask", "How long before surgery should warfarin be stopped?")
    assert first.exit_code == 0, first.stderr
    assert "built the sample index" in first.stderr and "[1]" in first.stdout
    second = cli("ask", "How long before surgery should warfarin be stopped?")
    assert "built the sample index" not in second.stderr and second.stdout == first.stdout


def test_ingest_json_takes_a_dataclass_or_a_pydantic_report() -> None:
    from dataclasses import dataclass

    from pydantic import BaseModel

    from rag_oracle.cli.ingest import _report_dict

    @dataclass
    class DataclassReport:
        documents_added: int
        path: str

    class PydanticReport(BaseModel):
        documents_added: int
        path: Path

    expected = {"documents_added": 2, "path": "a/b.pdf"}
    assert _report_dict(DataclassReport(2, "a/b.pdf")) == expected
    assert json.loads(json.dumps(_report_dict(PydanticReport(documents_added=2, path=Path("a/b.pdf"))))) == expected


def test_command_modules_never_import_the_package_that_registers_them() -> None:
    """cli/__init__.py imports every command module; a command module importing it back is a cycle."""
    import ast

    import rag_oracle.cli

    package = Path(rag_oracle.cli.__file__).parent
    modules = {path.stem for path in package.glob("*.py")}

    def targets(node: ast.AST) -> set[str]:
        if isinstance(node, ast.Import):
            return {a.name for a in node.names if a.name.startswith("rag_oracle.cli")}
        if not isinstance(node, ast.ImportFrom) or not (node.module or "").startswith("rag_oracle.cli"):
            return set()
        if node.module != "rag_oracle.cli":
            return {node.module}
        # `from rag_oracle.cli import serve` is a submodule; `from rag_oracle.cli import main` is the package
        return {f"rag_oracle.cli.{a.name}" if a.name in modules else "rag_oracle.cli" for a in node.names}

    imports = {
        f"rag_oracle.cli.{path.stem}": set().union(*map(targets, ast.walk(ast.parse(path.read_text("utf-8")))))
        for path in package.glob("*.py")
    }
    assert "rag_oracle.cli.options" in imports["rag_oracle.cli.serve"]  # the scan sees imports at all
    for module, found in imports.items():
        if module in ("rag_oracle.cli.__init__", "rag_oracle.cli.__main__"):
            continue
        assert "rag_oracle.cli" not in found, f"{module} imports rag_oracle.cli, which imports it"
        for target in found:
            assert module not in imports.get(target, set()), f"{module} and {target} import each other"
