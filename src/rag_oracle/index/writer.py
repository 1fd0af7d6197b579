"""Write an index directory: the twin of `Index` (index/store.py), which reads it.

An `IndexWriter` stages changes to one index directory (documents added, replaced or removed,
source files ingested, aliases of duplicates) and `commit()` writes the next version: built in
a temporary directory, manifest written last, swapped in atomically (index/atomic.py). Until
`commit()` returns, readers see the previous version; if it raises, they keep seeing it.

Vector i of the FAISS index is chunk row i of store.sqlite (index/docstore.py). Adding only
appends. Replacing or removing a document drops its chunks, so the FAISS index is rebuilt from
the kept chunks' stored vectors (Flat, HNSW-Flat). Index types that keep no exact vectors (PQ,
SQ, IVF) get the kept chunks embedded again with the writer's embedder, which is the one the
index was built with (checked on open) and usually hits the embedding cache; the rebuilt index
keeps the original training (centroids, codebooks).

Memory stays flat in the corpus size (a million chunks is the design point):

- `add` and `replace` serialise what they stage (the document row, each chunk's JSON and BM25
  text) and its vectors into anonymous temporary files beside the index (`_Spill`: no name in
  any directory, gone when the writer lets go of them or the process ends, however it ends), so
  the caller can free its documents, chunks and vectors as soon as they are staged.
- The next store.sqlite is written in one pass that streams the base's rows in batches and then
  the staged ones: kept documents are copied as stored (never parsed), kept chunks are parsed
  only for their BM25 text, and which chunks are kept comes from the chunk -> document positions
  alone. The BM25 texts go to a temporary file too (`_TextFile`), read back by the BM25 build.
- The FAISS index is filled in batches of ADD_BATCH vectors read from the spill (an index that
  must be trained first gets all of them at once, as training needs), written, and let go of
  before the BM25 index is built, so the two never share the memory.

What stays in memory is a few integer arrays and, per staged document, its id and where its
rows are; a base of schema 1 (JSONL) is read whole, as it always was.

Example::

    writer = IndexWriter.open("indexes/mine", settings, embedder)
    texts = [embedding_text(doc.title, c.text) for c in chunks]
    writer.add([doc], chunks, embedder.embed_documents(texts))
    writer.add_source("papers/a.pdf", sha256="…", documents=1)
    manifest = writer.commit(command="rag-oracle ingest papers/a.pdf --index indexes/mine")
"""

from __future__ import annotations

import ctypes
import gc
import hashlib
import itertools
import json
import struct
import sys
import tempfile
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from rag_oracle.embed.base import Embedder
from rag_oracle.errors import (
    ConfigError,
    DocumentNotFoundError,
    IncompleteIndexError,
    IndexSettingsMismatchError,
    IndexWriteError,
)
from rag_oracle.index import dense, lexical
from rag_oracle.index.atomic import is_fresh, publish, recover_interrupted_swap, snapshot_dir
from rag_oracle.index.docstore import STORE, StoreWriter, document_row
from rag_oracle.index.manifest import MANIFEST, Manifest, file_entries, write_manifest
from rag_oracle.index.store import ALIASES, SOURCES, Index, check_embedder
from rag_oracle.settings import Settings
from rag_oracle.text.passage import embedding_text, lexical_text
from rag_oracle.types import Chunk, Document
from rag_oracle.version import __version__

REEMBED_BATCH = 256
# Vectors handed to FAISS per `add` call (~100 MB at 384-d): the vectors are read from the spill
# file this many at a time instead of being held all at once beside FAISS's own copy.
ADD_BATCH = 65_536


def write_jsonl(path: Path, items: Iterable[object]) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        for item in items:
            fh.write(item.model_dump_json() if hasattr(item, "model_dump_json") else json.dumps(item))
            fh.write("\n")


def check_settings(index: Index, settings: Settings, embedder: Embedder) -> None:
    """Refuse to add to `index` with another embedder, chunking or FAISS spec than it was built with:
    the index would mix two kinds of chunks (EmbedderMismatchError, IndexSettingsMismatchError)."""
    check_embedder(index.manifest, embedder, index.path)
    m = index.manifest
    if m.fingerprint == settings.index_fingerprint():
        return
    diffs = []
    if m.chunking != settings.chunk.model_dump():
        diffs.append(f"chunking {m.chunking} vs {settings.chunk.model_dump()}")
    if m.faiss.get("spec") != settings.index.faiss:
        diffs.append(f"FAISS spec {m.faiss.get('spec')!r} vs {settings.index.faiss!r}")
    built = (m.bm25.get("title_weight", 1), m.bm25.get("mesh", False))
    if built != (settings.index.bm25_title_weight, settings.index.bm25_mesh):
        diffs.append(
            f"BM25 texts: bm25_title_weight {built[0]}, bm25_mesh {str(built[1]).lower()} vs "
            f"{settings.index.bm25_title_weight}, {str(settings.index.bm25_mesh).lower()}"
        )
    raise IndexSettingsMismatchError(
        f"{index.path} was built with different settings ({'; '.join(diffs) or 'embedding prompts'}); "
        "adding to it would mix two kinds of chunks. Use the index's settings or a new --index directory."
    )


def library_versions() -> dict[str, str]:
    """Versions of the libraries loaded in this process that shape an index (recorded in the manifest)."""
    versions = {"python": sys.version.split()[0], "numpy": np.__version__}
    for name in ("faiss", "bm25s", "sentence_transformers", "torch", "transformers", "pypdf"):
        module = sys.modules.get(name)
        if module is not None and hasattr(module, "__version__"):
            versions[name] = str(module.__version__)
    return versions


def release_free_memory() -> None:
    """Hand memory that Python freed back to the operating system (glibc's `malloc_trim`).

    Freed documents and chunks leave holes in the C heap that glibc keeps; the FAISS and BM25
    builds that follow allocate big arrays elsewhere, so without this the process's resident
    size is the sum of both. Elsewhere (no glibc) it does nothing."""
    gc.collect()
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError, TypeError):
        pass


class _Spill:
    """What a writer stages, in two anonymous temporary files in `directory`: records (bytes,
    appended) and float32 vectors of `dimension` (rows, appended). Nothing is visible in the
    directory and the files go when `close()`d or when the process ends; `tempfile.TemporaryFile`
    unlinks them at once (O_TMPFILE on Linux)."""

    def __init__(self, directory: Path, dimension: int) -> None:
        self.directory = directory
        self.dimension = dimension
        self.rows = 0
        self._end = 0  # bytes of records written
        self._appending = True  # both files are positioned at their ends (no read since the last write)
        self._records = None
        self._vectors = None

    def put(self, record: bytes, vectors: np.ndarray) -> tuple[int, int]:
        """Append a record and its vectors; returns (record offset, first vector row)."""
        if self._records is None:
            self.directory.mkdir(parents=True, exist_ok=True)
            self._records = tempfile.TemporaryFile(dir=self.directory, prefix=".rag-oracle-staged-")
            self._vectors = tempfile.TemporaryFile(dir=self.directory, prefix=".rag-oracle-staged-")
        if not self._appending:
            self._records.seek(0, 2)
            self._vectors.seek(0, 2)
            self._appending = True
        self._records.write(record)
        self._vectors.write(np.ascontiguousarray(vectors, dtype=np.float32).tobytes())
        offset, self._end = self._end, self._end + len(record)
        first, self.rows = self.rows, self.rows + len(vectors)
        return offset, first

    def record(self, offset: int, length: int) -> bytes:
        self._appending = False
        self._records.seek(offset)
        return self._records.read(length)

    def vector_batches(self, runs: Iterable[tuple[int, int]], batch: int) -> Iterator[np.ndarray]:
        """The vectors of rows [start, stop) for each run, in order, at most `batch` rows at a time
        (arrays that are only valid until the next one is asked for: one buffer is reused)."""
        runs = list(runs)
        rows = sum(stop - start for start, stop in runs)
        buffer = np.empty((max(1, min(batch, rows)), self.dimension), dtype=np.float32)
        for start, stop in runs:
            for lo in range(start, stop, batch):
                n = min(batch, stop - lo)
                self._appending = False
                self._vectors.seek(lo * self.dimension * 4)
                view = buffer[:n]
                if self._vectors.readinto(memoryview(view).cast("B")) != view.nbytes:
                    raise OSError(f"the staged vectors in {self.directory} were cut short")
                yield view

    def close(self) -> None:
        for fh in (self._records, self._vectors):
            if fh is not None:
                fh.close()
        self._records = self._vectors = None
        self.rows = 0


class _TextFile(Sequence[str]):
    """The BM25 text of every chunk, in position order, in an anonymous temporary file (length-
    prefixed UTF-8) instead of a list of a million strings; a Sequence, read back as it is iterated."""

    _LENGTH = struct.Struct("<I")

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self._fh = tempfile.TemporaryFile(dir=directory, prefix=".rag-oracle-texts-")
        self._offsets = array("q")
        self._end = 0
        self._appending = True

    def append(self, text: str) -> None:
        data = text.encode("utf-8")
        if not self._appending:
            self._fh.seek(0, 2)
            self._appending = True
        self._offsets.append(self._end)
        self._fh.write(self._LENGTH.pack(len(data)))
        self._fh.write(data)
        self._end += self._LENGTH.size + len(data)

    def __len__(self) -> int:
        return len(self._offsets)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        self._appending = False
        self._fh.seek(self._offsets[i])
        (n,) = self._LENGTH.unpack(self._fh.read(self._LENGTH.size))
        return self._fh.read(n).decode("utf-8")

    def __iter__(self) -> Iterator[str]:
        # One text at a time; a second iteration (or a __getitem__ between two texts) starts its own reads.
        for i in range(len(self._offsets)):
            if self._appending or self._fh.tell() != self._offsets[i]:
                self._appending = False
                self._fh.seek(self._offsets[i])
            (n,) = self._LENGTH.unpack(self._fh.read(self._LENGTH.size))
            yield self._fh.read(n).decode("utf-8")

    def close(self) -> None:
        self._fh.close()
        self._offsets = array("q")


def metadata_terms(mesh_terms: list | None, extra: dict | None) -> tuple[str, ...]:
    """A document's MeSH headings and keywords (extra["keywords"]), for BM25 ([index] bm25_mesh)."""
    keywords = (extra or {}).get("keywords")
    words = [*(mesh_terms or []), *(keywords if isinstance(keywords, list) else [])]
    return tuple(dict.fromkeys(str(w) for w in words if str(w).strip()))


@dataclass
class _Written:
    """What `_write_store` wrote: counts, the BM25 texts (one per chunk, in order), the chunks' checksum."""

    texts: _TextFile
    documents: int = 0
    chunks: int = 0
    tokens: int = 0
    chunks_sha256: str = ""


@dataclass(frozen=True, slots=True)
class _Staged:
    """Where a staged document's record (`_Spill.record`) and vectors (`vector_row`, `chunks` rows) are."""

    offset: int
    length: int
    chunks: int
    vector_row: int


class IndexWriter:
    """Stages changes to the index at `path` and writes them atomically with `commit()`.

    Open it with `IndexWriter.open`, which refuses a directory that is not an index and an
    index built with other settings. `index` is the version on disk (None for a new index);
    after `commit()` it is read again, so an `Index` obtained before the commit is stale.
    Nothing touches the disk before `commit()`; after it, the writer can stage the next change.

    Example::

        writer = IndexWriter.open(path, settings, embedder)
        writer.replace([new_version], new_chunks, new_vectors)
        writer.remove(["doc-obsolete"])
        writer.commit(command="…")
    """

    def __init__(self, path: Path, settings: Settings, embedder: Embedder, index: Index | None) -> None:
        self.path = Path(path)
        self.settings = settings
        self.embedder = embedder
        self._index = index
        self._stale = False
        self._reset()

    @classmethod
    def open(cls, path: str | Path, settings: Settings, embedder: Embedder) -> IndexWriter:
        """A writer for the index at `path`: an existing index, or a new one if `path` is absent or empty.

        Raises IncompleteIndexError for a non-empty directory without a manifest (not an index, or
        a build that never finished: it is never written into), and EmbedderMismatchError or
        IndexSettingsMismatchError when the index was built with other settings.
        """
        path = Path(path)
        return cls(path, settings, embedder, _open_existing(path, settings, embedder))

    def _reset(self) -> None:
        if getattr(self, "_spill", None) is not None:
            self._spill.close()
        # staged rows and vectors, in anonymous files beside the index (never inside it: its build
        # directory becomes a generation, and the index directory may not exist yet)
        self._spill = _Spill(self.path.absolute().parent, self.embedder.dimension)
        self._removed: set[str] = set()  # documents on disk that the next version drops (or replaces)
        self._added: dict[str, _Staged] = {}  # in staging order
        self._sources: list[dict] = []
        self._aliases: dict[str, str] = {}
        self._dropped_sources: set[str] = set()
        self._dropped_aliases: set[str] = set()

    @property
    def index(self) -> Index | None:
        """The index as it is on disk (None when there is none yet); read-only, for deduplication."""
        if self._stale:
            self._index = _open_existing(self.path, self.settings, self.embedder)
            self._stale = False
        return self._index

    @property
    def file_digests(self) -> frozenset[str]:
        """sha256 of every source file recorded in the index, so unchanged files can be skipped."""
        index = self.index
        return frozenset(s["sha256"] for s in index.sources) if index else frozenset()

    @property
    def changed(self) -> bool:
        """Whether anything is staged, i.e. whether `commit()` would write."""
        return bool(
            self._removed
            or self._added
            or self._sources
            or self._aliases
            or self._dropped_sources
            or self._dropped_aliases
        )

    def has_document(self, doc_id: str) -> bool:
        """Whether the next version holds a document with this id (on disk and kept, or staged)."""
        index = self.index
        on_disk = index is not None and doc_id in index.documents and doc_id not in self._removed
        return on_disk or doc_id in self._added

    def add(self, documents: Sequence[Document], chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        """Stage new documents with their chunks and one vector per chunk (in chunk order).

        A document id the index already holds is an error (ValueError): use `replace`.
        """
        present = [d.id for d in documents if self.has_document(d.id)]
        if present:
            raise ValueError(f"documents already in {self.path}: {present[:5]}; use replace() for a new version")
        self._stage(documents, chunks, vectors)

    def replace(self, documents: Sequence[Document], chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        """Stage new versions of documents the index holds: their old chunks and vectors are dropped,
        and so are aliases that pointed at their old text."""
        self._require_present([d.id for d in documents])
        index = self.index
        for doc in documents:
            if index is not None and doc.id in index.documents:
                self._removed.add(doc.id)
        self._stage(documents, chunks, vectors)

    def remove(self, doc_ids: Iterable[str]) -> None:
        """Stage the removal of documents, their chunks, and aliases that point at them."""
        doc_ids = list(doc_ids)
        self._require_present(doc_ids)
        index = self.index
        for doc_id in doc_ids:
            self._added.pop(doc_id, None)
            if index is not None and doc_id in index.documents:
                self._removed.add(doc_id)

    def add_source(self, path: str, sha256: str, documents: int) -> None:
        """Record an ingested source file. It supersedes an earlier record of the same path: after a
        changed file replaced its documents, the old version's digest must not count as ingested."""
        self._sources = [s for s in self._sources if s["path"] != path]
        self._sources.append({"path": path, "sha256": sha256, "documents": documents})

    def drop_sources(self, paths: Iterable[str]) -> None:
        """Forget that these source files were ingested (their documents were removed), so that
        ingesting one of them again reads it instead of skipping it as unchanged."""
        self._dropped_sources.update(paths)

    def remove_alias(self, alias: str) -> None:
        """Stage the removal of an alias (an id of a duplicate document stored under another id)."""
        index = self.index
        if alias not in self._aliases and (index is None or alias not in index.aliases):
            raise DocumentNotFoundError(f"{alias!r} is not an alias in {self.path}")
        self._aliases.pop(alias, None)
        self._dropped_aliases.add(alias)

    def add_alias(self, alias: str, canonical: str) -> None:
        """Record that document `alias` has the same text as the stored document `canonical`."""
        if alias == canonical:
            raise ValueError(f"document {alias} cannot be an alias of itself")
        self._aliases[alias] = canonical

    def commit(self, command: str = "", literature: dict | None = None) -> Manifest:
        """Write the next version of the index and swap it in; returns its manifest.

        With nothing staged on an existing index, nothing is written and its manifest is returned.
        An index holds at least one chunk: a commit that would leave none raises ValueError.
        On any error the index on disk is left as it was and the staged changes are discarded.
        `literature` (what a PubMed fetch took, a MEDLINE file applied) is appended to the manifest's
        `literature`; with it a commit writes even when nothing else changed, so the record is kept.
        """
        base = self.index
        if base is not None and not self.changed and not literature:
            return base.manifest
        try:
            return self._write(base, command, literature)
        except OSError as exc:
            # A full disk, a read-only folder, a quota: the build directory is gone, the index as it was.
            raise IndexWriteError(
                f"cannot write {self.path}: {exc.strerror or exc}"
                f"{' (' + str(exc.filename) + ')' if exc.filename else ''}; nothing was changed. "
                "Free space or fix permissions, then run the command again."
            ) from None
        finally:
            # The base's FAISS index may have been appended to in memory: read it again next time.
            self._stale = True
            self._reset()

    @staticmethod
    def sentence_chunk_key(document: Document, start: int, end: int) -> bytes:
        """The sentence store's key of document.text[start:end] (index/sentences.chunk_key), for
        `store_sentence_vectors`' `chunks`."""
        from rag_oracle.index.sentences import chunk_key

        return chunk_key(document, start, end)

    def store_sentence_vectors(self, texts: list[str], on_progress=None, chunks=None) -> int:
        """Embed the texts not yet in the index's sentence store (index/sentences.py) and add them,
        with `chunks` (`chunk_key` -> the chunk's statement texts) for the reranker.

        Call it after `commit()`, under the writer lock: the store is an accelerator beside the
        generations, never part of one, so a failed commit leaves nothing behind. A store that cannot
        be written (a full disk) is reported as a warning and costs only speed: answers embed then.
        Returns how many vectors were added."""
        import logging
        import sqlite3

        from rag_oracle.index.sentences import SentenceStore

        try:
            return SentenceStore(self.path, self.embedder.model_id).add(
                texts, self.embedder.embed_documents, on_progress, chunks
            )
        except (OSError, sqlite3.Error) as exc:
            logging.getLogger(__name__).warning(
                "could not store sentence vectors in %s (%s); answers will embed statements as they are asked",
                self.path,
                exc,
            )
            return 0

    # --- internals ------------------------------------------------------------------------------

    def _require_present(self, doc_ids: list[str]) -> None:
        missing = [d for d in doc_ids if not self.has_document(d)]
        if missing:
            raise DocumentNotFoundError(f"no document {missing[0]!r} in {self.path}; nothing to replace or remove")

    def _stage(self, documents: Sequence[Document], chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.shape != (len(chunks), self.embedder.dimension):
            raise ValueError(
                f"expected {len(chunks)} vectors of dimension {self.embedder.dimension}, got shape {vectors.shape}"
            )
        ids = [d.id for d in documents]
        if len(set(ids)) != len(ids):
            raise ValueError(f"a document id occurs twice in one call: {sorted(ids)}")
        by_doc: dict[str, list[int]] = {doc_id: [] for doc_id in ids}
        for row, chunk in enumerate(chunks):
            if chunk.doc_id not in by_doc:
                raise ValueError(f"chunk {chunk.id} belongs to {chunk.doc_id}, which is not among the documents")
            by_doc[chunk.doc_id].append(row)
        for doc in documents:
            rows = by_doc[doc.id]
            self._added.pop(doc.id, None)  # a second version staged before a commit: the later one wins
            # consecutive rows (the usual case) are a view, not a copy of the caller's vectors
            contiguous = rows and rows[-1] - rows[0] == len(rows) - 1
            doc_vectors = vectors[rows[0] : rows[-1] + 1] if contiguous else vectors[rows]
            # What _write_store writes for it, serialised now, so the caller's objects can be freed.
            meta = doc.metadata
            terms = metadata_terms(meta.mesh_terms, meta.extra) if self.settings.index.bm25_mesh else ()
            entries = [
                (c.id, c.model_dump_json(), self._lexical_text(doc.title, terms, c.text), c.token_count)
                for c in (chunks[r] for r in rows)
            ]
            record = json.dumps([document_row(doc), entries], ensure_ascii=False).encode("utf-8")
            try:
                offset, first = self._spill.put(record, doc_vectors)
            except OSError as exc:
                raise IndexWriteError(
                    f"cannot stage documents for {self.path} in a temporary file in {self._spill.directory}: "
                    f"{exc.strerror or exc}; nothing was changed. Free space there, then run the command again."
                ) from None
            self._added[doc.id] = _Staged(offset, len(record), len(rows), first)

    def _write(self, base: Index | None, command: str, literature: dict | None = None) -> Manifest:
        settings, embedder = self.settings, self.embedder
        staged = list(self._added.values())
        # Which of the base's chunks stay, from its chunk -> document positions alone (no chunk is read).
        kept_positions = (
            np.flatnonzero(~np.isin(base.chunk_doc_positions, base.store.document_positions(self._removed)))
            if base is not None
            else np.zeros(0, dtype=np.int64)
        )
        if not len(kept_positions) and not any(s.chunks for s in staged):
            # bm25s cannot index an empty corpus, and an index that can answer nothing helps no one.
            raise ValueError(
                f"{self.path}: an index must hold at least one chunk; nothing was written "
                "(to delete an index, delete its directory)"
            )
        sources = self._merged_sources(base)
        aliases = self._merged_aliases(base)
        now = datetime.now(UTC).isoformat(timespec="seconds")

        release_free_memory()  # what the caller freed after staging (documents, chunks, vectors)
        with publish(self.path) as tmp:
            written = self._write_store(tmp / STORE, base, staged)
            try:
                # FAISS, then BM25, each written and let go of before the next is built.
                faiss_index = self._dense(base, kept_positions, staged)
                ntotal = int(faiss_index.ntotal)
                dense.write(faiss_index, tmp)
                del faiss_index
                self._spill.close()
                release_free_memory()
                bm25 = lexical.build(written.texts)
                lexical.save(bm25, tmp)
                del bm25
                release_free_memory()
            finally:
                written.texts.close()
            write_jsonl(tmp / SOURCES, sources)
            write_jsonl(tmp / ALIASES, [{"alias": a, "canonical": c} for a, c in sorted(aliases.items())])
            manifest = Manifest(
                package_version=__version__,
                library_versions=library_versions(),
                created_at=base.manifest.created_at if base else now,
                updated_at=now,
                build_commands=[*(base.manifest.build_commands if base else []), *([command] if command else [])],
                literature=[*(base.manifest.literature if base else []), *([literature] if literature else [])],
                fingerprint=settings.index_fingerprint(),
                embedder={"id": embedder.model_id, "dimension": embedder.dimension, "max_tokens": embedder.max_tokens},
                chunking=settings.chunk.model_dump(),
                faiss={"spec": settings.index.faiss, "metric": "inner_product", "ntotal": ntotal},
                bm25={
                    **lexical.PARAMS,
                    **(
                        {"title_weight": settings.index.bm25_title_weight, "mesh": settings.index.bm25_mesh}
                        if (settings.index.bm25_title_weight, settings.index.bm25_mesh) != (1, False)
                        else {}
                    ),
                },
                counts={
                    "documents": written.documents,
                    "chunks": written.chunks,
                    "tokens": written.tokens,
                    "source_files": len(sources),
                    "aliases": len(aliases),
                },
                files=file_entries(tmp),
                chunks_sha256=written.chunks_sha256,
            )
            write_manifest(tmp, manifest)  # last: without it the directory is never opened
        return manifest

    def _write_store(self, file: Path, base: Index | None, staged: list[_Staged]) -> _Written:
        """store.sqlite of the next version: the base's kept rows copied as stored (documents are not
        parsed; chunks are, for their BM25 text), then the staged ones read back from the spill.
        Streams both; the BM25 texts go to a temporary file (`_Written.texts`)."""
        out = StoreWriter(file)
        written = _Written(texts=_TextFile(self._spill.directory))
        digest = hashlib.sha256()

        def add_chunk(chunk_id: str, doc_pos: int, text: str, bm25_text: str, tokens: int) -> None:
            out.add_chunk(chunk_id, doc_pos, text)
            written.texts.append(bm25_text)
            written.tokens += tokens
            digest.update(text.encode("utf-8"))
            digest.update(b"\n")

        try:
            if base is not None:
                kept_doc = np.ones(len(base.documents), dtype=bool)
                mesh = self.settings.index.bm25_mesh
                terms: dict[int, tuple[str, ...]] = {}  # document position -> MeSH and keywords (bm25_mesh)
                for pos, row in enumerate(base.store.document_rows()):
                    if row[0] in self._removed:
                        kept_doc[pos] = False
                    else:
                        out.add_document(row)
                        if mesh:
                            meta = json.loads(row[-1]).get("metadata") or {}
                            if found := metadata_terms(meta.get("mesh_terms"), meta.get("extra")):
                                terms[pos] = found
                new_doc_pos = np.cumsum(kept_doc) - 1  # old document position -> new one
                doc_of = base.chunk_doc_positions
                for pos, (text, chunk, title) in enumerate(base.store.chunk_records()):
                    if kept_doc[doc_of[pos]]:
                        bm25_text = self._lexical_text(title, terms.get(int(doc_of[pos]), ()), chunk.text)
                        add_chunk(chunk.id, int(new_doc_pos[doc_of[pos]]), text, bm25_text, chunk.token_count)
            for s in staged:
                row, entries = json.loads(self._spill.record(s.offset, s.length))
                doc_pos = out.add_document(tuple(row))
                for chunk_id, text, bm25_text, tokens in entries:
                    add_chunk(chunk_id, doc_pos, text, bm25_text, tokens)
            out.finish()
        except BaseException:
            out.abort()
            written.texts.close()
            raise
        written.documents, written.chunks, written.chunks_sha256 = out.documents, out.chunks, digest.hexdigest()
        return written

    def _lexical_text(self, title: str, terms: tuple[str, ...], text: str) -> str:
        """What BM25 indexes for a chunk ([index] bm25_title_weight, bm25_mesh; text/passage.py)."""
        return lexical_text(title, text, self.settings.index.bm25_title_weight, terms)

    def _dense(self, base: Index | None, kept_positions: np.ndarray, staged: list[_Staged]):
        """The next FAISS index: the base's kept vectors, then the staged ones (from the spill)."""
        spec, dimension = self.settings.index.faiss, self.embedder.dimension
        kept: Iterable[np.ndarray] = ()
        if base is None:
            faiss_index = dense.new_faiss_index(spec, dimension)
        elif len(kept_positions) == len(base.chunks):
            # Nothing dropped: append to a copy read into memory (the open base may be memory-mapped,
            # and a memory-mapped FAISS index cannot grow).
            faiss_index = dense.read(base.snapshot, mmap=False)
        elif dense.stores_exact_vectors(base.faiss_index):
            faiss_index = dense.new_faiss_index(spec, dimension)
            kept = (
                dense.reconstruct(base.faiss_index, kept_positions[i : i + ADD_BATCH].astype(np.int64))
                for i in range(0, len(kept_positions), ADD_BATCH)
            )
        else:
            # Lossy codes cannot give the vectors back: embed the kept chunks again (the same
            # embedder built them; the cache usually has them) and keep the original training.
            faiss_index = dense.empty_like(dense.read(base.snapshot, mmap=False))
            kept = [self._embed_again(base, kept_positions)]
        new = self._spill.vector_batches(_runs(staged), ADD_BATCH)
        batches = itertools.chain(kept, new)
        if not faiss_index.is_trained:
            # Training needs the vectors together (IVF centroids, PQ codebooks), as they always had.
            parts = [np.array(b, dtype=np.float32) for b in batches]
            vectors = np.concatenate(parts) if parts else np.zeros((0, dimension), dtype=np.float32)
            del parts
            dense.add_vectors(faiss_index, vectors, spec)
        else:
            for batch in batches:
                dense.add_vectors(faiss_index, batch.reshape(-1, dimension), spec)
        return faiss_index

    def _embed_again(self, base: Index, kept_positions: np.ndarray) -> np.ndarray:
        keep = np.zeros(len(base.chunks), dtype=bool)
        keep[kept_positions] = True
        parts = [np.zeros((0, self.embedder.dimension), dtype=np.float32)]
        batch: list[str] = []
        for pos, (_, chunk, title) in enumerate(base.store.chunk_records()):
            if keep[pos]:
                batch.append(embedding_text(title, chunk.text))
            if len(batch) == REEMBED_BATCH:
                parts.append(self.embedder.embed_documents(batch))
                batch = []
        if batch:
            parts.append(self.embedder.embed_documents(batch))
        return np.concatenate(parts).astype(np.float32, copy=False)

    def _merged_sources(self, base: Index | None) -> list[dict]:
        superseded = {s["path"] for s in self._sources} | self._dropped_sources
        kept = [s for s in (base.sources if base else []) if s["path"] not in superseded]
        return [*kept, *self._sources]

    def _merged_aliases(self, base: Index | None) -> dict[str, str]:
        # An alias of a removed or replaced document named text the index no longer holds; an id
        # that is now a document in its own right is no longer an alias.
        aliases = {
            a: c
            for a, c in (base.aliases if base else {}).items()
            if c not in self._removed and a not in self._dropped_aliases
        }
        aliases.update(self._aliases)
        aliases = {a: c for a, c in aliases.items() if not self.has_document(a)}
        dangling = sorted(a for a, c in aliases.items() if not self.has_document(c))
        if dangling:
            raise ValueError(f"aliases {dangling[:5]} point at documents the index will not hold")
        return aliases


def _runs(staged: Iterable[_Staged]) -> Iterator[tuple[int, int]]:
    """The staged documents' vector rows as [start, stop) runs, consecutive documents merged."""
    start = stop = None
    for s in staged:
        if not s.chunks:
            continue
        if s.vector_row != stop:
            if start is not None:
                yield start, stop
            start = s.vector_row
        stop = s.vector_row + s.chunks
    if start is not None:
        yield start, stop


def _open_existing(path: Path, settings: Settings, embedder: Embedder) -> Index | None:
    if not str(path).strip():
        raise ConfigError("the index path is empty; give a directory such as --index indexes/mine")
    recover_interrupted_swap(path)
    if is_fresh(path):
        return None
    if not path.is_dir():
        raise IncompleteIndexError(f"{path} is a file, not an index directory; choose another --index")
    if not (snapshot_dir(path) / MANIFEST).is_file():
        raise IncompleteIndexError(
            f"{path} exists but has no {MANIFEST}: not an index, or a build that never finished. "
            "Refusing to write into it; choose another --index or delete it."
        )
    index = Index.open(path)
    check_settings(index, settings, embedder)
    return index
