"""Sentence vectors stored at ingest: found by exact text, the model's own, and answers unchanged."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np

from rag_oracle.embed import HashEmbedder
from rag_oracle.index.sentences import STORE_FILE, SentenceStore, SentenceVectors


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
