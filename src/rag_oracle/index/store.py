"""An opened index: documents, chunks, the FAISS and BM25 indexes, and the manifest.

An index directory holds generations and a `CURRENT` pointer (index/atomic.py); one generation,
`indexes/<name>/gNNNNNN/`, holds::

    manifest.json      written last; without it the directory is never opened
    store.sqlite       documents and chunks (SQLite, index/docstore.py); chunk row i is FAISS
                       vector i and BM25 document i
    sources.jsonl      files ingested (path, sha256, documents), so unchanged files are skipped
    aliases.jsonl      ids of duplicate documents -> the id under which their text is stored
    dense.faiss        FAISS index (native format)
    bm25/              bm25s index (.npy arrays + JSON, memory-mapped)

Generations of schema 1 hold documents.jsonl and chunks.jsonl (one record a line) instead of
store.sqlite; they are still read (into memory), and the next commit writes schema 2.

`Index` reads this layout; `IndexWriter` (index/writer.py) is the only code that writes it.
Opening reads the manifest, FAISS and BM25, not the documents or chunks: `index.documents`
(a Mapping) and `index.chunks` (a Sequence) read rows when asked, and may be used from several
threads.

Example::

    index = Index.open("indexes/sample", embedder=make_embedder(settings.embed))
    index.chunks[0].text
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rag_oracle.errors import (
    EmbedderMismatchError,
    IncompleteIndexError,
    IndexCorruptError,
    RagOracleError,
    SchemaVersionError,
)
from rag_oracle.index import dense, lexical
from rag_oracle.index.atomic import snapshot_dir
from rag_oracle.index.docstore import (
    CHUNKS_JSONL,
    DOCUMENTS_JSONL,
    STORE,
    JsonlStore,
    SqliteStore,
    damaged,
    document_info,
    read_records,
)
from rag_oracle.index.manifest import Manifest, read_manifest, sha256_file
from rag_oracle.types import Chunk, Document, DocumentInfo

DOCUMENTS = DOCUMENTS_JSONL  # schema 1 only
CHUNKS = CHUNKS_JSONL  # schema 1 only
SOURCES = "sources.jsonl"
ALIASES = "aliases.jsonl"

__all__ = ["ALIASES", "SOURCES", "STORE", "Index", "check_embedder", "check_files", "document_info", "verify_index"]

OPEN_ATTEMPTS = 5
# Files up to this size are re-hashed against the manifest on every open; larger ones are checked
# by size only there (index verify hashes everything).
HASH_ON_OPEN_BYTES = 4 * 1024 * 1024


def check_files(snapshot: Path, manifest: Manifest, *, hash_below: int | None = None) -> list[str]:
    """Problems with the files the manifest lists: missing, wrong size, or (for files smaller than
    `hash_below` bytes; None: every file) a checksum that differs. Empty list: all as written."""
    problems = []
    for name, entry in manifest.files.items():
        file = snapshot / name
        try:
            size = file.stat().st_size
        except OSError:
            problems.append(f"{name} is missing")
            continue
        if size != entry.bytes:
            problems.append(f"{name} has {size} bytes, the manifest says {entry.bytes}")
        elif (hash_below is None or size < hash_below) and sha256_file(file) != entry.sha256:
            problems.append(f"{name}: checksum differs from the manifest")
    return problems


@dataclass(eq=False)
class Index:
    """One generation of an index, opened for reading (`Index.open`).

    `documents` (doc id -> Document, in document order) and `chunks` (chunk i is FAISS vector i
    and BM25 row i) are a Mapping and a Sequence that read store.sqlite on demand; `info`,
    `position`, `chunk_doc_positions` and `document_mask` answer without reading documents or
    chunks whole. Safe to share between threads.
    """

    path: Path
    manifest: Manifest
    store: SqliteStore | JsonlStore
    sources: list[dict]
    aliases: dict[str, str]
    faiss_index: object
    bm25: object
    snapshot: Path | None = None  # the generation directory read (index/atomic.py); `path` is the index

    def __post_init__(self) -> None:
        if self.snapshot is None:
            self.snapshot = self.path

    @classmethod
    def open(cls, path: str | Path, embedder=None, *, mmap: bool = True) -> Index:
        """Open a complete index. With `embedder`, refuse one built by a different model.

        With `mmap` (the default) FAISS's vectors are memory-mapped rather than read (`dense.read`):
        the open costs milliseconds instead of a read of every vector, and `faiss_index` is read-only.

        It reads one generation (index/atomic.py) and never writes: when a writer publishes a new
        generation and prunes this one mid-read, it opens the new one instead (a few attempts).
        Damaged files raise IndexCorruptError naming the file; `index verify` says more.
        """
        path = Path(path)
        for attempt in range(OPEN_ATTEMPTS):
            snapshot = snapshot_dir(path)
            try:
                return cls._open_snapshot(path, snapshot, embedder, mmap)
            except (IndexCorruptError, IncompleteIndexError):
                if attempt + 1 < OPEN_ATTEMPTS and snapshot_dir(path) != snapshot:
                    continue  # a writer published meanwhile: read the version it published
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    @classmethod
    def _open_snapshot(cls, path: Path, snapshot: Path, embedder, mmap: bool, *, check: bool = True) -> Index:
        if snapshot != path and not snapshot.is_dir():
            raise IndexCorruptError(
                f"{path}: its current generation {snapshot.name} is missing; the index is damaged. "
                f"Run 'rag-oracle index verify {path}', then rebuild it."
            )
        manifest = read_manifest(snapshot)
        if embedder is not None:
            check_embedder(manifest, embedder, path)
        for problem in check_files(snapshot, manifest, hash_below=HASH_ON_OPEN_BYTES) if check else ():
            raise IndexCorruptError(
                f"{path}: {problem}; the index is damaged. Run 'rag-oracle index verify {path}', then rebuild it."
            )
        store = SqliteStore(snapshot, path) if manifest.schema_version >= 2 else JsonlStore(snapshot, path)
        try:
            return cls._open_rest(path, snapshot, manifest, store, mmap)
        except BaseException:
            store.close()
            raise

    @classmethod
    def _open_rest(cls, path: Path, snapshot: Path, manifest: Manifest, store, mmap: bool) -> Index:
        sources = read_records(snapshot / SOURCES, None, path)
        aliases = {}
        if (snapshot / ALIASES).is_file():
            for record in read_records(snapshot / ALIASES, None, path):
                try:
                    aliases[record["alias"]] = record["canonical"]
                except (KeyError, TypeError):
                    raise damaged(path, ALIASES, "a record without alias and canonical") from None
        try:
            faiss_index = dense.read(snapshot, mmap=mmap)
        except (OSError, RuntimeError) as exc:
            raise damaged(path, dense.FAISS_FILE, str(exc).splitlines()[-1] if str(exc) else "unreadable") from None
        try:
            bm25 = lexical.load(snapshot)
        except (OSError, ValueError, KeyError, TypeError, EOFError) as exc:
            raise damaged(path, lexical.BM25_DIR, f"{type(exc).__name__}: {exc}") from None
        n_chunks = len(store.chunks)
        if isinstance(store, SqliteStore):  # rows lost at the end of the table (counts are from the data)
            for what, held in (("chunks", n_chunks), ("documents", len(store.documents))):
                if manifest.counts.get(what) != held:
                    raise damaged(path, STORE, f"it holds {held} {what}, the manifest says {manifest.counts.get(what)}")
        if faiss_index.ntotal != n_chunks:
            raise IndexCorruptError(
                f"{path}: FAISS holds {faiss_index.ntotal} vectors but there are {n_chunks} chunks; rebuild the index"
            )
        return cls(path, manifest, store, sources, aliases, faiss_index, bm25, snapshot=snapshot)

    @property
    def documents(self) -> Mapping[str, Document]:
        """doc id -> Document, in document order (read on demand; recent ones cached)."""
        return self.store.documents

    @property
    def chunks(self) -> Sequence[Chunk]:
        """Every chunk; chunk i is FAISS vector i and BM25 row i (read on demand; recent ones cached)."""
        return self.store.chunks

    def close(self) -> None:
        """Close store.sqlite's connection (also done when the Index is garbage-collected)."""
        self.store.close()

    def canonical_id(self, doc_id: str) -> str:
        """The id a document is stored under (resolves ids of duplicates that were stored once)."""
        return self.aliases.get(doc_id, doc_id)

    def info(self, doc_id: str) -> DocumentInfo:
        """What a hit shows of a document, without reading its text; KeyError for an unknown id."""
        return self.store.info(doc_id)

    def chunks_and_infos(self, positions: Iterable[int]) -> list[tuple[Chunk, DocumentInfo]]:
        """(chunk, `info` of its document) at each position, in that order, read together: a
        search's hits cost one query, not two a hit (IndexError for a position out of range)."""
        return self.store.chunks_and_infos(positions)

    def document_frequency(self, term: str) -> int:
        """How many chunks contain `term` (an analysed token): the `TermStatistics` protocol."""
        return lexical.document_frequency(self.bm25, term)

    def position(self, chunk_id: str) -> int:
        """Where a chunk is stored (its FAISS vector and BM25 row); KeyError for an unknown id."""
        return self.store.position(chunk_id)

    def vectors(self, chunk_ids: list[str]) -> np.ndarray | None:
        """The stored embeddings of these chunks, (n, dimension) float32; None when the FAISS index
        type keeps no reconstructible vectors (PQ and other lossy codes: then embed again)."""
        if not chunk_ids:
            return None
        positions = np.array([self.position(c) for c in chunk_ids], dtype=np.int64)
        return dense.reconstruct(self.faiss_index, positions)

    @property
    def chunk_doc_positions(self) -> np.ndarray:
        """For each chunk, the position of its document in `documents` (for filter masks); read-only."""
        return self.store.chunk_doc_positions()

    def document_mask(self, filters) -> np.ndarray:
        """For each document (in `documents` order), whether `filters.accepts` it; documents are not read."""
        return self.store.document_mask(filters)

    def content_hashes(self) -> dict[str, str]:
        """doc id -> content hash of every document, in document order, without reading their texts."""
        return self.store.content_hashes()

    def document_chunks(self, doc_ids: Iterable[str]) -> Iterator[tuple[str, list[Chunk]]]:
        """(doc id, its chunks by ordinal) of each of these documents the index holds, in document
        order, one document's chunks read at a time (unknown ids are left out)."""
        doc_of = self.chunk_doc_positions
        positions = np.flatnonzero(np.isin(doc_of, self.store.document_positions(doc_ids)))
        positions = positions[np.argsort(doc_of[positions], kind="stable")]
        for group in np.split(positions, np.flatnonzero(np.diff(doc_of[positions])) + 1):
            if len(group):
                chunks = sorted((self.chunks[int(p)] for p in group), key=lambda c: c.ordinal)
                yield chunks[0].doc_id, chunks

    def count_chunks(self, doc_ids: Iterable[str]) -> int:
        """How many chunks these documents have (ids not in the index count 0)."""
        return self.store.count_chunks(doc_ids)

    def verify(self) -> list[str]:
        """Problems found by re-hashing every file against the manifest and checking that counts and
        chunk offsets agree (empty list: all good)."""
        return [*check_files(self.snapshot, self.manifest), *self._content_problems()]

    def _content_problems(self) -> list[str]:
        """Counts that disagree with the manifest, and chunks that do not match their documents."""
        try:
            return self.store.problems(self.manifest.counts)
        except RagOracleError as exc:  # damage met while reading rows
            return [str(exc)]


def verify_index(path: str | Path) -> list[str]:
    """Everything wrong with the index at `path`, as sentences; never raises for damage (only
    IndexNotFoundError when there is nothing there). Every file is re-hashed, then parsed."""
    path = Path(path)
    try:
        manifest = read_manifest(path)
    except (IncompleteIndexError, IndexCorruptError, SchemaVersionError) as exc:
        return [str(exc)]
    snapshot = snapshot_dir(path)
    problems = check_files(snapshot, manifest)  # every file hashed once; opening below does not hash again
    try:
        index = Index._open_snapshot(path, snapshot, None, False, check=False)
    except RagOracleError as exc:
        return [*problems, str(exc)]
    try:
        return [*problems, *index._content_problems()]
    finally:
        index.close()


def check_embedder(manifest: Manifest, embedder, path: Path) -> None:
    built_with = manifest.embedder.get("id")
    if built_with != embedder.model_id:
        raise EmbedderMismatchError(
            f"{path} was built with embedder '{built_with}' but '{embedder.model_id}' was asked for; "
            f"use the same embed.model (--embed-model) or build a new index"
        )
