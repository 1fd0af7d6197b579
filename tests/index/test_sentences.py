"""Sentence vectors stored at ingest: found by exact text, the model's own, and answers unchanged."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np

from rag_oracle.embed import HashEmbedder
from rag_oracle.index.sentences import STORE_FILE, SentenceStore, SentenceVectors, _key, chunk_key


def test_store_round_trip_and_only_missing_texts_are_embedded(tmp_path: Path) -> None:
    emb = HashEmbedder(dimension=64)
    store = SentenceStore(tmp_path, emb.model_id)
    calls: list[list[str]] = []

    def embed(texts: list[str]) -> np.ndarray:
        calls.append(list(texts))
        return emb.embed_documents(texts)

    assert store.add(["a b", "c d", "a b"], embed) == 2
    assert store.add(["a b", "e f"], embed) == 1
    assert calls == [["a b", "c d"], ["e f"]]
    wrapped = SentenceVectors(emb, store)
    texts = ["c d", "never stored", "a b"]
    assert np.array_equal(wrapped.embed_documents(texts), emb.embed_documents(texts))
    assert wrapped.stats == {"stored": 2, "live": 1}
    assert wrapped.embed_documents([]).shape == (0, 64)
    assert wrapped.model_id == emb.model_id  # everything else is the wrapped embedder's


def test_another_models_vectors_are_never_used(tmp_path: Path) -> None:
    SentenceStore(tmp_path, "model-a").add(["a b"], HashEmbedder(dimension=8).embed_documents)
    assert SentenceStore(tmp_path, "model-b").lookup(["a b"]) == {}
    # the writer of another model starts the store again instead of mixing vectors
    SentenceStore(tmp_path, "model-b").add(["c d"], HashEmbedder(dimension=8).embed_documents)
    assert SentenceStore(tmp_path, "model-a").lookup(["a b"]) == {}
    assert len(SentenceStore(tmp_path, "model-b").lookup(["c d", "a b"])) == 1


def test_missing_or_damaged_store_reads_as_empty(tmp_path: Path) -> None:
    assert SentenceStore(tmp_path, "m").lookup(["x"]) == {}
    (tmp_path / STORE_FILE).write_bytes(b"not a database at all" * 100)
    emb = HashEmbedder(dimension=8)
    wrapped = SentenceVectors(emb, SentenceStore(tmp_path, emb.model_id))
    assert np.array_equal(wrapped.embed_documents(["x y"]), emb.embed_documents(["x y"]))


def test_ingest_stores_every_candidate_and_answers_are_unchanged(built_index: Path, settings) -> None:
    from rag_oracle import RagOracle
    from rag_oracle.generate.extractive import candidate_texts

    store = built_index / STORE_FILE
    rows = sqlite3.connect(store).execute("SELECT COUNT(*) FROM vectors").fetchone()[0]
    oracle = RagOracle(built_index, settings)
    expected = {t for doc in oracle.index.documents.values() for t in candidate_texts(doc)}
    assert rows == len(expected) > 0
    questions = ["How many days before surgery should warfarin be stopped?", "What is the dose of amoxicillin?"]
    with_store = [oracle.ask(q) for q in questions]
    stats = oracle.generator._sentence_embedder.stats
    assert stats["stored"] > 0 and stats["live"] == 0  # every statement a draft embedded was stored at ingest
    store.unlink()
    without = [RagOracle(built_index, settings).ask(q) for q in questions]
    assert [a.text for a in with_store] == [a.text for a in without]


def test_the_store_can_be_turned_off(corpus_dir: Path, settings, tmp_path: Path) -> None:
    from rag_oracle import ingest

    report = ingest([corpus_dir], tmp_path / "plain", settings.with_overrides({"index": {"sentence_vectors": False}}))
    assert not (tmp_path / "plain" / STORE_FILE).exists() and "sentences" not in report.seconds


def test_chunk_rows_give_a_chunks_statement_vectors_in_order(tmp_path: Path) -> None:
    emb = HashEmbedder(dimension=16)
    store = SentenceStore(tmp_path, emb.model_id)
    full, empty, absent = (k.encode() * 8 for k in ("full", "nope", "gone"))  # 32-byte keys
    assert store.add([], emb.embed_documents, chunks={full: ["b c", "a b"], empty: []}) == 2
    assert store.chunk_statements([full, empty, absent]) == {full: [_key("b c"), _key("a b")], empty: []}
    wrapped = SentenceVectors(emb, store)

    class _Doc:  # what chunk_key reads of a pair; SentenceVectors.chunk_vectors keys by it
        def __init__(self, content_hash: str) -> None:
            self.content_hash, self.sections = content_hash, []

    # the rows above were keyed by hand: key real pairs the way the reranker does
    docs = {name: _Doc(name) for name in ("with", "without", "unknown")}
    chunk = type("C", (), {"char_start": 0, "char_end": 9})()
    store.add(
        [],
        emb.embed_documents,
        chunks={chunk_key(docs["with"], 0, 9): ["b c", "a b"], chunk_key(docs["without"], 0, 9): []},
    )
    got = wrapped.chunk_vectors([(chunk, docs["with"]), (chunk, docs["without"]), (chunk, docs["unknown"])])
    assert np.array_equal(got[0], emb.embed_documents(["b c", "a b"]))
    assert got[1].shape == (0, 16) and got[2] is None
    assert wrapped.stats == {"stored": 2, "live": 0}
    # another model's writer starts again: no chunk row may point at vectors that are gone
    SentenceStore(tmp_path, "other").add(["x y"], HashEmbedder(dimension=16).embed_documents)
    assert SentenceStore(tmp_path, "other").chunk_statements([full]) == {}


def test_chunk_key_follows_what_a_chunks_statements_depend_on() -> None:
    from rag_oracle.index import sentences
    from rag_oracle.types import Document, Section

    doc = Document(id="d", title="T", text="One. Two.", content_hash="h1")
    key = chunk_key(doc, 0, 4)
    assert key == chunk_key(doc.model_copy(), 0, 4)
    assert key != chunk_key(doc, 0, 9)
    assert key != chunk_key(doc.model_copy(update={"content_hash": "h2"}), 0, 4)  # a revised text
    assert key != chunk_key(doc.model_copy(update={"sections": [Section(title="A", start=0, end=4)]}), 0, 4)
    old = sentences.CHUNK_RULES
    try:
        sentences.CHUNK_RULES = old + "-next"  # the statement rules changed: older rows are not found
        assert chunk_key(doc, 0, 4) != key
    finally:
        sentences.CHUNK_RULES = old


def test_a_store_made_before_chunk_rows_reads_them_as_absent(tmp_path: Path) -> None:
    emb = HashEmbedder(dimension=8)
    con = sqlite3.connect(tmp_path / STORE_FILE)
    con.execute("CREATE TABLE vectors (key BLOB PRIMARY KEY, vector BLOB NOT NULL)")
    con.execute("CREATE TABLE meta (model_id TEXT NOT NULL)")
    con.execute("INSERT INTO meta VALUES (?)", (emb.model_id,))
    con.commit()
    con.close()
    store = SentenceStore(tmp_path, emb.model_id)
    assert store.chunk_statements([b"k" * 32]) == {}
    assert store.add(["a b"], emb.embed_documents, chunks={b"k" * 32: ["a b"]}) == 1  # the next ingest adds the table
    assert store.chunk_statements([b"k" * 32]) == {b"k" * 32: [_key("a b")]}
