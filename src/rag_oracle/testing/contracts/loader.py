"""The loader contract (rag_oracle/ingest/base.py), as a pytest suite. Needs pytest.

Besides good, empty and corrupt files, every loader must honour `limits` and `deadline`
(a file over the size limit, an expired deadline) and must never open a FIFO: it is refused
at once with SpecialFileError. That last check runs the load in a thread, so a loader that
blocks fails the test instead of hanging the run.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from rag_oracle.errors import (
    CorruptFileError,
    EmptyFileError,
    LoaderError,
    SpecialFileError,
    TimeBudgetError,
    TooLargeError,
)
from rag_oracle.ingest.base import Loader, LoadResult, content_hash
from rag_oracle.ingest.detect import loader_for
from rag_oracle.ingest.limits import Deadline, Limits
from rag_oracle.types import Document

_FIFO_SECONDS = 10.0


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

    def test_accepts_limits_and_deadline(self, loader: Loader, good_file: Path) -> None:
        result = loader.load(good_file, limits=Limits(), deadline=Deadline(good_file, 300))
        assert result.documents == loader.load(good_file).documents

    def test_file_over_the_size_limit(self, loader: Loader, good_file: Path) -> None:
        with pytest.raises(TooLargeError) as caught:
            loader.load(good_file, limits=Limits(max_file_bytes=good_file.stat().st_size - 1))
        self.check_names_file(caught.value, good_file)

    def test_expired_deadline_stops(self, loader: Loader, good_file: Path) -> None:
        with pytest.raises(TimeBudgetError) as caught:
            loader.load(good_file, deadline=Deadline(good_file, -1))
        self.check_names_file(caught.value, good_file)

    @pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
    def test_fifo_is_refused_not_opened(self, loader: Loader, tmp_path: Path) -> None:
        fifo = tmp_path / f"pipe{loader.suffixes[0]}"
        os.mkfifo(fifo)
        outcome: list[BaseException | object] = []

        def run() -> None:
            try:
                outcome.append(loader.load(fifo))
            except BaseException as exc:  # handed to the test thread
                outcome.append(exc)

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        thread.join(_FIFO_SECONDS)
        if thread.is_alive():
            # Unblock the reader (a writer's open and close gives it end of file), then fail.
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
            thread.join(_FIFO_SECONDS)
            pytest.fail(f"{type(loader).__name__} blocked on a FIFO for {_FIFO_SECONDS:g} s instead of refusing it")
        [error] = outcome
        assert isinstance(error, SpecialFileError), f"expected SpecialFileError, got {error!r}"
        self.check_names_file(error, fifo)
        assert "FIFO" in str(error)

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
