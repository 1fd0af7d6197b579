"""The index directory: manifest, atomic writes, deduplication, incremental adds, verification."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from rag_oracle import ingest
from rag_oracle.embed.hashing import HashEmbedder
from rag_oracle.errors import (
    EmbedderMismatchError,
    IncompleteIndexError,
    IndexCorruptError,
    IndexNotFoundError,
    IndexSettingsMismatchError,
    IndexWriteError,
    SchemaVersionError,
)
from rag_oracle.index import lexical
from rag_oracle.index.atomic import snapshot_dir
from rag_oracle.index.store import Index, verify_index


class CountingEmbedder(HashEmbedder):
    """Counts the texts it embeds, to prove nothing is embedded twice."""

    def __init__(self) -> None:
        super().__init__(dimension=512)
        self.embedded: list[str] = []

    def embed_documents(self, texts):
        self.embedded.extend(texts)
        return super().embed_documents(texts)


def test_manifest_records_the_build(built_index: Path) -> None:
    manifest = json.loads((snapshot_dir(built_index) / "manifest.json").read_text())
    assert manifest["schema_version"] == 2
    assert manifest["embedder"] == {"id": "hash:v1:dim=512", "dimension": 512, "max_tokens": 10000}
    assert manifest["chunking"]["max_tokens"] == 40
    assert manifest["faiss"]["spec"] == "Flat" and manifest["faiss"]["ntotal"] == manifest["counts"]["chunks"]
    assert manifest["counts"]["documents"] == 8  # 1 pubmed + 1 jats + 1 md + 1 txt + 3 jsonl + 1 pdf
    assert set(manifest["files"]) >= {"store.sqlite", "dense.faiss", "bm25/params.index.json"}
    assert not {"documents.jsonl", "chunks.jsonl"} & set(manifest["files"])
    assert len(manifest["chunks_sha256"]) == 64
    assert all(len(entry["sha256"]) == 64 for entry in manifest["files"].values())


def test_no_pickle_anywhere(built_index: Path) -> None:
    for path in built_index.rglob("*"):
        if path.is_file():
            head = path.read_bytes()[:2]
            assert head != b"\x80\x04" and head != b"\x80\x05", f"{path} looks like a pickle"
            if path.suffix == ".npy":
                np.load(path, allow_pickle=False)


def test_reingesting_adds_nothing(corpus_dir: Path, built_index: Path, settings) -> None:
    before = (snapshot_dir(built_index) / "manifest.json").read_text()
    report = ingest([corpus_dir], built_index, settings)
    assert report.documents_added == 0 and report.chunks_added == 0
    assert {f.status for f in report.files} == {"skipped"}
    assert (snapshot_dir(built_index) / "manifest.json").read_text() == before  # not even rewritten


def test_identical_documents_stored_once(tmp_path: Path, corpus_dir: Path, settings) -> None:
    copy = tmp_path / "copy"
    copy.mkdir()
    shutil.copy(corpus_dir / "guide.md", copy / "guide-copy.md")
    (copy / "guide-copy.md").write_text((corpus_dir / "guide.md").read_text() + "\n\n")  # different bytes, same text
    report = ingest([corpus_dir / "guide.md", copy / "guide-copy.md"], tmp_path / "idx", settings)
    assert report.documents_added == 1 and report.duplicates == 1


def test_incremental_add_embeds_only_new_chunks(tmp_path: Path, corpus_dir: Path, settings) -> None:
    # chunks only: the sentence store embeds statements too (tests/index/test_sentences.py)
    settings = settings.with_overrides({"embed": {"cache_dir": "off"}, "index": {"sentence_vectors": False}})
    embedder = CountingEmbedder()
    path = tmp_path / "idx"
    first = ingest([corpus_dir / "guide.md", corpus_dir / "records.jsonl"], path, settings, embedder=embedder)
    first_count = len(embedder.embedded)
    assert first_count == first.chunks_added
    second = ingest([corpus_dir], path, settings, embedder=embedder)
    assert len(embedder.embedded) - first_count == second.chunks_added
    assert second.documents_added == 4  # one document in each of the four other files
    index = Index.open(path, embedder)
    assert len(index.documents) == 8 and index.faiss_index.ntotal == len(index.chunks)
    assert not index.verify()


def test_embedding_cache_means_no_text_is_embedded_twice(tmp_path: Path, corpus_dir: Path, settings) -> None:
    from rag_oracle.embed import CachedEmbedder

    settings = settings.with_overrides({"index": {"sentence_vectors": False}})  # chunks only
    inner = CountingEmbedder()
    cached = CachedEmbedder(inner, tmp_path / "cache2")
    ingest([corpus_dir], tmp_path / "a", settings, embedder=cached)
    n = len(inner.embedded)
    ingest([corpus_dir], tmp_path / "b", settings, embedder=cached)  # a second index, same texts
    assert len(inner.embedded) == n
    assert cached.stats["hits"] == n


def test_crash_mid_write_keeps_the_old_index(
    monkeypatch: pytest.MonkeyPatch, corpus_dir: Path, tmp_path: Path, settings
) -> None:
    path = tmp_path / "idx"
    ingest([corpus_dir / "guide.md"], path, settings)
    before = {p.relative_to(path): p.read_bytes() for p in path.rglob("*") if p.is_file()}

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(lexical, "save", boom)
    with pytest.raises(IndexWriteError, match="disk full"):
        ingest([corpus_dir / "records.jsonl"], path, settings)
    after = {p.relative_to(path): p.read_bytes() for p in path.rglob("*") if p.is_file()}
    assert after == before
    assert not list(path.glob(".tmp-*")), "the temporary directory must be cleaned up"
    assert len(Index.open(path).documents) == 1


def test_half_written_directory_is_never_opened(tmp_path: Path, built_index: Path) -> None:
    partial = tmp_path / "partial"
    shutil.copytree(built_index, partial)
    (snapshot_dir(partial) / "manifest.json").unlink()
    with pytest.raises(IncompleteIndexError, match="never finished"):
        Index.open(partial)


def test_ingest_refuses_a_non_index_directory(tmp_path: Path, corpus_dir: Path, settings) -> None:
    target = tmp_path / "my-documents"
    target.mkdir()
    (target / "thesis.txt").write_text("precious")
    with pytest.raises(IncompleteIndexError, match="Refusing"):
        ingest([corpus_dir / "guide.md"], target, settings)
    assert (target / "thesis.txt").read_text() == "precious"


def _new_note(folder: Path) -> Path:
    note = folder / "new-note.txt"
    note.write_text("Lithium levels\n\nCheck lithium levels five days after a dose change.\n")
    return note


def _legacy_copy(index: Path, target: Path) -> Path:
    """The files of `index`'s current generation laid out flat, as indexes before generations were."""
    shutil.copytree(snapshot_dir(index), target)
    return target


def test_interrupted_swap_of_the_older_layout_is_read_then_recovered(
    tmp_path: Path, built_index: Path, corpus_dir: Path, settings
) -> None:
    legacy = tmp_path / "legacy"
    previous = _legacy_copy(built_index, tmp_path / "legacy.previous")  # died between the two renames
    index = Index.open(legacy)
    assert index.chunks and previous.exists() and not legacy.exists(), "a reader renames nothing"
    ingest([_new_note(tmp_path)], legacy, settings)  # the next writer recovers it
    assert not previous.exists() and len(Index.open(legacy).documents) == len(index.documents) + 1


def test_an_index_of_the_older_layout_opens_and_moves_to_a_generation(
    tmp_path: Path, built_index: Path, corpus_dir: Path, settings
) -> None:
    legacy = _legacy_copy(built_index, tmp_path / "legacy")
    assert len(Index.open(legacy).documents) == len(Index.open(built_index).documents)
    ingest([_new_note(tmp_path)], legacy, settings)
    names = {p.name for p in legacy.iterdir()}
    assert names == {"CURRENT", "g000001", "sentence-vectors.sqlite"}, names
    assert Index.open(legacy).verify() == []


def test_missing_index(tmp_path: Path) -> None:
    with pytest.raises(IndexNotFoundError, match="rag-oracle ingest"):
        Index.open(tmp_path / "nope")


def test_embedder_mismatch_names_both(built_index: Path) -> None:
    with pytest.raises(EmbedderMismatchError) as info:
        Index.open(built_index, HashEmbedder(dimension=64))
    assert "hash:v1:dim=512" in str(info.value) and "hash:v1:dim=64" in str(info.value)


def test_adding_with_other_chunking_is_refused(corpus_dir: Path, built_index: Path, settings) -> None:
    other = settings.with_overrides({"chunk": {"max_tokens": 80}})
    with pytest.raises(IndexSettingsMismatchError, match="chunking"):
        ingest([corpus_dir / "notes.txt"], built_index, other)


def test_schema_version_mismatch(built_index: Path) -> None:
    manifest = json.loads((snapshot_dir(built_index) / "manifest.json").read_text())
    manifest["schema_version"] = 99
    (snapshot_dir(built_index) / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(SchemaVersionError, match="rebuild"):
        Index.open(built_index)


def test_verify_detects_tampering(built_index: Path) -> None:
    assert Index.open(built_index).verify() == [] and verify_index(built_index) == []
    store = snapshot_dir(built_index) / "store.sqlite"
    data = store.read_bytes()
    store.write_bytes(data.replace(b"warfarin", b"WARFARIN", 1))  # same size, different bytes
    problems = verify_index(built_index)
    assert any("store.sqlite: checksum" in p for p in problems)
    with pytest.raises(IndexCorruptError, match=r"store\.sqlite: checksum"):  # small files are hashed on open
        Index.open(built_index)


def test_truncated_file_is_refused_on_open(built_index: Path) -> None:
    faiss_file = snapshot_dir(built_index) / "dense.faiss"
    faiss_file.write_bytes(faiss_file.read_bytes()[:100])
    with pytest.raises(IndexCorruptError, match="the manifest says"):
        Index.open(built_index)


def test_hnsw_spec(tmp_path: Path, corpus_dir: Path, settings) -> None:
    from rag_oracle import RagOracle

    hnsw = settings.with_overrides({"index": {"faiss": "HNSW16"}, "retrieve": {"mode": "dense"}})
    path = tmp_path / "hnsw"
    ingest([corpus_dir], path, hnsw)
    hits = RagOracle(path, hnsw).search("warfarin before surgery", k=3)
    assert hits and "warfarin" in hits[0].chunk.text.lower()


def test_bad_faiss_spec_is_a_clear_error(tmp_path: Path, corpus_dir: Path, settings) -> None:
    from rag_oracle.errors import ConfigError

    with pytest.raises(ConfigError, match="FAISS"):
        ingest([corpus_dir / "guide.md"], tmp_path / "x", settings.with_overrides({"index": {"faiss": "Bogus99"}}))
    assert not (tmp_path / "x").exists()


def test_duplicate_text_under_another_id_becomes_an_alias(tmp_path: Path, settings) -> None:
    data = tmp_path / "dups.jsonl"
    text = "Stop warfarin five days before surgery and check the INR the day before."
    data.write_text(
        json.dumps({"id": "first", "title": "T", "text": text})
        + "\n"
        + json.dumps({"id": "second", "title": "T", "text": text})
        + "\n"
    )
    report = ingest([data], tmp_path / "idx", settings)
    assert report.documents_added == 1 and report.duplicates == 1
    index = Index.open(tmp_path / "idx")
    assert list(index.documents) == ["first"]
    assert index.canonical_id("second") == "first" and index.canonical_id("first") == "first"
    assert index.manifest.counts["aliases"] == 1


@pytest.mark.parametrize("spec", ["Flat", "HNSW16", "IVF2,Flat", "SQ8"])
def test_open_memory_maps_the_vectors_and_searches_alike(corpus_dir: Path, settings, tmp_path: Path, spec) -> None:
    import faiss

    from rag_oracle.index import dense

    settings = settings.with_overrides({"index": {"faiss": spec}})
    path = tmp_path / "idx"
    ingest([corpus_dir], path, settings)
    mapped, read = Index.open(path), Index.open(path, mmap=False)
    queries = HashEmbedder(dimension=512).embed_documents(["warfarin before surgery", "platelet counts", "sinusitis"])
    for q in queries:
        found, expected = (dense.search(i.faiss_index, q, 5) for i in (mapped, read))
        assert found[0].tolist() == expected[0].tolist() and found[1].tolist() == expected[1].tolist()
    assert np.array_equal(mapped.vectors([c.id for c in mapped.chunks]), read.vectors([c.id for c in read.chunks]))
    maps = Path("/proc/self/maps")  # Linux: the vectors are a mapping of the file, not a copy
    if spec in ("Flat", "HNSW16") and hasattr(faiss, "IO_FLAG_MMAP_IFC") and maps.exists():
        assert str((snapshot_dir(path) / dense.FAISS_FILE).resolve()) in maps.read_text()
    # A writer appends to (and replaces in) an index that readers have memory-mapped.
    more = tmp_path / "more"
    more.mkdir()
    (more / "extra.txt").write_text("Sertraline is started at 50 mg daily for depression.")
    ingest([more], path, settings)
    index = Index.open(path)
    assert index.faiss_index.ntotal == len(index.chunks) and index.verify() == []
