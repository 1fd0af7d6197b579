"""Documents and chunks read on demand (index/docstore.py, issue 13): store.sqlite behind a Mapping
and a Sequence, safe across threads, with bounded caches; schema-1 generations (JSONL) still open
and are rewritten as store.sqlite by the next commit."""

from __future__ import annotations

import hashlib
import json
import os
import random
import sqlite3
import threading
from pathlib import Path

import numpy as np
import pytest

from rag_oracle.embed.hashing import HashEmbedder
from rag_oracle.errors import SchemaVersionError
from rag_oracle.index import docstore
from rag_oracle.index.atomic import snapshot_dir
from rag_oracle.index.docstore import LazyChunks, LazyDocuments, SqliteStore
from rag_oracle.index.manifest import MANIFEST, file_entries
from rag_oracle.index.store import Index, verify_index
from rag_oracle.index.writer import IndexWriter
from rag_oracle.ingest.base import make_document
from rag_oracle.ingest.chunking import chunk_document
from rag_oracle.text.passage import embedding_text
from rag_oracle.types import Chunk, DocumentMetadata, Filters

TOPICS = ("warfarin", "apixaban", "amoxicillin", "sertraline", "metformin", "lithium")
N_DOCS = 12


def _doc(i: int):
    topic = TOPICS[i % len(TOPICS)]
    text = " ".join(
        f"Statement {j} of note {i}: {topic} is adjusted for kidney function and checked after {j + 2} days."
        for j in range(4)
    )
    meta = DocumentMetadata(
        format="jsonl" if i % 2 else "text",
        source_path=f"notes/{topic}.txt",
        year=2000 + i,
        publication_types=["Review"] if i % 3 == 0 else ["Practice Guideline"],
        source="Test set" if i % 4 == 0 else "",
        authors=[f"Author {i}"],
    )
    return make_document(text=text, title=f"Note {i} on {topic}", metadata=meta, doc_id=f"doc-{i:02d}")


def _prepared(settings, embedder, docs):
    chunks = [c for d in docs for c in chunk_document(d, settings.chunk, embedder.count_tokens)]
    titles = {d.id: d.title for d in docs}
    vectors = embedder.embed_documents([embedding_text(titles[c.doc_id], c.text) for c in chunks])
    return list(docs), chunks, vectors


@pytest.fixture
def embedder() -> HashEmbedder:
    return HashEmbedder(dimension=512)


@pytest.fixture
def docs():
    return [_doc(i) for i in range(N_DOCS)]


@pytest.fixture
def index_path(tmp_path: Path, settings, embedder, docs) -> Path:
    path = tmp_path / "idx"
    writer = IndexWriter.open(path, settings, embedder)
    writer.add(*_prepared(settings, embedder, docs))
    writer.commit(command="test")
    return path


def _expected_chunks(settings, embedder, docs) -> list[Chunk]:
    return _prepared(settings, embedder, docs)[1]


# --- the lazy collections ------------------------------------------------------------------------


def test_a_new_index_keeps_documents_and_chunks_in_store_sqlite(index_path: Path) -> None:
    generation = snapshot_dir(index_path)
    names = {p.name for p in generation.iterdir()}
    assert "store.sqlite" in names and not {"documents.jsonl", "chunks.jsonl"} & names
    index = Index.open(index_path)
    assert isinstance(index.store, SqliteStore)
    assert isinstance(index.documents, LazyDocuments) and isinstance(index.chunks, LazyChunks)
    assert index.manifest.schema_version == 2 and "store.sqlite" in index.manifest.files


def test_documents_mapping(index_path: Path, docs) -> None:
    documents = Index.open(index_path).documents
    assert len(documents) == N_DOCS
    assert list(documents) == [d.id for d in docs]  # document order
    assert list(documents.keys()) == [d.id for d in docs]
    assert list(documents.values()) == docs
    assert list(documents.items()) == [(d.id, d) for d in docs]
    assert documents["doc-03"] == docs[3] and documents.get("doc-03") == docs[3]
    assert "doc-03" in documents and "doc-99" not in documents and 3 not in documents
    assert documents.get("doc-99") is None and documents.get("doc-99", "x") == "x"
    with pytest.raises(KeyError):
        documents["doc-99"]
    with pytest.raises(KeyError):
        documents[3]  # type: ignore[index]
    assert docs[5] in documents.values() and ("doc-05", docs[5]) in documents.items()
    assert ("doc-05", docs[4]) not in documents.items()
    assert dict(documents) == {d.id: d for d in docs} and documents == {d.id: d for d in docs}


def test_chunks_sequence(index_path: Path, settings, embedder, docs) -> None:
    expected = _expected_chunks(settings, embedder, docs)
    chunks = Index.open(index_path).chunks
    n = len(expected)
    assert len(chunks) == n and bool(chunks)
    assert list(chunks) == expected  # position order: chunk i is FAISS vector i
    assert chunks[0] == expected[0] and chunks[n - 1] == expected[-1] and chunks[-1] == expected[-1]
    assert chunks[np.int64(2)] == expected[2]
    for bad in (n, -n - 1, 10**9):
        with pytest.raises(IndexError):
            chunks[bad]
    with pytest.raises(TypeError):
        chunks["0"]  # type: ignore[index]
    assert chunks[2:5] == expected[2:5] and chunks[:3] == expected[:3] and chunks[-2:] == expected[-2:]
    assert chunks[::3] == expected[::3] and chunks[::-1] == expected[::-1] and chunks[5:2] == []
    assert chunks[: n + 10] == expected
    assert chunks == expected and expected == chunks and chunks != expected[:-1]
    assert expected[4] in chunks and chunks.index(expected[4]) == 4 and chunks.count(expected[4]) == 1
    other = expected[4].model_copy(update={"text": "something else"})
    assert other not in chunks and "text" not in chunks
    with pytest.raises(ValueError):
        chunks.index(other)
    assert list(reversed(chunks)) == expected[::-1]


def test_iteration_streams_in_batches(index_path: Path, settings, embedder, docs, monkeypatch) -> None:
    monkeypatch.setattr(docstore, "BATCH", 3)  # several queries for one iteration
    expected = _expected_chunks(settings, embedder, docs)
    index = Index.open(index_path)
    assert list(index.chunks) == expected and index.chunks[1:8] == expected[1:8]
    assert list(index.documents.values()) == docs and list(index.documents) == [d.id for d in docs]
    assert index.content_hashes() == {d.id: d.content_hash for d in docs}


def test_positions_infos_and_masks_without_reading_everything(index_path: Path, settings, embedder, docs) -> None:
    expected = _expected_chunks(settings, embedder, docs)
    index = Index.open(index_path)
    assert [index.position(c.id) for c in expected] == list(range(len(expected)))
    with pytest.raises(KeyError):
        index.position("nope#0")
    order = {d.id: i for i, d in enumerate(docs)}
    doc_positions = index.chunk_doc_positions
    assert doc_positions.tolist() == [order[c.doc_id] for c in expected]
    assert not doc_positions.flags.writeable and index.chunk_doc_positions is doc_positions  # computed once
    info = index.info("doc-07")
    assert info.id == "doc-07" and info.title == docs[7].title and info.year == 2007 and info.authors == ["Author 7"]
    with pytest.raises(KeyError):
        index.info("doc-99")
    pairs = index.chunks_and_infos([5, 0, 5, -1])
    assert [c for c, _ in pairs] == [expected[5], expected[0], expected[5], expected[-1]]
    assert [i.id for _, i in pairs] == [expected[p].doc_id for p in (5, 0, 5, -1)]
    with pytest.raises(IndexError):
        index.chunks_and_infos([len(expected)])
    for filters in (
        Filters(year_min=2005),
        Filters(year_max=2003, publication_types=["review"]),
        Filters(sources=["JSONL"]),
        Filters(sources=["test set", "lithium"]),
        Filters(publication_types=["Randomized Controlled Trial"]),
    ):
        assert index.document_mask(filters).tolist() == [filters.accepts(d) for d in docs], filters
    gone = {"doc-01", "doc-04", "unknown"}
    assert index.count_chunks(gone) == sum(1 for c in expected if c.doc_id in gone)
    assert index.count_chunks([]) == 0


def test_caches_are_bounded(index_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(docstore, "CHUNK_CACHE", 4)
    monkeypatch.setattr(docstore, "DOCUMENT_CACHE", 2)
    monkeypatch.setattr(docstore, "INFO_CACHE", 3)
    index = Index.open(index_path)
    for i in range(len(index.chunks)):
        chunk = index.chunks[i]
        index.documents[chunk.doc_id]
        index.info(chunk.doc_id)
        index.position(chunk.id)
    index.chunks_and_infos(range(len(index.chunks)))
    store = index.store
    assert len(store._chunks) <= 4 and len(store._documents) <= 2
    assert len(store._infos) <= 3 and len(store._positions) <= 3


def test_threads_share_one_index(index_path: Path, settings, embedder, docs) -> None:
    expected = _expected_chunks(settings, embedder, docs)
    index = Index.open(index_path)
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def work(seed: int) -> None:
        rng = random.Random(seed)
        try:
            start.wait()
            for _ in range(300):
                pos = rng.randrange(len(expected))
                chunk = expected[pos]
                assert index.chunks[pos] == chunk
                assert index.position(chunk.id) == pos
                assert index.info(chunk.doc_id).id == chunk.doc_id
                assert index.documents[chunk.doc_id].id == chunk.doc_id
                picks = [rng.randrange(len(expected)) for _ in range(5)]
                assert [c for c, _ in index.chunks_and_infos(picks)] == [expected[p] for p in picks]
                if rng.random() < 0.05:
                    assert list(index.chunks) == expected  # an iteration interleaved with point reads
                    assert index.document_mask(Filters(year_min=2006)).sum() == 6
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    assert errors == []


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_reads_with_its_own_connection(index_path: Path) -> None:
    index = Index.open(index_path)
    first = index.chunks[0]
    pid = os.fork()
    if pid == 0:  # the child: exit status says whether it read the same rows
        try:
            ok = index.chunks[1] == list(index.chunks)[1] and index.chunks[0] == first
            os._exit(0 if ok and index.store._pool.pid == os.getpid() else 1)
        except BaseException:
            os._exit(2)
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 0
    assert index.chunks[1] == list(index.chunks)[1]


def test_concurrent_queries_each_borrow_a_connection_up_to_the_limit() -> None:
    opened: list[sqlite3.Connection] = []

    def open_one() -> sqlite3.Connection:
        opened.append(sqlite3.connect(":memory:", check_same_thread=False))
        return opened[-1]

    pool = docstore.ReadConnections(open_one, limit=2)
    first = pool.take()
    second = pool.take()  # the first is lent out: a second is opened, not waited for
    assert len(opened) == 2 and first is not second
    got: list[sqlite3.Connection] = []
    waiter = threading.Thread(target=lambda: got.append(pool.take()))
    waiter.start()
    waiter.join(timeout=0.3)
    assert waiter.is_alive() and len(opened) == 2  # at the limit it waits for one to come back
    pool.give(first)
    waiter.join(timeout=10)
    assert got == [first]
    pool.give(second)
    assert pool.take() is second and len(pool) == 2
    pool.close()


def test_a_pruned_generation_keeps_answering_from_the_connections_it_has(index_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(docstore, "CHUNK_CACHE", 1)  # every read below is a query
    index = Index.open(index_path)
    expected = list(index.chunks)
    (snapshot_dir(index_path) / "store.sqlite").unlink()  # as a writer's prune does, while it is open
    errors: list[BaseException] = []
    start = threading.Barrier(6)

    def work() -> None:
        try:
            start.wait()
            for _ in range(20):
                assert list(index.chunks) == expected and index.chunks[3] == expected[3]
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == [] and len(index.store._pool) == 1  # no new connection could open; none was needed


def test_whether_a_document_exists_is_asked_of_the_file_once(index_path: Path, monkeypatch) -> None:
    index = Index.open(index_path)
    store = index.store
    queries: list[str] = []
    real = store._rows
    monkeypatch.setattr(store, "_rows", lambda sql, params=(): queries.append(sql) or real(sql, params))
    for _ in range(3):
        assert "doc-01" in index.documents and "no-such-doc" not in index.documents
    assert len(queries) == 2
    index.documents["doc-02"]
    assert "doc-02" in index.documents and len(queries) == 3  # known from the document read


def test_readers_write_nothing_beside_the_store(index_path: Path) -> None:
    generation = snapshot_dir(index_path)
    before = {p.name: p.stat().st_mtime_ns for p in generation.rglob("*")}
    index = Index.open(index_path)
    list(index.chunks), list(index.documents.values()), index.verify()
    index.close()
    assert {p.name: p.stat().st_mtime_ns for p in generation.rglob("*")} == before  # no journal, no -wal/-shm
    with pytest.raises(ValueError, match="closed"):
        index.chunks[0]


def test_the_chunks_checksum_is_that_of_their_json_lines(index_path: Path, settings, embedder, docs) -> None:
    lines = "".join(c.model_dump_json() + "\n" for c in _expected_chunks(settings, embedder, docs))
    manifest = Index.open(index_path).manifest
    assert manifest.chunks_sha256 == hashlib.sha256(lines.encode()).hexdigest() == manifest.chunks_checksum


# --- the writer ------------------------------------------------------------------------------------


def _consistent(index: Index) -> None:
    chunks = list(index.chunks)
    order = {doc_id: i for i, doc_id in enumerate(index.documents)}
    assert index.chunk_doc_positions.tolist() == [order[c.doc_id] for c in chunks]
    assert [index.position(c.id) for c in chunks] == list(range(len(chunks)))
    assert index.faiss_index.ntotal == len(chunks) == index.manifest.counts["chunks"]
    assert len(index.documents) == index.manifest.counts["documents"]
    assert index.manifest.counts["tokens"] == sum(c.token_count for c in chunks)
    lines = "".join(c.model_dump_json() + "\n" for c in chunks)
    assert index.manifest.chunks_sha256 == hashlib.sha256(lines.encode()).hexdigest()
    assert index.verify() == [] and verify_index(index.path) == []


def test_replace_and_remove_rewrite_the_store(index_path: Path, settings, embedder, docs, monkeypatch) -> None:
    monkeypatch.setattr(docstore, "BATCH", 4)  # the base is copied over several batches
    new_version = make_document(
        text="Apixaban is held for two days before surgery with a high bleeding risk.",
        title="Apixaban",
        metadata=DocumentMetadata(format="text", year=2024),
        doc_id="doc-03",
    )
    writer = IndexWriter.open(index_path, settings, embedder)
    writer.replace(*_prepared(settings, embedder, [new_version]))
    writer.remove(["doc-00", "doc-07"])
    writer.add(*_prepared(settings, embedder, [_doc(40)]))
    writer.commit(command="change")
    index = Index.open(index_path, embedder)
    kept = [d for d in docs if d.id not in {"doc-00", "doc-03", "doc-07"}]
    assert list(index.documents) == [d.id for d in kept] + ["doc-03", "doc-40"]
    assert index.documents["doc-03"] == new_version and "doc-00" not in index.documents
    expected = _expected_chunks(settings, embedder, [*kept, new_version, _doc(40)])
    assert list(index.chunks) == expected
    assert index.info("doc-03").year == 2024
    assert index.document_mask(Filters(year_min=2024)).tolist() == [False] * len(kept) + [True, True]
    stored = index.vectors([c.id for c in index.chunks])
    titles = {d.id: d.title for d in index.documents.values()}
    np.testing.assert_allclose(
        stored, embedder.embed_documents([embedding_text(titles[c.doc_id], c.text) for c in expected]), atol=1e-5
    )
    _consistent(index)

    writer = IndexWriter.open(index_path, settings, embedder)
    writer.remove([d.id for d in kept[1:]])
    writer.commit()
    index = Index.open(index_path, embedder)
    assert list(index.documents) == [kept[0].id, "doc-03", "doc-40"]
    _consistent(index)


# --- schema 1: documents.jsonl + chunks.jsonl -----------------------------------------------------


def _as_schema_1(path: Path) -> tuple[list, list]:
    """Rewrite the current generation as the previous version wrote it: documents.jsonl and
    chunks.jsonl instead of store.sqlite, a schema-1 manifest (no chunks_sha256)."""
    index = Index.open(path)
    documents, chunks = list(index.documents.values()), list(index.chunks)
    index.close()
    generation = snapshot_dir(path)
    (generation / "documents.jsonl").write_text("".join(d.model_dump_json() + "\n" for d in documents))
    (generation / "chunks.jsonl").write_text("".join(c.model_dump_json() + "\n" for c in chunks))
    (generation / "store.sqlite").unlink()
    manifest = json.loads((generation / MANIFEST).read_text())
    manifest["schema_version"] = 1
    del manifest["chunks_sha256"]
    manifest["files"] = {name: entry.model_dump() for name, entry in file_entries(generation).items()}
    (generation / MANIFEST).write_text(json.dumps(manifest, indent=2))
    return documents, chunks


def test_a_schema_1_generation_opens_answers_and_is_rewritten_by_the_next_commit(
    index_path: Path, settings, embedder, docs
) -> None:
    from rag_oracle import RagOracle

    checksum = Index.open(index_path).manifest.chunks_sha256
    documents, chunks = _as_schema_1(index_path)
    old = Index.open(index_path, embedder)
    assert old.manifest.schema_version == 1 and not isinstance(old.store, SqliteStore)
    assert list(old.documents.values()) == documents == docs and list(old.chunks) == chunks
    assert old.chunks[3] == chunks[3] and old.documents["doc-02"] == docs[2] and old.info("doc-02").id == "doc-02"
    assert old.position(chunks[3].id) == 3 and old.chunks_and_infos([3])[0][0] == chunks[3]
    assert old.document_mask(Filters(year_min=2010)).tolist() == [d.metadata.year >= 2010 for d in docs]
    assert old.manifest.chunks_checksum == checksum, "the same passages keep the same checksum"
    assert old.verify() == [] and verify_index(index_path) == []
    hits = RagOracle(old, settings, embedder=embedder).search("lithium kidney function", k=3)
    assert hits and hits[0].document.id == hits[0].chunk.doc_id
    assert RagOracle(old, settings, embedder=embedder).search("lithium", k=3, filters=Filters(year_min=2011))

    writer = IndexWriter.open(index_path, settings, embedder)
    writer.add(*_prepared(settings, embedder, [_doc(50)]))
    writer.remove(["doc-01"])
    writer.commit(command="next")
    new = Index.open(index_path, embedder)
    names = {p.name for p in snapshot_dir(index_path).iterdir()}
    assert new.manifest.schema_version == 2 and "store.sqlite" in names and "chunks.jsonl" not in names
    kept = [d for d in docs if d.id != "doc-01"]
    assert list(new.documents.values()) == [*kept, _doc(50)]
    assert list(new.chunks) == _expected_chunks(settings, embedder, [*kept, _doc(50)])
    _consistent(new)


def test_an_unknown_schema_is_refused_naming_the_readable_ones(index_path: Path) -> None:
    manifest_path = snapshot_dir(index_path) / MANIFEST
    manifest = json.loads(manifest_path.read_text())
    manifest["schema_version"] = 3
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(SchemaVersionError, match=r"uses index schema 3, this rag-oracle reads schemas 1, 2; rebuild"):
        Index.open(index_path)
