"""An opened index: documents, chunks, the FAISS and BM25 indexes, and the manifest.

An index directory holds generations and a `CURRENT` pointer (index/atomic.py); one generation,
`indexes/<name>/gNNNNNN/`, holds::

    manifest.json      written last; without it the directory is never opened
    documents.jsonl    one Document per line
    chunks.jsonl       one Chunk per line; line i is FAISS vector i and BM25 document i
    sources.jsonl      files ingested (path, sha256, documents), so unchanged files are skipped
    aliases.jsonl      ids of duplicate documents -> the id under which their text is stored
    dense.faiss        FAISS index (native format)
    bm25/              bm25s index (.npy arrays + JSON)

`Index` reads this layout; `IndexWriter` (index/writer.py) is the only code that writes it.

Example::

    index = Index.open("indexes/sample", embedder=make_embedder(settings.embed))
    index.chunks[0].text
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from pydantic import ValidationError

from rag_oracle.errors import (
    EmbedderMismatchError,
    IncompleteIndexError,
    IndexCorruptError,
    RagOracleError,
    SchemaVersionError,
)
from rag_oracle.index import dense, lexical
from rag_oracle.index.atomic import snapshot_dir
from rag_oracle.index.manifest import Manifest, read_manifest, sha256_file
from rag_oracle.types import Chunk, Document, DocumentInfo

DOCUMENTS = "documents.jsonl"
CHUNKS = "chunks.jsonl"
SOURCES = "sources.jsonl"
ALIASES = "aliases.jsonl"


OPEN_ATTEMPTS = 5
# Files up to this size are re-hashed against the manifest on every open; larger ones are checked
# by size only there (index verify hashes everything).
HASH_ON_OPEN_BYTES = 4 * 1024 * 1024


def read_jsonl(path: Path, model):
    with open(path, encoding="utf-8") as fh:
        return [model.model_validate_json(line) for line in fh if line.strip()]


def _damaged(index_path: Path, name: str, detail: str) -> IndexCorruptError:
    return IndexCorruptError(
        f"{index_path}: {name} is damaged ({detail}); run 'rag-oracle index verify {index_path}', then rebuild it"
    )


def _read_records(file: Path, model, index_path: Path) -> list:
    """Every record of a JSONL file of the index (`model` validates each line; None: plain JSON).
    A missing file or a damaged line raises IndexCorruptError naming the file and the line."""
    records = []
    try:
        with open(file, "rb") as fh:
            for lineno, raw in enumerate(fh, 1):
                if not raw.strip():
                    continue
                try:
                    records.append(model.model_validate_json(raw) if model else json.loads(raw))
                except (ValidationError, ValueError) as exc:
                    detail = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
                    raise _damaged(index_path, f"{file.name} line {lineno}", detail) from None
    except OSError as exc:
        raise _damaged(index_path, file.name, exc.strerror or str(exc)) from None
    return records


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


def document_info(doc: Document) -> DocumentInfo:
    m = doc.metadata
    return DocumentInfo(
        id=doc.id,
        title=doc.title,
        year=m.year,
        pmid=m.pmid,
        pmcid=m.pmcid,
        doi=m.doi,
        source_path=m.source_path,
        format=m.format,
        publication_types=list(m.publication_types),
        source=m.source,
        authors=list(m.authors),
        journal=m.journal,
    )


@dataclass
class Index:
    path: Path
    manifest: Manifest
    documents: dict[str, Document]
    chunks: list[Chunk]
    sources: list[dict]
    aliases: dict[str, str]
    faiss_index: object
    bm25: object
    _doc_positions: np.ndarray | None = field(default=None, repr=False)
    _infos: dict[str, DocumentInfo] = field(default_factory=dict, repr=False)
    _positions: dict[str, int] | None = field(default=None, repr=False)
    snapshot: Path | None = None  # the generation directory read (index/atomic.py); `path` is the index

    def __post_init__(self) -> None:
        if self.snapshot is None:
            self.snapshot = self.path

    @classmethod
    def open(cls, path: str | Path, embedder=None, *, mmap: bool = False) -> Index:
        """Open a complete index. With `embedder`, refuse one built by a different model.

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
        documents = {d.id: d for d in _read_records(snapshot / DOCUMENTS, Document, path)}
        chunks = _read_records(snapshot / CHUNKS, Chunk, path)
        sources = _read_records(snapshot / SOURCES, None, path)
        aliases = {}
        if (snapshot / ALIASES).is_file():
            for record in _read_records(snapshot / ALIASES, None, path):
                try:
                    aliases[record["alias"]] = record["canonical"]
                except (KeyError, TypeError):
                    raise _damaged(path, ALIASES, "a record without alias and canonical") from None
        try:
            faiss_index = dense.read(snapshot, mmap=mmap)
        except (OSError, RuntimeError) as exc:
            raise _damaged(path, dense.FAISS_FILE, str(exc).splitlines()[-1] if str(exc) else "unreadable") from None
        try:
            bm25 = lexical.load(snapshot)
        except (OSError, ValueError, KeyError, TypeError, EOFError) as exc:
            raise _damaged(path, lexical.BM25_DIR, f"{type(exc).__name__}: {exc}") from None
        if faiss_index.ntotal != len(chunks):
            raise IndexCorruptError(
                f"{path}: FAISS holds {faiss_index.ntotal} vectors but there are {len(chunks)} chunks; rebuild the index"
            )
        return cls(path, manifest, documents, chunks, sources, aliases, faiss_index, bm25, snapshot=snapshot)

    def canonical_id(self, doc_id: str) -> str:
        """The id a document is stored under (resolves ids of duplicates that were stored once)."""
        return self.aliases.get(doc_id, doc_id)

    def info(self, doc_id: str) -> DocumentInfo:
        if doc_id not in self._infos:
            self._infos[doc_id] = document_info(self.documents[doc_id])
        return self._infos[doc_id]

    def document_frequency(self, term: str) -> int:
        """How many chunks contain `term` (an analysed token): the `TermStatistics` protocol."""
        return lexical.document_frequency(self.bm25, term)

    def position(self, chunk_id: str) -> int:
        """Where a chunk is stored (its FAISS vector and BM25 row); KeyError for an unknown id."""
        if self._positions is None:
            self._positions = {c.id: i for i, c in enumerate(self.chunks)}
        return self._positions[chunk_id]

    def vectors(self, chunk_ids: list[str]) -> np.ndarray | None:
        """The stored embeddings of these chunks, (n, dimension) float32; None when the FAISS index
        type keeps no reconstructible vectors (PQ and other lossy codes: then embed again)."""
        if not chunk_ids:
            return None
        positions = np.array([self.position(c) for c in chunk_ids], dtype=np.int64)
        return dense.reconstruct(self.faiss_index, positions)

    @property
    def chunk_doc_positions(self) -> np.ndarray:
        """For each chunk, the position of its document in `document_ids` (for filter masks)."""
        if self._doc_positions is None:
            order = {doc_id: i for i, doc_id in enumerate(self.documents)}
            self._doc_positions = np.fromiter(
                (order[c.doc_id] for c in self.chunks), dtype=np.int64, count=len(self.chunks)
            )
        return self._doc_positions

    def verify(self) -> list[str]:
        """Problems found by re-hashing every file against the manifest and checking that counts and
        chunk offsets agree (empty list: all good)."""
        return [*check_files(self.snapshot, self.manifest), *self._content_problems()]

    def _content_problems(self) -> list[str]:
        """Counts that disagree with the manifest, and chunks that do not match their documents."""
        problems = []
        counts = self.manifest.counts
        if counts.get("chunks") != len(self.chunks):
            problems.append(f"chunks.jsonl has {len(self.chunks)} chunks, manifest says {counts.get('chunks')}")
        if counts.get("documents") != len(self.documents):
            problems.append(f"documents.jsonl has {len(self.documents)}, manifest says {counts.get('documents')}")
        for chunk in self.chunks:
            doc = self.documents.get(chunk.doc_id)
            if doc is None:
                problems.append(f"chunk {chunk.id} points at missing document {chunk.doc_id}")
            elif doc.text[chunk.char_start : chunk.char_end] != chunk.text:
                problems.append(f"chunk {chunk.id}: text does not match its document offsets")
        return problems


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
    return [*problems, *index._content_problems()]


def check_embedder(manifest: Manifest, embedder, path: Path) -> None:
    built_with = manifest.embedder.get("id")
    if built_with != embedder.model_id:
        raise EmbedderMismatchError(
            f"{path} was built with embedder '{built_with}' but '{embedder.model_id}' was asked for; "
            f"use the same embed.model (--embed-model) or build a new index"
        )
