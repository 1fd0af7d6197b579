"""Ingest files into an index: load, deduplicate, chunk, embed only what is new, hand it to the writer.

The index's on-disk format is the index stage's business: this module reads what is already
indexed through `IndexWriter.index` (an `Index`) and hands documents, chunks and vectors to
`IndexWriter`, which writes the next version atomically.

What happens to a document, by what the index already holds:

- its exact text (same content hash) under the same id: nothing (a duplicate);
- its exact text under another id: stored once; the new id becomes an alias of the stored one;
- its id with other text: the new version replaces the stored one (a warning says so). Within
  one run the version read last wins, so `ingest a b` leaves what `ingest a; ingest b` leaves.

Example::

    report = ingest(["papers/"], "indexes/mine", load_settings())
    print(report.summary())
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from time import perf_counter
from typing import Protocol

import numpy as np

from rag_oracle.embed import make_embedder
from rag_oracle.embed.base import Embedder
from rag_oracle.errors import LoaderError
from rag_oracle.index.lock import writer_lock
from rag_oracle.index.store import Index
from rag_oracle.index.writer import IndexWriter
from rag_oracle.ingest.chunking import chunk_document
from rag_oracle.ingest.detect import iter_files, loader_for
from rag_oracle.settings import Settings
from rag_oracle.text.passage import embedding_text
from rag_oracle.types import Chunk, Document, FileReport, IngestReport, IngestStatus

EMBED_BATCH = 256
UNCHANGED = "unchanged since last ingest"

__all__ = ["FileReport", "IngestReport", "NullProgress", "Progress", "ingest"]


class Progress(Protocol):
    """Receives progress; the CLI draws bars with it. The library itself never prints."""

    def start(self, phase: str, total: int | None, unit: str) -> None: ...

    def advance(self, n: int = 1, **info: object) -> None: ...

    def finish(self) -> None: ...


class NullProgress:
    def start(self, phase: str, total: int | None, unit: str) -> None:
        pass

    def advance(self, n: int = 1, **info: object) -> None:
        pass

    def finish(self) -> None:
        pass


@dataclass
class _Run:
    """What the index will hold once this run is written, and what the run changes to get there."""

    on_disk: set[str]  # ids of the documents in the index on disk
    hashes: dict[str, str]  # doc id -> content hash, for every document the next version holds
    owners: dict[str, str]  # content hash -> the doc id it is stored under
    aliases: dict[str, str]  # alias -> canonical, as the next version will have them
    file_digests: frozenset[str]  # sha256 of files already ingested
    pending: dict[str, tuple[Document, list[Chunk]]] = field(default_factory=dict)  # to write
    dropped: set[str] = field(default_factory=set)  # documents on disk the next version drops
    new_aliases: dict[str, str] = field(default_factory=dict)
    read_from: dict[str, str] = field(default_factory=dict)  # doc id -> file this run read it from
    pending_chunks: int = 0

    @classmethod
    def start(cls, index: Index | None, file_digests: frozenset[str]) -> _Run:
        documents = index.documents if index else {}
        hashes = {d.id: d.content_hash for d in documents.values()}
        owners: dict[str, str] = {}
        for doc_id, digest in hashes.items():
            owners.setdefault(digest, doc_id)
        aliases = dict(index.aliases) if index else {}
        return cls(set(documents), hashes, owners, aliases, file_digests)

    def drop(self, doc_id: str) -> None:
        """Forget a document the next version would hold, and the aliases of its text."""
        digest = self.hashes.pop(doc_id)
        if self.owners.get(digest) == doc_id:
            del self.owners[digest]
        _, chunks = self.pending.pop(doc_id, (None, []))
        self.pending_chunks -= len(chunks)
        if doc_id in self.on_disk:
            self.dropped.add(doc_id)
        for alias in [a for a, c in self.aliases.items() if c == doc_id]:
            del self.aliases[alias]
            self.new_aliases.pop(alias, None)

    def alias(self, alias: str, canonical: str) -> None:
        if self.aliases.get(alias) != canonical:
            self.aliases[alias] = canonical
            self.new_aliases[alias] = canonical

    def stage(self, doc: Document, chunks: list[Chunk], path: Path) -> None:
        self.aliases.pop(doc.id, None)  # an alias that now has text of its own is a document
        self.new_aliases.pop(doc.id, None)
        self.pending[doc.id] = (doc, chunks)
        self.pending_chunks += len(chunks)
        self.hashes[doc.id] = doc.content_hash
        self.owners[doc.content_hash] = doc.id
        self.read_from[doc.id] = str(path)

    @property
    def replaced(self) -> list[str]:
        return [doc_id for doc_id in self.pending if doc_id in self.on_disk]

    @property
    def removed(self) -> list[str]:
        return sorted(self.dropped - self.pending.keys())


def ingest(
    paths: list[str | Path],
    index_path: str | Path,
    settings: Settings,
    *,
    embedder: Embedder | None = None,
    progress: Progress | None = None,
    command: str = "",
    wait: bool = False,
) -> IngestReport:
    """Add the documents in `paths` (files or folders) to the index at `index_path`, creating it if needed.

    Bad files are reported in the returned report and skipped; the rest is ingested. A document
    already indexed under the same id with other text is replaced. The index on disk is replaced
    atomically, and only when something changed. One ingest writes an index at a time (see
    index/lock.py): another one raises IndexLockedError, or, with `wait`, waits its turn.
    """
    with writer_lock(index_path, wait=wait):
        return _ingest(paths, index_path, settings, embedder=embedder, progress=progress, command=command)


def _ingest(paths, index_path, settings, *, embedder, progress, command) -> IngestReport:
    progress = progress or NullProgress()
    embedder = embedder or make_embedder(settings.embed)
    timer = perf_counter()
    writer = IndexWriter.open(index_path, settings, embedder)
    existing = writer.index
    run = _Run.start(existing, writer.file_digests)

    file_reports: list[FileReport] = []
    files = list(iter_files(paths))
    progress.start("read", len(files), "files")
    for path in files:
        file_report = _ingest_file(path, settings, embedder, run)
        file_reports.append(file_report)
        if file_report.status != "failed" and file_report.reason != UNCHANGED:
            writer.add_source(str(path), file_report.sha256, file_report.documents)
        progress.advance(1, documents=len(run.pending), chunks=run.pending_chunks)
    progress.finish()
    seconds = {"read_chunk": perf_counter() - timer}

    new_chunks = [c for _, chunks in run.pending.values() for c in chunks]
    replaced = set(run.replaced)
    removed = run.removed
    totals = {
        "index_path": str(index_path),
        "files": file_reports,
        "documents_added": len(run.pending) - len(replaced),
        "documents_replaced": len(replaced),
        "documents_removed": len(removed),
        "chunks_added": len(new_chunks),
        "chunks_removed": sum(1 for c in existing.chunks if c.doc_id in run.dropped) if existing else 0,
        "tokens_added": sum(c.token_count for c in new_chunks),
        "duplicates": sum(f.duplicates for f in file_reports),
    }
    nothing_new = not run.pending and not removed and not run.new_aliases and not writer.changed
    if nothing_new or (existing is None and not run.pending):  # no index is made without a chunk
        return IngestReport(
            **totals,
            total_documents=len(existing.documents) if existing else 0,
            total_chunks=len(existing.chunks) if existing else 0,
            seconds=seconds,
        )

    timer = perf_counter()
    titles = {doc.id: doc.title for doc, _ in run.pending.values()}
    vectors = _embed(new_chunks, titles, embedder, progress)
    seconds["embed"] = perf_counter() - timer
    embed_cache = dict(embedder.stats) if hasattr(embedder, "stats") else {}

    timer = perf_counter()
    row = 0
    for doc, chunks in run.pending.values():
        rows = vectors[row : row + len(chunks)]
        row += len(chunks)
        if doc.id in replaced:
            writer.replace([doc], chunks, rows)
        else:
            writer.add([doc], chunks, rows)
    writer.remove(removed)
    for alias, canonical in run.new_aliases.items():
        writer.add_alias(alias, canonical)
    manifest = writer.commit(command=command)
    seconds["write"] = perf_counter() - timer
    return IngestReport(
        **totals,
        total_documents=manifest.counts["documents"],
        total_chunks=manifest.counts["chunks"],
        seconds=seconds,
        embed_cache=embed_cache,
    )


def _file_sha256(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _ingest_file(path: Path, settings: Settings, embedder: Embedder, run: _Run) -> FileReport:
    if not path.exists():
        return FileReport(path=str(path), status="failed", reason="no such file or directory")
    digest = ""
    try:
        digest = _file_sha256(path)
        if digest in run.file_digests:
            return FileReport(path=str(path), status="skipped", reason=UNCHANGED, sha256=digest)
        result = loader_for(path).load(path)
    except LoaderError as exc:
        status: IngestStatus = "skipped" if exc.reason == "unsupported" else "failed"
        reason = f"{exc.reason}: {str(exc).removeprefix(str(path) + ': ')}"
        return FileReport(path=str(path), status=status, reason=reason, sha256=digest)
    except OSError as exc:
        return FileReport(path=str(path), status="failed", reason=f"unreadable: {exc.strerror or exc}", sha256=digest)

    warnings = list(result.warnings)
    documents = chunk_count = duplicates = 0
    for doc in result.documents:
        canonical = run.owners.get(doc.content_hash)
        if canonical is not None:
            duplicates += 1
            if doc.id != canonical:
                if doc.id in run.hashes:
                    run.drop(doc.id)
                    warnings.append(
                        f"{path}: document {doc.id} now has the same text as {canonical}; "
                        f"stored once, under {canonical}"
                    )
                # Same text under another id (a re-published abstract, a second record): stored once,
                # but the id stays resolvable, e.g. for relevance judgements that name it.
                run.alias(doc.id, canonical)
            continue
        chunks = chunk_document(doc, settings.chunk, embedder.count_tokens)
        if not chunks:
            warnings.append(f"{path}: document {doc.id} produced no text to index")
            continue
        if doc.id in run.hashes:
            earlier = run.read_from.get(doc.id)
            run.drop(doc.id)
            if earlier:
                warnings.append(
                    f"{path}: document {doc.id} was also read from {earlier} with different text; "
                    "kept this later version"
                )
            else:
                warnings.append(
                    f"{path}: document {doc.id} was already indexed with different text; replaced it with this version"
                )
        run.stage(doc, chunks, path)
        documents += 1
        chunk_count += len(chunks)
    status = "ingested" if documents else "skipped"
    reason = "" if documents else (f"all {duplicates} documents already indexed" if duplicates else "no documents")
    return FileReport(
        path=str(path),
        status=status,
        reason=reason,
        documents=documents,
        chunks=chunk_count,
        duplicates=duplicates,
        warnings=warnings,
        sha256=digest,
    )


def _embed(chunks: list[Chunk], titles: dict[str, str], embedder: Embedder, progress: Progress) -> np.ndarray:
    progress.start("embed", len(chunks), "chunks")
    parts = []
    tokens = 0
    for i in range(0, len(chunks), EMBED_BATCH):
        batch = chunks[i : i + EMBED_BATCH]
        parts.append(embedder.embed_documents([embedding_text(titles[c.doc_id], c.text) for c in batch]))
        tokens += sum(c.token_count for c in batch)
        progress.advance(len(batch), tokens=tokens)
    progress.finish()
    if not parts:
        return np.zeros((0, embedder.dimension), dtype=np.float32)
    return np.concatenate(parts).astype(np.float32, copy=False)
