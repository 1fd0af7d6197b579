"""Ingest files into an index: load, deduplicate, chunk, embed only what is new, hand it to the writer.

The index's on-disk format is the index stage's business: this module reads what is already
indexed through `IndexWriter.index` (an `Index`) and hands documents, chunks and vectors to
`IndexWriter`, which writes the next version atomically.

What happens to a document, by what the index already holds:

- its exact text (same content hash) under the same id: nothing (a duplicate);
- its exact text under another id: stored once; the new id becomes an alias of the stored one;
- its id with other text: the new version replaces the stored one (a warning says so): this is
  how a corrected document replaces a wrong one. With `ingest.existing = "keep"` (`--keep-existing`)
  the stored version stays and a warning says so. Within one run the version read last wins, so
  `ingest a b` leaves what `ingest a; ingest b` leaves.

Each file is bounded (ingest/limits.py): over the size, decompression or time limit it is reported
as skipped with the limit named, and the run goes on. Folders are walked without following
symlinks out of them; special files are reported and never opened (ingest/detect.py).

Memory stays bounded however large the run: documents are read and chunked file by file, and
once `FLUSH_CHUNKS` chunks are waiting, they are embedded and handed to the writer, which keeps
them in temporary files until the commit (index/writer.py), so a million-chunk ingest never holds
every document and chunk at once.

`remove(ids, index)` takes documents out (the dense and BM25 indexes and the manifest are written
atomically, like an ingest).

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
from rag_oracle.errors import ConfigError, DocumentNotFoundError, LoaderError
from rag_oracle.index.lock import writer_lock
from rag_oracle.index.writer import IndexWriter
from rag_oracle.ingest.chunking import chunk_document
from rag_oracle.ingest.detect import loader_for, walk
from rag_oracle.ingest.limits import Deadline, Limits, open_regular
from rag_oracle.settings import Settings
from rag_oracle.text.passage import embedding_text
from rag_oracle.types import Chunk, Document, FileReport, IngestReport, IngestStatus, RemoveReport

EMBED_BATCH = 256
# Chunks read and waiting to be embedded before they are embedded and staged in the writer: about
# 5 KB of Python objects each (document, chunk), so some 350 MB at most, while batches stay large.
FLUSH_CHUNKS = 65_536
UNCHANGED = "unchanged since last ingest"
# Reasons a file is skipped rather than failed: nothing is wrong with it, it is not ours to read.
_SKIP_REASONS = {"unsupported", "too-large", "too-slow", "not-a-file"}

__all__ = ["FileReport", "IngestReport", "NullProgress", "Progress", "RemoveReport", "ingest", "remove"]


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
    """What the index will hold once this run is written, and what the run changes to get there.

    Documents read are held in `waiting` (with their chunks) until `flush` embeds them and stages
    them in the writer; `added` remembers every document the run stages, waiting or handed over."""

    writer: IndexWriter
    on_disk: set[str]  # ids of the documents in the index on disk
    hashes: dict[str, str]  # doc id -> content hash, for every document the next version holds
    owners: dict[str, str]  # content hash -> the doc id it is stored under
    aliases: dict[str, str]  # alias -> canonical, as the next version will have them
    file_digests: frozenset[str]  # sha256 of files already ingested
    waiting: dict[str, tuple[Document, list[Chunk]]] = field(default_factory=dict)  # read, not yet embedded
    added: dict[str, tuple[int, int]] = field(default_factory=dict)  # doc id -> (chunks, tokens) staged by the run
    dropped: set[str] = field(default_factory=set)  # documents on disk the next version drops
    new_aliases: dict[str, str] = field(default_factory=dict)
    read_from: dict[str, str] = field(default_factory=dict)  # doc id -> file this run read it from
    kept_from: set[str] = field(default_factory=set)  # files whose new version of a document was not taken
    waiting_chunks: int = 0
    chunks: int = 0  # chunks of the documents in `added` (kept as they change: asked after every file)

    @classmethod
    def start(cls, writer: IndexWriter) -> _Run:
        index = writer.index
        hashes = index.content_hashes() if index else {}  # without reading the documents' texts
        owners: dict[str, str] = {}
        for doc_id, digest in hashes.items():
            owners.setdefault(digest, doc_id)
        aliases = dict(index.aliases) if index else {}
        return cls(writer, set(hashes), hashes, owners, aliases, writer.file_digests)

    def drop(self, doc_id: str) -> None:
        """Forget a document the next version would hold, and the aliases of its text."""
        digest = self.hashes.pop(doc_id)
        if self.owners.get(digest) == doc_id:
            del self.owners[digest]
        self.chunks -= self.added.pop(doc_id, (0, 0))[0]
        _, chunks = self.waiting.pop(doc_id, (None, []))
        self.waiting_chunks -= len(chunks)
        if self.writer.has_document(doc_id):  # on disk, or staged by an earlier flush
            self.writer.remove([doc_id])
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
        self.waiting[doc.id] = (doc, chunks)
        self.waiting_chunks += len(chunks)
        self.added[doc.id] = (len(chunks), sum(c.token_count for c in chunks))
        self.chunks += len(chunks)
        self.hashes[doc.id] = doc.content_hash
        self.owners[doc.content_hash] = doc.id
        self.read_from[doc.id] = str(path)

    def flush(self, embedder: Embedder, progress: Progress) -> None:
        """Embed the waiting chunks and stage their documents in the writer (which spills them to
        temporary files), so that the run holds no more than `FLUSH_CHUNKS` chunks' objects."""
        if not self.waiting:
            return
        chunks = [c for _, doc_chunks in self.waiting.values() for c in doc_chunks]
        titles = {doc.id: doc.title for doc, _ in self.waiting.values()}
        vectors = _embed(chunks, titles, embedder, progress)
        row = 0
        for doc, doc_chunks in self.waiting.values():
            # `drop` took any earlier version out of the writer (on disk or staged), so this is an add
            self.writer.add([doc], doc_chunks, vectors[row : row + len(doc_chunks)])
            row += len(doc_chunks)
        self.waiting.clear()
        self.waiting_chunks = 0

    @property
    def replaced(self) -> list[str]:
        return [doc_id for doc_id in self.added if doc_id in self.on_disk]

    @property
    def removed(self) -> list[str]:
        return sorted(self.dropped - self.added.keys())


def ingest(
    paths: list[str | Path],
    index_path: str | Path,
    settings: Settings,
    *,
    embedder: Embedder | None = None,
    progress: Progress | None = None,
    command: str = "",
    wait: bool = False,
    literature: dict | None = None,
) -> IngestReport:
    """Add the documents in `paths` (files or folders) to the index at `index_path`, creating it if needed.

    Bad files are reported in the returned report and skipped; the rest is ingested. A document
    already indexed under the same id with other text is replaced. The index on disk is replaced
    atomically, and only when something changed. One ingest writes an index at a time (see
    index/lock.py): another one raises IndexLockedError, or, with `wait`, waits its turn.
    `literature` (what a PubMed fetch took: ingest/eutils.py) is recorded in the manifest.
    """
    _check_index_path(index_path)
    with writer_lock(index_path, wait=wait):
        return _ingest(
            paths, index_path, settings, embedder=embedder, progress=progress, command=command, literature=literature
        )


def recorded_literature(index_path: str | Path) -> list[dict]:
    """The `literature` the index's manifest records (PubMed fetches, MEDLINE files); [] without an index."""
    from rag_oracle.errors import IndexNotFoundError
    from rag_oracle.index.store import Index

    try:
        return Index.open(index_path).manifest.literature
    except IndexNotFoundError:
        return []


def record_literature(
    index_path: str | Path, settings: Settings, literature: dict, *, embedder: Embedder | None = None, command: str = ""
) -> None:
    """Append `literature` to the manifest of the index at `index_path` with nothing else changed
    (a MEDLINE file of deletions the index does not hold: ingest/medline.py), under the writer lock."""
    _check_index_path(index_path)
    with writer_lock(index_path):
        writer = IndexWriter.open(index_path, settings, embedder or make_embedder(settings.embed, settings.compute))
        if writer.index is None:
            raise DocumentNotFoundError(f"no index at {index_path}: apply a file with citations (a baseline) first")
        writer.commit(command=command, literature=literature)


def _check_index_path(index_path: str | Path) -> None:
    if not str(index_path).strip():
        raise ConfigError("the index path is empty; give a directory such as --index indexes/mine")


def remove(
    doc_ids: list[str],
    index_path: str | Path,
    settings: Settings,
    *,
    embedder: Embedder | None = None,
    command: str = "",
    wait: bool = False,
    literature: dict | None = None,
) -> RemoveReport:
    """Remove documents (by id, or by an alias id) from the index at `index_path`, atomically.

    Their chunks leave the dense and BM25 indexes; aliases that named them go too; the source files
    they came from are forgotten, so ingesting a file again reads it. An unknown id raises
    DocumentNotFoundError and nothing is written; removing every document is refused (ValueError:
    delete the directory instead). Takes the writer lock like `ingest` (IndexLockedError, `wait`).
    """
    _check_index_path(index_path)
    wanted = list(dict.fromkeys(doc_ids))
    if not wanted:
        raise ConfigError("no document ids given; name the ids to remove (see 'rag-oracle search' or the JSON output)")
    with writer_lock(index_path, wait=wait):
        embedder = embedder or make_embedder(settings.embed, settings.compute)
        writer = IndexWriter.open(index_path, settings, embedder)
        index = writer.index
        if index is None:
            raise DocumentNotFoundError(f"no index at {index_path}; nothing to remove")
        documents = [d for d in wanted if d in index.documents]
        aliases = [d for d in wanted if d not in index.documents and d in index.aliases]
        unknown = [d for d in wanted if d not in index.documents and d not in index.aliases]
        if unknown:
            raise DocumentNotFoundError(
                f"{len(unknown)} ids are not in {index_path}: {', '.join(unknown[:5])}; nothing was removed"
            )
        if len(documents) == len(index.documents):
            raise ConfigError(
                f"removing every document would leave {index_path} empty, and an index holds at least one "
                "chunk; nothing was removed. To delete the index, delete its directory."
            )
        sources = sorted(
            {index.documents[d].metadata.source_path for d in documents if index.documents[d].metadata.source_path}
        )
        writer.remove(documents)
        for alias in aliases:
            writer.remove_alias(alias)
        writer.drop_sources(sources)
        gone = set(documents)
        chunks_removed = index.count_chunks(gone)
        also_aliases = sorted(a for a, c in index.aliases.items() if c in gone)
        manifest = writer.commit(command=command, literature=literature)
    return RemoveReport(
        index_path=str(index_path),
        documents_removed=documents,
        aliases_removed=sorted({*aliases, *also_aliases}),
        chunks_removed=chunks_removed,
        sources_forgotten=sources,
        total_documents=manifest.counts["documents"],
        total_chunks=manifest.counts["chunks"],
    )


def _ingest(paths, index_path, settings, *, embedder, progress, command, literature=None) -> IngestReport:
    progress = progress or NullProgress()
    embedder = embedder or make_embedder(settings.embed, settings.compute)
    writer = IndexWriter.open(index_path, settings, embedder)
    existing = writer.index
    run = _Run.start(writer)
    seconds = {"read_chunk": 0.0, "embed": 0.0}

    file_reports: list[FileReport] = []
    found = list(walk(paths, follow_symlinks=settings.ingest.follow_symlinks))
    limits = Limits.from_settings(settings.ingest)
    timer = perf_counter()
    progress.start("read", len(found), "files")
    for done, entry in enumerate(found, start=1):
        path = entry.path
        if entry.skipped:
            file_reports.append(FileReport(path=str(path), status="skipped", reason=entry.skipped))
        else:
            file_report = _ingest_file(path, settings, embedder, run, limits)
            file_reports.append(file_report)
            # A file whose document was kept back (ingest.existing = keep) is not recorded as ingested:
            # the next run reads it again, says so again, and --replace can still take it.
            if file_report.status != "failed" and file_report.reason != UNCHANGED and str(path) not in run.kept_from:
                writer.add_source(str(path), file_report.sha256, file_report.documents)
        progress.advance(1, documents=len(run.added), chunks=run.chunks)
        if run.waiting_chunks >= FLUSH_CHUNKS and done < len(found):
            progress.finish()
            seconds["read_chunk"] += perf_counter() - timer
            timer = perf_counter()
            run.flush(embedder, progress)
            seconds["embed"] += perf_counter() - timer
            timer = perf_counter()
            progress.start("read", len(found), "files")  # the bar goes on where it stopped
            progress.advance(done, documents=len(run.added), chunks=run.chunks)
    progress.finish()
    seconds["read_chunk"] += perf_counter() - timer

    replaced = set(run.replaced)
    removed = run.removed
    totals = {
        "index_path": str(index_path),
        "files": file_reports,
        "documents_added": len(run.added) - len(replaced),
        "documents_replaced": len(replaced),
        "documents_removed": len(removed),
        "chunks_added": run.chunks,
        "chunks_removed": existing.count_chunks(run.dropped) if existing else 0,
        "tokens_added": sum(tokens for _, tokens in run.added.values()),
        "duplicates": sum(f.duplicates for f in file_reports),
    }
    nothing_new = not run.added and not removed and not run.new_aliases and not writer.changed
    if (nothing_new and not (literature and existing)) or (existing is None and not run.added):
        # no index is made without a chunk; a literature record (ingest/eutils.py, medline.py) is kept
        seconds.pop("embed")
        return IngestReport(
            **totals,
            total_documents=len(existing.documents) if existing else 0,
            total_chunks=len(existing.chunks) if existing else 0,
            seconds=seconds,
        )

    timer = perf_counter()
    run.flush(embedder, progress)
    seconds["embed"] += perf_counter() - timer
    embed_cache = dict(embedder.stats) if hasattr(embedder, "stats") else {}

    timer = perf_counter()
    # the documents whose statements the sentence store embeds after the commit (only if it is on)
    written = list(run.added) if settings.index.sentence_vectors else []
    for alias, canonical in run.new_aliases.items():
        writer.add_alias(alias, canonical)
    manifest = writer.commit(command=command, literature=literature)
    seconds["write"] = perf_counter() - timer
    if written:
        timer = perf_counter()
        _store_sentence_vectors(writer, written, progress)
        seconds["sentences"] = perf_counter() - timer
    return IngestReport(
        **totals,
        total_documents=manifest.counts["documents"],
        total_chunks=manifest.counts["chunks"],
        seconds=seconds,
        embed_cache=embed_cache,
    )


def _file_sha256(path: Path, limits: Limits) -> str:
    with open_regular(path, limits) as fh:  # a FIFO or device is refused, never read
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _ingest_file(path: Path, settings: Settings, embedder: Embedder, run: _Run, limits: Limits) -> FileReport:
    """Read, deduplicate and chunk one file into `run`; whatever goes wrong is this file's report only."""
    if not path.exists():
        return FileReport(path=str(path), status="failed", reason="no such file or directory")
    digest = ""
    try:
        limits.check_size(path)
        digest = _file_sha256(path, limits)
        if digest in run.file_digests:
            return FileReport(path=str(path), status="skipped", reason=UNCHANGED, sha256=digest)
        deadline = limits.deadline(path)
        result = loader_for(path, limits).load(path, limits=limits, deadline=deadline)
        return _stage_documents(path, result, settings, embedder, run, digest, deadline)
    except LoaderError as exc:
        status: IngestStatus = "skipped" if exc.reason in _SKIP_REASONS else "failed"
        reason = f"{exc.reason}: {str(exc).removeprefix(str(path) + ': ')}"
        report = FileReport(path=str(path), status=status, reason=reason, sha256=digest)
    except OSError as exc:
        report = FileReport(path=str(path), status="failed", reason=f"unreadable: {exc.strerror or exc}", sha256=digest)
    except MemoryError:
        report = FileReport(
            path=str(path),
            status="failed",
            reason="out of memory while reading it; lower ingest.max_file_mib or split the file",
            sha256=digest,
        )
    except Exception as exc:  # one file's surprise must not cost the other files their ingest
        report = FileReport(
            path=str(path),
            status="failed",
            reason=f"error: {type(exc).__name__}: {exc} (a bug in rag-oracle: please report it with the file)",
            sha256=digest,
        )
    return report


def _stage_documents(
    path: Path,
    result,
    settings: Settings,
    embedder: Embedder,
    run: _Run,
    digest: str,
    deadline: Deadline,
) -> FileReport:
    warnings = list(result.warnings)
    documents_in = result.documents
    if settings.ingest.licences == "commercial":
        documents_in = []
        for doc in result.documents:
            licence = doc.metadata.extra.get("licence")
            if doc.metadata.format == "jats" and not (isinstance(licence, dict) and licence.get("commercial")):
                name = licence.get("name") if isinstance(licence, dict) else "no licence stated"
                warnings.append(f"{doc.id}: licence {name} does not allow commercial reuse (ingest.licences); excluded")
            else:
                documents_in.append(doc)
    # Chunk every document first, so that a file that runs out of time stages nothing.
    prepared = []
    for doc in documents_in:
        deadline.check()
        if run.owners.get(doc.content_hash) is not None:
            prepared.append((doc, None))
        else:
            prepared.append((doc, chunk_document(doc, settings.chunk, embedder.count_tokens, deadline)))

    documents = chunk_count = duplicates = kept = 0
    keep_existing = settings.ingest.existing == "keep"
    for doc, chunks in prepared:
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
        if chunks is None:  # its text was a duplicate when chunking began, then replaced in this file
            chunks = chunk_document(doc, settings.chunk, embedder.count_tokens)
        if not chunks:
            warnings.append(f"{path}: document {doc.id} produced no text to index")
            continue
        if doc.id in run.hashes:
            earlier = run.read_from.get(doc.id)
            if keep_existing and not earlier:
                warnings.append(
                    f"{path}: document {doc.id} is already indexed with different text; kept the stored version "
                    "(ingest.existing = keep; use --replace to replace it)"
                )
                kept += 1
                run.kept_from.add(str(path))
                continue
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
    if documents:
        reason = ""
    elif kept:
        reason = f"{kept} documents already indexed with other text; kept the stored versions"
    else:
        reason = f"all {duplicates} documents already indexed" if duplicates else "no documents"
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


def _store_sentence_vectors(writer: IndexWriter, doc_ids: list[str], progress: Progress) -> None:
    """Embed the statements answers are composed from, once, into the index's sentence store
    (index/sentences.py), so a question embeds only itself, with each chunk's statements, so the
    reranker (retrieve/rerank.py) reads a chunk's without parsing its document. The documents are
    read back from the index just written, one at a time."""
    from rag_oracle.generate.extractive import candidate_texts, span_statement_texts

    index = writer.index
    documents = index.documents
    texts: dict[str, None] = {}
    chunks: dict[bytes, list[str]] = {}
    for doc_id, doc_chunks in index.document_chunks(doc_ids):
        doc = documents[doc_id]
        texts.update(dict.fromkeys(candidate_texts(doc)))
        spans = [(chunk.char_start, chunk.char_end) for chunk in doc_chunks]
        for (start, end), statements in zip(spans, span_statement_texts(doc, spans), strict=True):
            chunks[writer.sentence_chunk_key(doc, start, end)] = statements
    progress.start("sentences", len(texts), "sentences")
    writer.store_sentence_vectors(list(texts), progress.advance, chunks)
    progress.finish()


def _embed(chunks: list[Chunk], titles: dict[str, str], embedder: Embedder, progress: Progress) -> np.ndarray:
    progress.start("embed", len(chunks), "chunks")
    vectors = np.empty((len(chunks), embedder.dimension), dtype=np.float32)  # filled in place: one copy, not two
    tokens = 0
    for i in range(0, len(chunks), EMBED_BATCH):
        batch = chunks[i : i + EMBED_BATCH]
        part = np.asarray(embedder.embed_documents([embedding_text(titles[c.doc_id], c.text) for c in batch]))
        if part.shape != (len(batch), embedder.dimension):
            raise ValueError(f"expected {len(batch)} vectors of dimension {embedder.dimension}, got shape {part.shape}")
        vectors[i : i + len(batch)] = part
        tokens += sum(c.token_count for c in batch)
        progress.advance(len(batch), tokens=tokens)
    progress.finish()
    return vectors
