"""Bounded resources through the whole ingest (issue 11): a file over a limit is reported and
skipped, and the good files given with it are still ingested; large files are chunked window by
window; one file's surprise never aborts the run.

Before: a 2 MB gzip bomb decompressed without limit (4-5 GB) and, under a memory cap, aborted the
whole run; there was no size or time limit; a 200 MB text file was tokenised in one call.
"""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pytest

from rag_oracle import ingest
from rag_oracle.index.store import Index
from rag_oracle.ingest import chunking
from rag_oracle.ingest.base import make_document
from rag_oracle.ingest.jsonl import JsonlLoader
from rag_oracle.types import DocumentMetadata, Section


def _good(folder: Path) -> Path:
    path = folder / "good.jsonl"
    path.write_text(json.dumps({"id": "good", "text": "Hold apixaban 2 days before surgery."}) + "\n")
    return path


def _bomb(path: Path, megabytes: int = 40) -> Path:
    line = (json.dumps({"id": "x", "text": "warfarin " * 50}) + "\n").encode()
    with gzip.open(path, "wb", compresslevel=9) as fh:
        for _ in range(megabytes * 1024 * 1024 // len(line)):
            fh.write(line)
    return path


def _by_name(report) -> dict[str, object]:
    return {Path(f.path).name: f for f in report.files}


def test_a_gzip_bomb_is_skipped_and_the_good_files_are_ingested(tmp_path: Path, settings) -> None:
    bomb = _bomb(tmp_path / "bomb.jsonl.gz")
    assert bomb.stat().st_size < 1024 * 1024
    report = ingest([bomb, _good(tmp_path)], tmp_path / "idx", settings)
    files = _by_name(report)
    assert files["bomb.jsonl.gz"].status == "skipped" and "too-large" in files["bomb.jsonl.gz"].reason
    assert "gzip bomb" in files["bomb.jsonl.gz"].reason
    assert files["good.jsonl"].status == "ingested" and set(Index.open(tmp_path / "idx").documents) == {"good"}


def test_a_file_over_the_size_limit_names_the_flag(tmp_path: Path, settings) -> None:
    big = tmp_path / "big.txt"
    big.write_text("Title\n\n" + "Warfarin is held 5 days before surgery. " * 30_000)
    small = settings.with_overrides({"ingest": {"max_file_mib": 0.5}})
    report = ingest([big, _good(tmp_path)], tmp_path / "idx", small)
    files = _by_name(report)
    assert files["big.txt"].status == "skipped" and "--max-file-mib" in files["big.txt"].reason
    assert files["good.jsonl"].status == "ingested" and report.exit_code == 0
    raised = settings.with_overrides({"ingest": {"max_file_mib": 5}})
    assert _by_name(ingest([big], tmp_path / "idx", raised))["big.txt"].status == "ingested"


def test_a_file_over_its_time_budget_is_skipped(tmp_path: Path, settings) -> None:
    slow = settings.with_overrides({"ingest": {"file_seconds": 1e-9}})
    report = ingest([_good(tmp_path)], tmp_path / "idx", slow)
    (only,) = report.files
    assert only.status == "skipped" and only.reason.startswith("too-slow") and "file_seconds" in only.reason
    assert not (tmp_path / "idx").exists() or not any((tmp_path / "idx").iterdir())


def test_a_loader_bug_is_one_files_failure(tmp_path: Path, settings, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self, path, **kwargs):
        raise TypeError("unexpected")

    monkeypatch.setattr(JsonlLoader, "load", broken)
    note = tmp_path / "note.txt"
    note.write_text("Note\n\nCheck the INR the day before surgery.\n")
    report = ingest([_good(tmp_path), note], tmp_path / "idx", settings)
    files = _by_name(report)
    assert files["good.jsonl"].status == "failed" and "TypeError" in files["good.jsonl"].reason
    assert files["note.txt"].status == "ingested" and report.exit_code == 1


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_special_files_and_links_out_of_the_tree_are_reported_not_read(tmp_path: Path, settings) -> None:
    folder = tmp_path / "papers"
    folder.mkdir()
    _good(folder)
    os.mkfifo(folder / "pipe.txt")
    outside = tmp_path / "secret.txt"
    outside.write_text("Secret\n\nroot:x:0:0:root:/root:/bin/bash\n")
    (folder / "link.txt").symlink_to(outside)
    (folder / "dangling.txt").symlink_to(tmp_path / "gone.txt")
    report = ingest([folder], tmp_path / "idx", settings)
    files = _by_name(report)
    assert files["pipe.txt"].status == "skipped" and "FIFO" in files["pipe.txt"].reason
    assert files["link.txt"].status == "skipped" and "outside" in files["link.txt"].reason
    assert files["dangling.txt"].status == "skipped" and "dangling" in files["dangling.txt"].reason
    assert set(Index.open(tmp_path / "idx").documents) == {"good"}
    followed = settings.with_overrides({"ingest": {"follow_symlinks": True}})
    again = _by_name(ingest([folder], tmp_path / "idx", followed))
    assert again["link.txt"].status == "ingested"


def test_a_large_section_is_chunked_window_by_window(monkeypatch: pytest.MonkeyPatch, settings) -> None:
    monkeypatch.setattr(chunking, "WINDOW_CHARS", 2_000)
    paragraphs = [f"Paragraph {i}. Warfarin is held {i % 7 + 1} days before surgery here." for i in range(400)]
    text = "\n\n".join(paragraphs)
    doc = make_document(
        text=text, title="Long", sections=[Section(title="", start=0, end=len(text))], metadata=DocumentMetadata()
    )
    batches: list[int] = []

    def count(texts):
        batches.append(sum(len(t) for t in texts))
        return [len(t.split()) for t in texts]

    chunks = chunking.chunk_document(doc, settings.chunk, count)
    assert len(batches) > 5 and max(batches) <= 2_000, "each tokenizer call sees one window"
    assert all(text[c.char_start : c.char_end] == c.text for c in chunks)
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))
    covered = " ".join(c.text for c in chunks)
    assert all(p in covered for p in paragraphs), "no paragraph is lost at a window's edge"


def test_a_normal_document_is_one_window(settings) -> None:
    text = "Warfarin is held 5 days before surgery. Check the INR the day before."
    doc = make_document(text=text, title="T", metadata=DocumentMetadata())
    calls = []
    chunking.chunk_document(doc, settings.chunk, lambda texts: calls.append(len(texts)) or [5] * len(texts))
    assert calls == [2]
