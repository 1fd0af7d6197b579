"""Ingest files into an index: load, deduplicate, chunk, embed only what is new, write atomically.

Example::

    report = ingest(["papers/"], "indexes/mine", load_settings())
    print(report.summary())
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from time import perf_counter
from typing import Literal, Protocol

import numpy as np

from rag_oracle import __version__
from rag_oracle.embed import make_embedder
from rag_oracle.embed.base import Embedder
from rag_oracle.errors import IncompleteIndexError, IndexSettingsMismatchError, LoaderError
from rag_oracle.index import dense, lexical
from rag_oracle.index.atomic import atomic_directory, recover_interrupted_swap
from rag_oracle.index.manifest import MANIFEST, Manifest, file_entries, sha256_file, write_manifest
from rag_oracle.index.store import (
    ALIASES,
    CHUNKS,
    DOCUMENTS,
    SOURCES,
    Index,
    check_embedder,
    embedding_text,
    write_jsonl,
)
from rag_oracle.ingest.chunking import chunk_document
from rag_oracle.ingest.detect import iter_files, loader_for
from rag_oracle.settings import Settings
from rag_oracle.types import Chunk, Document

EMBED_BATCH = 256


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


Status = Literal["ingested", "skipped", "failed"]


@dataclass
class FileReport:
    path: str
    status: Status
    reason: str = ""
    documents: int = 0
    chunks: int = 0
    duplicates: int = 0
    warnings: list[str] = field(default_factory=list)
    sha256: str = ""


@dataclass
class IngestReport:
    index_path: str
    files: list[FileReport] = field(default_factory=list)
    documents_added: int = 0
    chunks_added: int = 0
    tokens_added: int = 0
    duplicates: int = 0
    total_documents: int = 0
    total_chunks: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    embed_cache: dict[str, int] = field(default_factory=dict)

    def count(self, status: Status) -> int:
        return sum(1 for f in self.files if f.status == status)

    @property
    def exit_code(self) -> int:
        """0 when no file failed; 1 when at least one file failed (the rest was still ingested)."""
        return 1 if self.count("failed") else 0

    def summary(self) -> str:
        return (
            f"files: {self.count('ingested')} ingested, {self.count('skipped')} skipped, "
            f"{self.count('failed')} failed | added {self.documents_added} documents, {self.chunks_added} chunks "
            f"({self.duplicates} duplicate documents not added) | index {self.index_path}: "
            f"{self.total_documents} documents, {self.total_chunks} chunks"
        )


def _check_settings(existing: Index, settings: Settings, embedder: Embedder) -> None:
    check_embedder(existing.manifest, embedder, existing.path)
    m = existing.manifest
    if m.fingerprint == settings.index_fingerprint():
        return
    diffs = []
    if m.chunking != settings.chunk.model_dump():
        diffs.append(f"chunking {m.chunking} vs {settings.chunk.model_dump()}")
    if m.faiss.get("spec") != settings.index.faiss:
        diffs.append(f"FAISS spec {m.faiss.get('spec')!r} vs {settings.index.faiss!r}")
    raise IndexSettingsMismatchError(
        f"{existing.path} was built with different settings ({'; '.join(diffs) or 'embedding prompts'}); "
        "adding to it would mix two kinds of chunks. Use the index's settings or a new --index directory."
    )


def _open_existing(path: Path, settings: Settings, embedder: Embedder) -> Index | None:
    recover_interrupted_swap(path)
    if not path.exists() or (path.is_dir() and not any(path.iterdir())):
        return None
    if not (path / MANIFEST).is_file():
        raise IncompleteIndexError(
            f"{path} exists but has no {MANIFEST}: not an index, or a build that never finished. "
            "Refusing to write into it; choose another --index or delete it."
        )
    existing = Index.open(path)
    _check_settings(existing, settings, embedder)
    return existing


def _library_versions() -> dict[str, str]:
    versions = {"python": sys.version.split()[0], "numpy": np.__version__}
    for name in ("faiss", "bm25s", "sentence_transformers", "torch", "transformers", "pypdf"):
        module = sys.modules.get(name)
        if module is not None and hasattr(module, "__version__"):
            versions[name] = str(module.__version__)
    return versions


def ingest(
    paths: list[str | Path],
    index_path: str | Path,
    settings: Settings,
    *,
    embedder: Embedder | None = None,
    progress: Progress | None = None,
    command: str = "",
) -> IngestReport:
    """Add the documents in `paths` (files or folders) to the index at `index_path`, creating it if needed.

    Bad files are reported in the returned report and skipped; the rest is ingested. The index
    on disk is replaced atomically, and only when something was added.
    """
    progress = progress or NullProgress()
    index_path = Path(index_path)
    embedder = embedder or make_embedder(settings.embed)
    timer = perf_counter()
    existing = _open_existing(index_path, settings, embedder)
    report = IngestReport(index_path=str(index_path))

    known_hashes = {d.content_hash: d.id for d in existing.documents.values()} if existing else {}
    new_aliases: dict[str, str] = {}
    known_ids = set(existing.documents) if existing else set()
    known_sources = {s["sha256"] for s in existing.sources} if existing else set()
    new_docs: list[Document] = []
    new_chunks: list[Chunk] = []
    new_sources: list[dict] = []

    files = list(iter_files(paths))
    progress.start("read", len(files), "files")
    for path in files:
        file_report = _ingest_file(
            path, settings, embedder, known_hashes, known_ids, known_sources, new_docs, new_chunks, new_aliases
        )
        report.files.append(file_report)
        if file_report.status != "failed" and file_report.reason != "unchanged since last ingest":
            new_sources.append({"path": str(path), "sha256": file_report.sha256, "documents": file_report.documents})
        report.duplicates += file_report.duplicates
        progress.advance(1, documents=len(new_docs), chunks=len(new_chunks))
    progress.finish()
    report.seconds["read_chunk"] = perf_counter() - timer

    report.documents_added = len(new_docs)
    report.chunks_added = len(new_chunks)
    report.tokens_added = sum(c.token_count for c in new_chunks)
    if not new_docs and not new_sources and not new_aliases:
        report.total_documents = len(existing.documents) if existing else 0
        report.total_chunks = len(existing.chunks) if existing else 0
        return report

    timer = perf_counter()
    titles = {d.id: d.title for d in new_docs}
    vectors = _embed(new_chunks, titles, embedder, progress)
    report.seconds["embed"] = perf_counter() - timer
    if hasattr(embedder, "stats"):
        report.embed_cache = dict(embedder.stats)

    timer = perf_counter()
    _write(index_path, existing, new_docs, new_chunks, new_sources, new_aliases, vectors, settings, embedder, command)
    report.seconds["write"] = perf_counter() - timer
    report.total_documents = (len(existing.documents) if existing else 0) + len(new_docs)
    report.total_chunks = (len(existing.chunks) if existing else 0) + len(new_chunks)
    return report


def _ingest_file(
    path: Path,
    settings: Settings,
    embedder: Embedder,
    known_hashes: dict[str, str],
    known_ids: set[str],
    known_sources: set[str],
    new_docs: list[Document],
    new_chunks: list[Chunk],
    new_aliases: dict[str, str],
) -> FileReport:
    if not path.exists():
        return FileReport(str(path), "failed", "no such file or directory")
    digest = ""
    try:
        digest = sha256_file(path)
        if digest in known_sources:
            return FileReport(str(path), "skipped", "unchanged since last ingest", sha256=digest)
        result = loader_for(path).load(path)
    except LoaderError as exc:
        status: Status = "skipped" if exc.reason == "unsupported" else "failed"
        reason = f"{exc.reason}: {str(exc).removeprefix(str(path) + ': ')}"
        return FileReport(str(path), status, reason, sha256=digest)
    except OSError as exc:
        return FileReport(str(path), "failed", f"unreadable: {exc.strerror or exc}", sha256=digest)
    report = FileReport(str(path), "ingested", warnings=list(result.warnings), sha256=digest)
    for doc in result.documents:
        if doc.content_hash in known_hashes:
            report.duplicates += 1
            canonical = known_hashes[doc.content_hash]
            if doc.id != canonical and doc.id not in known_ids:
                # Same text under another id (a re-published abstract, a second record): stored once,
                # but the id stays resolvable, e.g. for relevance judgements that name it.
                new_aliases[doc.id] = canonical
                known_ids.add(doc.id)
            continue
        if doc.id in known_ids:
            report.warnings.append(
                f"{path}: document id {doc.id} is already indexed with different text; kept the first version"
            )
            report.duplicates += 1
            continue
        known_hashes[doc.content_hash] = doc.id
        known_ids.add(doc.id)
        chunks = chunk_document(doc, settings.chunk, embedder.count_tokens)
        if not chunks:
            report.warnings.append(f"{path}: document {doc.id} produced no text to index")
            continue
        new_docs.append(doc)
        new_chunks.extend(chunks)
        report.documents += 1
        report.chunks += len(chunks)
    if report.documents == 0:
        report.status = "skipped"
        report.reason = f"all {report.duplicates} documents already indexed" if report.duplicates else "no documents"
    return report


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


def _write(
    index_path: Path,
    existing: Index | None,
    new_docs: list[Document],
    new_chunks: list[Chunk],
    new_sources: list[dict],
    new_aliases: dict[str, str],
    vectors: np.ndarray,
    settings: Settings,
    embedder: Embedder,
    command: str,
) -> None:
    now = datetime.now(UTC).isoformat(timespec="seconds")
    documents = [*(existing.documents.values() if existing else []), *new_docs]
    chunks = [*(existing.chunks if existing else []), *new_chunks]
    sources = [*(existing.sources if existing else []), *new_sources]
    aliases = {**(existing.aliases if existing else {}), **new_aliases}
    faiss_index = existing.faiss_index if existing else dense.new_faiss_index(settings.index.faiss, embedder.dimension)
    dense.add_vectors(faiss_index, vectors, settings.index.faiss)
    titles = {d.id: d.title for d in documents}
    bm25 = lexical.build([embedding_text(titles[c.doc_id], c.text) for c in chunks])

    with atomic_directory(index_path) as tmp:
        write_jsonl(tmp / DOCUMENTS, documents)
        write_jsonl(tmp / CHUNKS, chunks)
        write_jsonl(tmp / SOURCES, sources)
        write_jsonl(tmp / ALIASES, [{"alias": a, "canonical": c} for a, c in sorted(aliases.items())])
        dense.write(faiss_index, tmp)
        lexical.save(bm25, tmp)
        manifest = Manifest(
            package_version=__version__,
            library_versions=_library_versions(),
            created_at=existing.manifest.created_at if existing else now,
            updated_at=now,
            build_commands=[*(existing.manifest.build_commands if existing else []), *([command] if command else [])],
            fingerprint=settings.index_fingerprint(),
            embedder={"id": embedder.model_id, "dimension": embedder.dimension, "max_tokens": embedder.max_tokens},
            chunking=settings.chunk.model_dump(),
            faiss={"spec": settings.index.faiss, "metric": "inner_product", "ntotal": int(faiss_index.ntotal)},
            bm25=dict(lexical.PARAMS),
            counts={
                "documents": len(documents),
                "chunks": len(chunks),
                "tokens": sum(c.token_count for c in chunks),
                "source_files": len(sources),
                "aliases": len(aliases),
            },
            files=file_entries(tmp),
        )
        write_manifest(tmp, manifest)
