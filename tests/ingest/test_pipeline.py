"""The ingest pipeline: re-ingesting changed documents, the report, and the boundary with the index."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from rag_oracle import ingest
from rag_oracle.index.store import Index
from rag_oracle.types import FileReport, IngestReport

PIPELINE = Path(__file__).resolve().parents[2] / "src" / "rag_oracle" / "ingest" / "pipeline.py"

WARFARIN = "Stop warfarin five days before surgery and check the INR the day before."
APIXABAN = "Hold apixaban for two days before surgery with a high bleeding risk."
AMOXICILLIN = "Amoxicillin 500 mg three times daily treats bacterial sinusitis in adults."


def write_records(path: Path, records: dict[str, str]) -> Path:
    path.write_text("".join(json.dumps({"id": i, "title": "T", "text": t}) + "\n" for i, t in records.items()))
    return path


def chunk_texts(index: Index, doc_id: str) -> str:
    return " ".join(c.text for c in index.chunks if c.doc_id == doc_id)


def test_a_changed_document_replaces_the_indexed_version(tmp_path: Path, settings) -> None:
    data = tmp_path / "records.jsonl"
    path = tmp_path / "idx"
    write_records(data, {"doc-1": WARFARIN, "doc-2": AMOXICILLIN})
    ingest([data], path, settings)

    write_records(data, {"doc-1": APIXABAN, "doc-2": AMOXICILLIN})
    report = ingest([data], path, settings)
    assert (report.documents_added, report.documents_replaced, report.duplicates) == (0, 1, 1)
    assert report.chunks_removed >= 1 and report.chunks_added >= 1
    assert any("doc-1" in w and "replaced" in w for w in report.files[0].warnings)
    assert "1 replaced" in report.summary()
    index = Index.open(path)
    assert "apixaban" in chunk_texts(index, "doc-1") and "warfarin" not in chunk_texts(index, "doc-1")
    assert index.faiss_index.ntotal == len(index.chunks) and index.verify() == []
    assert report.total_documents == 2 and report.total_chunks == len(index.chunks)

    # Going back to the first version is a change too: the old file digest no longer counts as ingested.
    write_records(data, {"doc-1": WARFARIN, "doc-2": AMOXICILLIN})
    again = ingest([data], path, settings)
    assert again.documents_replaced == 1
    assert "warfarin" in chunk_texts(Index.open(path), "doc-1")


def test_within_one_run_the_version_read_last_wins(tmp_path: Path, settings) -> None:
    first = write_records(tmp_path / "a.jsonl", {"doc-1": WARFARIN})
    second = write_records(tmp_path / "b.jsonl", {"doc-1": APIXABAN})
    report = ingest([first, second], tmp_path / "idx", settings)
    assert report.documents_added == 1 and report.documents_replaced == 0
    assert any("kept this later version" in w for w in report.files[1].warnings)
    index = Index.open(tmp_path / "idx")
    assert list(index.documents) == ["doc-1"] and "apixaban" in chunk_texts(index, "doc-1")
    assert index.faiss_index.ntotal == len(index.chunks) and index.verify() == []


def test_a_document_that_becomes_a_copy_of_another_becomes_its_alias(tmp_path: Path, settings) -> None:
    data = tmp_path / "records.jsonl"
    path = tmp_path / "idx"
    write_records(data, {"doc-1": WARFARIN, "doc-2": AMOXICILLIN})
    ingest([data], path, settings)
    write_records(data, {"doc-1": WARFARIN, "doc-2": WARFARIN})
    report = ingest([data], path, settings)
    assert report.documents_removed == 1 and report.duplicates == 2
    index = Index.open(path)
    assert list(index.documents) == ["doc-1"] and index.canonical_id("doc-2") == "doc-1"
    assert index.verify() == []

    # ... and an alias that gets text of its own becomes a document again.
    write_records(data, {"doc-1": WARFARIN, "doc-2": APIXABAN})
    report = ingest([data], path, settings)
    assert report.documents_added == 1
    index = Index.open(path)
    assert sorted(index.documents) == ["doc-1", "doc-2"] and index.aliases == {}


def test_a_replaced_document_loses_the_aliases_of_its_old_text(tmp_path: Path, settings) -> None:
    data = tmp_path / "records.jsonl"
    path = tmp_path / "idx"
    write_records(data, {"doc-1": WARFARIN, "doc-1-copy": WARFARIN})
    ingest([data], path, settings)
    assert Index.open(path).aliases == {"doc-1-copy": "doc-1"}
    write_records(data, {"doc-1": APIXABAN})
    ingest([data], path, settings)
    assert Index.open(path).aliases == {}


def test_only_unreadable_files_make_no_index(tmp_path: Path, settings) -> None:
    (tmp_path / "slides.pptx").write_bytes(b"PK\x03\x04")
    report = ingest([tmp_path / "slides.pptx"], tmp_path / "idx", settings)
    assert report.count("skipped") == 1 and report.total_chunks == 0
    assert not (tmp_path / "idx").exists()


def test_the_report_is_a_frozen_typed_value(tmp_path: Path, corpus_dir: Path, settings) -> None:
    report = ingest([corpus_dir / "guide.md", tmp_path / "missing.txt"], tmp_path / "idx", settings)
    assert isinstance(report, IngestReport) and all(isinstance(f, FileReport) for f in report.files)
    assert report.exit_code == 1 and report.count("failed") == 1
    data = json.loads(json.dumps(report.model_dump()))
    assert data["files"][1] == {
        "path": str(tmp_path / "missing.txt"),
        "status": "failed",
        "reason": "no such file or directory",
        "documents": 0,
        "chunks": 0,
        "duplicates": 0,
        "warnings": [],
        "sha256": "",
    }
    assert IngestReport.model_validate(data) == report
    with pytest.raises(Exception, match="frozen"):
        report.documents_added = 5  # type: ignore[misc]


def test_the_reports_are_still_importable_from_the_pipeline() -> None:
    from rag_oracle.ingest import pipeline

    assert pipeline.IngestReport is IngestReport and pipeline.FileReport is FileReport


def test_the_pipeline_uses_only_the_index_writer_and_reader() -> None:
    """The index owns its format: ingest hands data to the writer and never touches its files."""
    tree = ast.parse(PIPELINE.read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
            imported.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
    from_index = {m for m in imported if m == "rag_oracle.index" or m.startswith("rag_oracle.index.")}
    allowed = {
        "rag_oracle.index.lock",  # the writer lock: one ingest per index
        "rag_oracle.index.lock.writer_lock",
        "rag_oracle.index.writer",
        "rag_oracle.index.writer.IndexWriter",
        "rag_oracle.index.store",
        "rag_oracle.index.store.Index",
    }
    assert from_index <= allowed, f"ingest/pipeline.py reaches into the index: {sorted(from_index - allowed)}"
    assert "rag_oracle.index.writer.IndexWriter" in from_index
    names = ("store.sqlite", "documents.jsonl", "chunks.jsonl", "sources.jsonl", "aliases.jsonl", "manifest.json")
    for name in (*names, "dense.faiss"):
        assert name not in PIPELINE.read_text(encoding="utf-8")


class _Phases:
    """A Progress that records the phases it is shown, in order."""

    def __init__(self) -> None:
        self.phases: list[str] = []

    def start(self, phase: str, total: int | None, unit: str) -> None:
        self.phases.append(phase)

    def advance(self, n: int = 1, **info: object) -> None:
        pass

    def finish(self) -> None:
        pass


def _index_content(path: Path) -> tuple:
    index = Index.open(path)
    chunks = [(c.id, c.doc_id, c.text) for c in index.chunks]
    vectors = index.faiss_index.reconstruct_n(0, index.faiss_index.ntotal)
    return sorted(index.documents), chunks, index.aliases, vectors, index.verify()


def test_flushing_chunks_to_the_writer_between_files_builds_the_same_index(
    tmp_path: Path, settings, monkeypatch
) -> None:
    """A large run embeds and stages what it has read every FLUSH_CHUNKS chunks, so it never holds every
    document at once; later files must still win over documents already handed to the writer."""
    from rag_oracle.ingest import pipeline

    base = write_records(tmp_path / "base.jsonl", {"doc-1": WARFARIN, "doc-9": "Old text about metformin dosing."})
    a = write_records(
        tmp_path / "a.jsonl", {"doc-1": AMOXICILLIN, "doc-2": APIXABAN, "doc-5": "Lisinopril 10 mg daily."}
    )
    # a later version of doc-1 (staged by an earlier flush), doc-3 takes text that doc-1 gave up,
    # doc-4 is a copy of doc-2, and doc-9 on disk gets a new version
    b = write_records(
        tmp_path / "b.jsonl",
        {
            "doc-1": "Ibuprofen 400 mg every six hours.",
            "doc-3": AMOXICILLIN,
            "doc-4": APIXABAN,
            "doc-9": "Metformin 500 mg.",
        },
    )
    # doc-2 becomes a copy of doc-5, which leaves doc-4 (its alias) pointing nowhere but at doc-2's old text
    c = write_records(
        tmp_path / "c.jsonl", {"doc-2": "Lisinopril 10 mg daily.", "doc-6": "Apixaban once more, new text."}
    )

    results = {}
    for flush in (1, 10**9):
        monkeypatch.setattr(pipeline, "FLUSH_CHUNKS", flush)
        path = tmp_path / f"idx-{flush}"
        ingest([base], path, settings)
        phases = _Phases()
        report = ingest([a, b, c], path, settings, progress=phases)
        results[flush] = (report.model_dump(exclude={"index_path", "seconds", "embed_cache"}), _index_content(path))
        if flush == 1:
            assert phases.phases[:4] == ["read", "embed", "read", "embed"], phases.phases
        else:
            assert phases.phases[:2] == ["read", "embed"] and phases.phases.count("read") == 1

    (flushed_report, flushed), (whole_report, whole) = results[1], results[10**9]
    assert flushed_report == whole_report
    assert flushed[:3] == whole[:3] and flushed[4] == whole[4] == []
    assert (flushed[3] == whole[3]).all()
    documents, chunks, aliases, _, _ = flushed
    assert documents == ["doc-1", "doc-3", "doc-5", "doc-6", "doc-9"] and aliases == {"doc-2": "doc-5"}
    text = {doc_id: t for _, doc_id, t in chunks}
    assert "Ibuprofen" in text["doc-1"] and text["doc-9"] == "Metformin 500 mg."
    assert whole_report["documents_replaced"] == 2 and whole_report["documents_removed"] == 0
