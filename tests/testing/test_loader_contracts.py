"""Every loader passes the loader contract: a good file, an empty file and a corrupt file each."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag_oracle.ingest.jats import JatsXmlLoader
from rag_oracle.ingest.jsonl import JsonlLoader
from rag_oracle.ingest.pdf import PdfLoader
from rag_oracle.ingest.pubmed import PubmedXmlLoader
from rag_oracle.ingest.textfile import MarkdownLoader, PlainTextLoader
from rag_oracle.testing.contracts import LoaderContract
from tests.conftest import JATS_XML


def _write(path: Path, content: str | bytes) -> Path:
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


class TestPdfLoader(LoaderContract):
    @pytest.fixture
    def loader(self) -> PdfLoader:
        return PdfLoader()

    @pytest.fixture
    def good_file(self, corpus_dir: Path) -> Path:
        return corpus_dir / "clonazepam.pdf"

    @pytest.fixture
    def empty_file(self, tmp_path: Path) -> Path:
        return _write(tmp_path / "empty.pdf", b"")

    @pytest.fixture
    def corrupt_file(self, tmp_path: Path) -> Path:
        return _write(tmp_path / "corrupt.pdf", b"%PDF-1.7\n not really a pdf \x00\x01\x02")


class TestPubmedXmlLoader(LoaderContract):
    @pytest.fixture
    def loader(self) -> PubmedXmlLoader:
        return PubmedXmlLoader()

    @pytest.fixture
    def good_file(self, corpus_dir: Path) -> Path:
        return corpus_dir / "pubmed.xml"

    @pytest.fixture
    def empty_file(self, tmp_path: Path) -> Path:
        return _write(tmp_path / "empty.xml", "   \n")

    @pytest.fixture
    def corrupt_file(self, tmp_path: Path) -> Path:
        return _write(tmp_path / "truncated.xml", "<PubmedArticleSet><PubmedArticle>")


class TestJatsXmlLoader(LoaderContract):
    @pytest.fixture
    def loader(self) -> JatsXmlLoader:
        return JatsXmlLoader()

    @pytest.fixture
    def good_file(self, corpus_dir: Path) -> Path:
        return corpus_dir / "article.xml"

    @pytest.fixture
    def empty_file(self, tmp_path: Path) -> Path:
        return _write(tmp_path / "empty.nxml", "")

    @pytest.fixture
    def corrupt_file(self, tmp_path: Path) -> Path:
        return _write(tmp_path / "broken.nxml", JATS_XML[:400])


class TestMarkdownLoader(LoaderContract):
    @pytest.fixture
    def loader(self) -> MarkdownLoader:
        return MarkdownLoader()

    @pytest.fixture
    def good_file(self, corpus_dir: Path) -> Path:
        return corpus_dir / "guide.md"

    @pytest.fixture
    def empty_file(self, tmp_path: Path) -> Path:
        return _write(tmp_path / "empty.md", "")

    @pytest.fixture
    def corrupt_file(self, tmp_path: Path) -> Path:
        return _write(tmp_path / "bad.md", "---\nid: [unclosed\n---\n# T\n\nText here.\n")


class TestPlainTextLoader(LoaderContract):
    @pytest.fixture
    def loader(self) -> PlainTextLoader:
        return PlainTextLoader()

    @pytest.fixture
    def good_file(self, corpus_dir: Path) -> Path:
        return corpus_dir / "notes.txt"

    @pytest.fixture
    def empty_file(self, tmp_path: Path) -> Path:
        return _write(tmp_path / "empty.txt", "")

    @pytest.fixture
    def corrupt_file(self, tmp_path: Path) -> Path:
        return _write(tmp_path / "latin1.txt", "Caf\xe9 au lait".encode("latin-1"))


class TestJsonlLoader(LoaderContract):
    @pytest.fixture
    def loader(self) -> JsonlLoader:
        return JsonlLoader()

    @pytest.fixture
    def good_file(self, corpus_dir: Path) -> Path:
        return corpus_dir / "records.jsonl"

    @pytest.fixture
    def empty_file(self, tmp_path: Path) -> Path:
        return _write(tmp_path / "empty.jsonl", "\n\n")

    @pytest.fixture
    def corrupt_file(self, tmp_path: Path) -> Path:
        return _write(tmp_path / "bad.jsonl", "{oops\n")
