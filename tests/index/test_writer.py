"""IndexWriter: append, replace and remove documents; the FAISS/chunk alignment and atomicity survive each."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rag_oracle.embed.hashing import HashEmbedder
from rag_oracle.errors import (
    ConfigError,
    DocumentNotFoundError,
    EmbedderMismatchError,
    IncompleteIndexError,
    IndexSettingsMismatchError,
    IndexWriteError,
)
from rag_oracle.index import dense, lexical
from rag_oracle.index import writer as writer_module
from rag_oracle.index.atomic import snapshot_dir
from rag_oracle.index.store import Index
from rag_oracle.index.writer import IndexWriter
from rag_oracle.ingest.base import make_document
from rag_oracle.ingest.chunking import chunk_document
from rag_oracle.text.passage import embedding_text
from rag_oracle.types import DocumentMetadata

WARFARIN = "Stop warfarin five days before surgery. Check the INR the day before surgery."
AMOXICILLIN = "Amoxicillin 500 mg three times daily treats bacterial sinusitis in adults."
APIXABAN = "Hold apixaban for two days before surgery with a high bleeding risk. Restart it after haemostasis."
SERTRALINE = "Sertraline is started at 50 mg daily for depression and increased in 50 mg steps."


class CountingEmbedder(HashEmbedder):
    def __init__(self) -> None:
        super().__init__(dimension=512)
        self.embedded: list[str] = []

    def embed_documents(self, texts):
        self.embedded.extend(texts)
        return super().embed_documents(texts)


@pytest.fixture
def embedder() -> CountingEmbedder:
    return CountingEmbedder()


def doc(doc_id: str, text: str, title: str = "Perioperative notes"):
    return make_document(text=text, title=title, metadata=DocumentMetadata(format="text"), doc_id=doc_id)


def prepared(embedder, settings, *docs):
    """(documents, chunks, vectors) as ingest hands them to the writer."""
    chunks = [c for d in docs for c in chunk_document(d, settings.chunk, embedder.count_tokens)]
    titles = {d.id: d.title for d in docs}
    vectors = HashEmbedder(dimension=embedder.dimension).embed_documents(
        [embedding_text(titles[c.doc_id], c.text) for c in chunks]
    )
    return list(docs), chunks, vectors


def build(path: Path, settings, embedder, *docs) -> Index:
    writer = IndexWriter.open(path, settings, embedder)
    writer.add(*prepared(embedder, settings, *docs))
    writer.commit(command="test build")
    return Index.open(path, embedder)


def dense_top(index: Index, embedder, query: str) -> str:
    positions, _ = dense.search(index.faiss_index, embedder.embed_query(query), 1)
    return index.chunks[int(positions[0])].doc_id


def bm25_doc_ids(index: Index, query: str) -> set[str]:
    positions, _ = lexical.search(index.bm25, query, 10)
    return {index.chunks[int(p)].doc_id for p in positions}


def assert_consistent(index: Index) -> None:
    assert index.faiss_index.ntotal == len(index.chunks) == index.manifest.counts["chunks"]
    assert index.manifest.faiss["ntotal"] == len(index.chunks)
    assert index.verify() == []
    # Vector i is chunk i: each stored vector is the embedding of its own chunk.
    titles = {d.id: d.title for d in index.documents.values()}
    expected = HashEmbedder(dimension=512).embed_documents(
        [embedding_text(titles[c.doc_id], c.text) for c in index.chunks]
    )
    stored = index.vectors([c.id for c in index.chunks])
    if stored is not None:
        np.testing.assert_allclose(stored, expected, atol=1e-5)


def test_append_keeps_earlier_documents(tmp_path: Path, settings, embedder) -> None:
    path = tmp_path / "idx"
    first = build(path, settings, embedder, doc("warfarin", WARFARIN))
    writer = IndexWriter.open(path, settings, embedder)
    writer.add(*prepared(embedder, settings, doc("amox", AMOXICILLIN, "Sinusitis")))
    manifest = writer.commit(command="second")
    index = Index.open(path, embedder)
    assert list(index.documents) == ["warfarin", "amox"]
    assert index.chunks[: len(first.chunks)] == first.chunks  # appended, nothing moved
    assert manifest.build_commands == ["test build", "second"] and manifest.created_at == first.manifest.created_at
    assert dense_top(index, embedder, "amoxicillin sinusitis") == "amox"
    assert_consistent(index)


@pytest.mark.parametrize("spec", ["Flat", "HNSW16"])
def test_replace_drops_the_old_chunks_and_indexes_the_new(tmp_path: Path, settings, embedder, spec: str) -> None:
    settings = settings.with_overrides({"index": {"faiss": spec}})
    path = tmp_path / "idx"
    build(path, settings, embedder, doc("anticoag", WARFARIN), doc("amox", AMOXICILLIN, "Sinusitis"))
    embedder.embedded.clear()

    writer = IndexWriter.open(path, settings, embedder)
    writer.replace(*prepared(embedder, settings, doc("anticoag", APIXABAN)))
    writer.commit()
    index = Index.open(path, embedder)

    assert sorted(index.documents) == ["amox", "anticoag"]
    assert index.documents["anticoag"].text == APIXABAN
    texts = " ".join(c.text for c in index.chunks)
    assert "warfarin" not in texts and "apixaban" in texts
    assert [c.id for c in index.chunks if c.doc_id == "anticoag"] == ["anticoag#0"]  # old chunk ids reused, once
    assert "anticoag" in bm25_doc_ids(index, "apixaban bleeding")
    assert not bm25_doc_ids(index, "warfarin INR")
    assert dense_top(index, embedder, "hold apixaban before surgery bleeding risk") == "anticoag"
    assert dense_top(index, embedder, "amoxicillin sinusitis") == "amox"
    assert embedder.embedded == [], "kept chunks are rebuilt from their stored vectors, not embedded again"
    assert_consistent(index)


def test_replace_with_lossy_codes_embeds_the_kept_chunks_again(tmp_path: Path, settings, embedder) -> None:
    settings = settings.with_overrides({"index": {"faiss": "SQ8"}})
    path = tmp_path / "idx"
    before = build(path, settings, embedder, doc("anticoag", WARFARIN), doc("amox", AMOXICILLIN, "Sinusitis"))
    kept = [c.text for c in before.chunks if c.doc_id == "amox"]
    embedder.embedded.clear()

    writer = IndexWriter.open(path, settings, embedder)
    writer.replace(*prepared(embedder, settings, doc("anticoag", APIXABAN)))
    writer.commit()
    index = Index.open(path, embedder)

    assert [t.split("\n", 1)[1] for t in embedder.embedded] == kept
    assert index.faiss_index.ntotal == len(index.chunks) and index.verify() == []
    assert dense_top(index, embedder, "amoxicillin sinusitis") == "amox"
    assert dense_top(index, embedder, "hold apixaban before surgery bleeding risk") == "anticoag"


def test_remove_a_document(tmp_path: Path, settings, embedder) -> None:
    path = tmp_path / "idx"
    build(path, settings, embedder, doc("warfarin", WARFARIN), doc("amox", AMOXICILLIN, "Sinusitis"))
    writer = IndexWriter.open(path, settings, embedder)
    writer.add_alias("warfarin-copy", "warfarin")
    writer.add_alias("amox-copy", "amox")
    writer.commit()

    writer = IndexWriter.open(path, settings, embedder)
    writer.remove(["warfarin"])
    manifest = writer.commit()
    index = Index.open(path, embedder)
    assert list(index.documents) == ["amox"]
    assert {c.doc_id for c in index.chunks} == {"amox"}
    assert index.aliases == {"amox-copy": "amox"}, "an alias of a removed document is removed with it"
    assert manifest.counts == {
        "documents": 1,
        "chunks": len(index.chunks),
        "tokens": sum(c.token_count for c in index.chunks),
        "source_files": 0,
        "aliases": 1,
    }
    assert not bm25_doc_ids(index, "warfarin")
    assert_consistent(index)


def test_add_then_remove_before_commit_writes_nothing_of_it(tmp_path: Path, settings, embedder) -> None:
    path = tmp_path / "idx"
    build(path, settings, embedder, doc("warfarin", WARFARIN))
    writer = IndexWriter.open(path, settings, embedder)
    writer.add(*prepared(embedder, settings, doc("amox", AMOXICILLIN), doc("ssri", SERTRALINE)))
    writer.remove(["amox"])
    writer.commit()
    index = Index.open(path, embedder)
    assert list(index.documents) == ["warfarin", "ssri"]
    assert_consistent(index)


def test_an_error_inside_the_write_keeps_the_old_index(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, settings, embedder
) -> None:
    path = tmp_path / "idx"
    build(path, settings, embedder, doc("warfarin", WARFARIN), doc("amox", AMOXICILLIN))
    before = {p.relative_to(path): p.read_bytes() for p in path.rglob("*") if p.is_file()}

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(writer_module, "write_manifest", boom)  # the very last step
    writer = IndexWriter.open(path, settings, embedder)
    writer.replace(*prepared(embedder, settings, doc("warfarin", APIXABAN)))
    writer.remove(["amox"])
    with pytest.raises(IndexWriteError, match="disk full"):
        writer.commit()

    after = {p.relative_to(path): p.read_bytes() for p in path.rglob("*") if p.is_file()}
    assert after == before
    assert not list(path.glob(".tmp-*")), "the temporary directory must be cleaned up"
    index = Index.open(path, embedder)
    assert index.documents["warfarin"].text == WARFARIN and "amox" in index.documents
    assert_consistent(index)
    # The failed changes are discarded, and the writer reads the index again before the next change.
    assert not writer.changed
    assert writer.index is not None and writer.index.faiss_index.ntotal == len(index.chunks)


def test_bad_settings_fail_before_anything_is_written(tmp_path: Path, settings, embedder) -> None:
    path = tmp_path / "idx"
    writer = IndexWriter.open(path, settings.with_overrides({"index": {"faiss": "IVF4096,PQ8"}}), embedder)
    writer.add(*prepared(embedder, settings, doc("warfarin", WARFARIN)))
    with pytest.raises(ConfigError, match="FAISS spec"):
        writer.commit()
    assert not path.exists()


def test_open_refuses_what_it_must_not_write_into(tmp_path: Path, settings, embedder) -> None:
    stranger = tmp_path / "thesis"
    stranger.mkdir()
    (stranger / "chapter1.txt").write_text("precious")
    with pytest.raises(IncompleteIndexError, match="Refusing"):
        IndexWriter.open(stranger, settings, embedder)
    assert (stranger / "chapter1.txt").read_text() == "precious"

    path = tmp_path / "idx"
    build(path, settings, embedder, doc("warfarin", WARFARIN))
    with pytest.raises(EmbedderMismatchError, match="hash:v1:dim=64"):
        IndexWriter.open(path, settings, HashEmbedder(dimension=64))
    with pytest.raises(IndexSettingsMismatchError, match="chunking"):
        IndexWriter.open(path, settings.with_overrides({"chunk": {"max_tokens": 80}}), embedder)


def test_misuse_is_refused(tmp_path: Path, settings, embedder) -> None:
    path = tmp_path / "idx"
    build(path, settings, embedder, doc("warfarin", WARFARIN))
    writer = IndexWriter.open(path, settings, embedder)
    with pytest.raises(ValueError, match="use replace"):
        writer.add(*prepared(embedder, settings, doc("warfarin", APIXABAN)))
    with pytest.raises(DocumentNotFoundError, match="nope"):
        writer.replace(*prepared(embedder, settings, doc("nope", APIXABAN)))
    with pytest.raises(DocumentNotFoundError, match="nope"):
        writer.remove(["nope"])
    documents, chunks, vectors = prepared(embedder, settings, doc("amox", AMOXICILLIN))
    with pytest.raises(ValueError, match="vectors"):
        writer.add(documents, chunks, vectors[:, :10])
    writer.add_alias("copy", "ghost")
    with pytest.raises(ValueError, match="copy"):
        writer.commit()
    writer = IndexWriter.open(path, settings, embedder)
    writer.remove(["warfarin"])
    with pytest.raises(ValueError, match="at least one chunk"):
        writer.commit()
    assert list(Index.open(path).documents) == ["warfarin"]


def test_nothing_staged_writes_nothing(tmp_path: Path, settings, embedder) -> None:
    path = tmp_path / "idx"
    build(path, settings, embedder, doc("warfarin", WARFARIN))
    before = (snapshot_dir(path) / "manifest.json").read_text()
    assert IndexWriter.open(path, settings, embedder).commit() is not None
    assert (snapshot_dir(path) / "manifest.json").read_text() == before


def test_a_source_file_record_is_superseded_by_its_next_version(tmp_path: Path, settings, embedder) -> None:
    path = tmp_path / "idx"
    writer = IndexWriter.open(path, settings, embedder)
    writer.add(*prepared(embedder, settings, doc("warfarin", WARFARIN)))
    writer.add_source("notes.txt", "a" * 64, documents=1)
    writer.add_source("other.txt", "b" * 64, documents=0)
    writer.commit()
    assert writer.file_digests == {"a" * 64, "b" * 64}
    writer.replace(*prepared(embedder, settings, doc("warfarin", APIXABAN)))
    writer.add_source("notes.txt", "c" * 64, documents=1)
    writer.commit()
    assert writer.file_digests == {"b" * 64, "c" * 64}
    assert Index.open(path).manifest.counts["source_files"] == 2


# --- memory at scale: what is staged is spilled, vectors reach FAISS in batches ----------------------


def test_staging_keeps_nothing_of_the_callers_objects(tmp_path: Path, settings, embedder) -> None:
    # The caller can free its documents, chunks and vectors once they are staged (gigabytes at 1M chunks).
    import gc
    import weakref

    writer = IndexWriter.open(tmp_path / "idx", settings, embedder)
    documents, chunks, vectors = prepared(embedder, settings, doc("warfarin", WARFARIN), doc("amox", AMOXICILLIN))
    alive = weakref.ref(vectors)
    writer.add(documents, chunks, vectors)
    del documents, chunks, vectors
    gc.collect()
    assert alive() is None, "the writer must not hold the caller's vectors (or a view of them)"
    writer.commit()
    assert_consistent(Index.open(tmp_path / "idx", embedder))


def test_staging_leaves_no_file_anywhere(tmp_path: Path, settings, embedder) -> None:
    path = tmp_path / "idx"
    before = sorted(p.name for p in tmp_path.iterdir())
    writer = IndexWriter.open(path, settings, embedder)
    writer.add(*prepared(embedder, settings, doc("warfarin", WARFARIN)))
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # staged rows live in anonymous files
    writer.commit()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*before, "idx"])
    assert not [p for p in path.rglob("*") if "rag-oracle" in p.name]


def test_a_full_disk_while_staging_changes_nothing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, settings, embedder
) -> None:
    import errno

    path = tmp_path / "idx"
    build(path, settings, embedder, doc("warfarin", WARFARIN))
    before = {p.relative_to(path): p.read_bytes() for p in path.rglob("*") if p.is_file()}

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(writer_module.tempfile, "TemporaryFile", full)
    writer = IndexWriter.open(path, settings, embedder)
    with pytest.raises(IndexWriteError, match=r"No space left on device.*nothing was changed"):
        writer.add(*prepared(embedder, settings, doc("amox", AMOXICILLIN)))
    assert {p.relative_to(path): p.read_bytes() for p in path.rglob("*") if p.is_file()} == before


@pytest.mark.parametrize("spec", ["Flat", "IVF2,Flat"])
def test_vectors_added_in_batches_build_the_same_index(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, settings, embedder, spec: str
) -> None:
    # Flat appends codes, so batches give the very same file; an index that must be trained first
    # (IVF) gets all vectors at once, as before.
    settings = settings.with_overrides({"index": {"faiss": spec}})
    docs = [doc(f"d{i}", f"{WARFARIN} Note {i}.", f"Title {i}") for i in range(9)]
    build(tmp_path / "one", settings, embedder, *docs)
    monkeypatch.setattr(writer_module, "ADD_BATCH", 2)
    build(tmp_path / "batched", settings, embedder, *docs)
    one, batched = (snapshot_dir(tmp_path / name) / dense.FAISS_FILE for name in ("one", "batched"))
    assert one.read_bytes() == batched.read_bytes()


def test_replace_then_append_in_batches_keeps_vectors_aligned(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, settings, embedder
) -> None:
    # The kept vectors are reconstructed a batch at a time, then the staged ones follow; a document
    # staged twice before a commit leaves a gap in the spill that must be skipped.
    monkeypatch.setattr(writer_module, "ADD_BATCH", 2)
    settings = settings.with_overrides({"index": {"faiss": "HNSW16"}})
    path = tmp_path / "idx"
    build(path, settings, embedder, *[doc(f"d{i}", f"{AMOXICILLIN} Case {i}.", f"Sinusitis {i}") for i in range(5)])
    writer = IndexWriter.open(path, settings, embedder)
    writer.replace(*prepared(embedder, settings, doc("d1", WARFARIN)))
    writer.add(*prepared(embedder, settings, doc("ssri", SERTRALINE), doc("apix", APIXABAN)))
    writer.replace(*prepared(embedder, settings, doc("d1", f"{WARFARIN} Second version.")))
    writer.remove(["ssri"])
    writer.commit()
    index = Index.open(path, embedder)
    assert list(index.documents) == ["d0", "d2", "d3", "d4", "apix", "d1"]
    assert index.documents["d1"].text.endswith("Second version.")
    assert_consistent(index)


def test_the_bm25_texts_file_is_a_sequence(tmp_path: Path) -> None:
    texts = writer_module._TextFile(tmp_path)
    words = ["warfarin\nbefore surgery", "", "naïve café ±5 mg", "x" * 70_000]
    for w in words[:2]:
        texts.append(w)
    assert list(texts) == words[:2]
    for w in words[2:]:
        texts.append(w)  # appending after a read still appends
    assert len(texts) == 4 and list(texts) == words and list(texts) == words
    assert texts[2] == words[2] and texts[-1] == words[-1] and texts[1:3] == words[1:3]
    it = iter(texts)
    assert next(it) == words[0] and texts[3] == words[3] and list(it) == words[1:]
    texts.close()
    assert list(tmp_path.iterdir()) == []


def _meshed(doc_id: str, text: str, title: str, mesh: list[str], keywords: list[str] | None = None):
    extra = {"keywords": keywords} if keywords else {}
    meta = DocumentMetadata(format="text", mesh_terms=mesh, extra=extra)
    return make_document(text=text, title=title, metadata=meta, doc_id=doc_id)


def test_bm25_indexes_mesh_and_keywords_when_asked_and_keeps_them_on_append(tmp_path: Path, settings, embedder) -> None:
    first = _meshed("a", WARFARIN, "Perioperative notes", ["Anticoagulants"], ["vitamin K antagonist"])
    second = doc("b", AMOXICILLIN)
    plain = build(tmp_path / "plain", settings, embedder, first)
    assert bm25_doc_ids(plain, "anticoagulants antagonist") == set()  # only the headings hold the words
    meshed = settings.with_overrides({"index": {"bm25_mesh": True}})
    assert meshed.index_fingerprint() != settings.index_fingerprint()
    index = build(tmp_path / "meshed", meshed, embedder, first)
    assert bm25_doc_ids(index, "anticoagulants") == {"a"} and bm25_doc_ids(index, "antagonist") == {"a"}
    assert index.manifest.bm25["mesh"] is True and plain.manifest.bm25 == lexical.PARAMS
    # a later write re-derives the base's BM25 texts from its stored documents: the headings stay
    writer = IndexWriter.open(tmp_path / "meshed", meshed, embedder)
    writer.add(*prepared(embedder, meshed, second))
    writer.commit(command="append")
    again = Index.open(tmp_path / "meshed", embedder)
    assert bm25_doc_ids(again, "anticoagulants") == {"a"} and bm25_doc_ids(again, "amoxicillin") == {"b"}
    assert_consistent(again)


def test_bm25_title_weight_repeats_the_title(tmp_path: Path, settings, embedder) -> None:
    docs = (doc("w", WARFARIN, title="Amoxicillin dosing"), doc("x", AMOXICILLIN, title="Antibiotic notes"))

    def score(weight: int, query: str) -> dict[str, float]:
        local = settings.with_overrides({"index": {"bm25_title_weight": weight}})
        index = build(tmp_path / f"t{weight}", local, embedder, *docs)
        positions, scores = lexical.search(index.bm25, query, 10)
        return {index.chunks[int(p)].doc_id: float(s) for p, s in zip(positions, scores, strict=True)}

    once, twice, never = score(1, "dosing"), score(2, "dosing"), score(0, "dosing")
    assert set(once) == set(twice) == {"w"} and never == {}  # the word is only in the title
    assert twice["w"] > once["w"]
    assert settings.with_overrides({"index": {"bm25_title_weight": 1}}).index_fingerprint() == (
        settings.index_fingerprint()
    )
    # adding with another weight is refused, naming it, and the index stays as it was
    other = settings.with_overrides({"index": {"bm25_title_weight": 3}})
    with pytest.raises(IndexSettingsMismatchError, match="bm25_title_weight 2, bm25_mesh false vs 3, false"):
        IndexWriter.open(tmp_path / "t2", other, embedder)
    assert_consistent(Index.open(tmp_path / "t2", embedder))
