"""The loader contract (rag_oracle/ingest/base.py), as a pytest suite. Needs pytest."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag_oracle.errors import CorruptFileError, EmptyFileError, LoaderError
from rag_oracle.ingest.base import Loader, LoadResult, content_hash
from rag_oracle.ingest.detect import loader_for
from rag_oracle.types import Document


class LoaderContract:
    """Every loader: a good file gives documents whose sections and pages lie inside their text;
    an empty file raises EmptyFileError and a corrupt one CorruptFileError, both naming the file.

    Provide the fixtures `loader` (the loader), `good_file`, `empty_file` and `corrupt_file`
    (paths of files of the loader's format; `tmp_path` is the place to write them).
    """

    @pytest.fixture
    def loader(self) -> Loader:
        raise NotImplementedError("a subclass of LoaderContract provides the `loader` fixture")

    @pytest.fixture
    def good_file(self) -> Path:
        raise NotImplementedError("a subclass of LoaderContract provides the `good_file` fixture")

    @pytest.fixture
    def empty_file(self) -> Path:
        raise NotImplementedError("a subclass of LoaderContract provides the `empty_file` fixture")

    @pytest.fixture
    def corrupt_file(self) -> Path:
        raise NotImplementedError("a subclass of LoaderContract provides the `corrupt_file` fixture")

    def test_declares_name_and_suffixes(self, loader: Loader, good_file: Path) -> None:
        assert isinstance(loader.name, str) and loader.name
        assert loader.suffixes and all(s.startswith(".") and s == s.lower() for s in loader.suffixes)
        assert any(good_file.name.lower().endswith(s) for s in loader.suffixes)
        # ingest picks loaders by file; this one must be picked for its own files
        assert loader_for(good_file).name == loader.name

    def test_good_file_gives_documents(self, loader: Loader, good_file: Path) -> None:
        result = loader.load(good_file)
        assert isinstance(result, LoadResult)
        assert result.documents, f"{good_file} gave no documents"
        for doc in result.documents:
            self.check_document(doc, loader, good_file)
        assert len({d.id for d in result.documents}) == len(result.documents), "document ids repeat"

    def test_loading_is_deterministic(self, loader: Loader, good_file: Path) -> None:
        assert loader.load(good_file).documents == loader.load(good_file).documents

    def test_empty_file(self, loader: Loader, empty_file: Path) -> None:
        with pytest.raises(EmptyFileError) as caught:
            loader.load(empty_file)
        self.check_names_file(caught.value, empty_file)

    def test_corrupt_file(self, loader: Loader, corrupt_file: Path) -> None:
        with pytest.raises(CorruptFileError) as caught:
            loader.load(corrupt_file)
        self.check_names_file(caught.value, corrupt_file)

    @staticmethod
    def check_names_file(error: LoaderError, path: Path) -> None:
        assert error.path == str(path)
        assert str(path) in str(error), "the message must name the file"

    @staticmethod
    def check_document(doc: Document, loader: Loader, path: Path) -> None:
        assert doc.id and doc.text.strip()
        assert doc.content_hash == content_hash(doc.title, doc.text)
        assert doc.metadata.format == loader.name
        assert doc.metadata.source_path == str(path)
        assert doc.sections, "a document has at least one section"
        previous_end = 0
        for section in doc.sections:
            assert 0 <= section.start < section.end <= len(doc.text), f"section {section} lies outside the text"
            assert section.start >= previous_end, "sections overlap or are out of order"
            assert doc.text[section.start : section.end].strip(), f"section {section.title!r} is blank"
            previous_end = section.end
        assert doc.page_starts == sorted(doc.page_starts)
        assert all(0 <= start <= len(doc.text) for start in doc.page_starts)
