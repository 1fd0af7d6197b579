"""The documents and chunks of one generation, read on demand instead of all at open.

Schema 2 keeps them in `store.sqlite`, an SQLite database the writer (index/writer.py) builds in
its build directory and nobody changes afterwards::

    documents(pos INTEGER PRIMARY KEY, id, title, content_hash, info)
        pos      0, 1, … in document order (the order of `Index.documents`)
        info     the document's DocumentInfo as JSON (what a hit shows)
    document_json(pos INTEGER PRIMARY KEY, json)
        the Document as JSON (its full text), apart so that scans of documents stay small
    chunks(pos INTEGER PRIMARY KEY, id, doc_pos, json)
        pos      FAISS vector `pos` and BM25 row `pos`
        doc_pos  documents.pos of its document
        json     the Chunk as JSON
    facts(id INTEGER PRIMARY KEY, json)
        each distinct JSON [year, publication_types, format, source, source_path]: what
        `Filters.accepts` reads, so a filter mask never reads a document
    arrays(name TEXT PRIMARY KEY, data)
        little-endian int32 arrays: "chunk_doc_positions" (chunks.doc_pos in chunk order) and
        "document_facts" (each document's facts.id), read with one query, not a scan
    unique indexes on documents(id) and chunks(id), made after the rows

Readers open it read-only and immutable (`?mode=ro&immutable=1`): a published generation never
changes, so SQLite takes no locks and writes no journal, and nothing is created beside it. Each
query borrows a connection of its own from a small per-process pool (`ReadConnections`) and is
fetched whole before the connection goes back (a thread never holds one between two batches of
an iteration). One connection shared under a lock was a convoy in the server: SQLite runs a
query with the GIL released, so the thread holding the lock then waited for the GIL (up to the
5 ms switch interval) while every other reader queued on the lock. The first connection is
opened with the index, so an index whose generation a writer prunes later keeps answering from
the connections it has; a forked child opens its own. Recently read chunks, documents, document
infos and which ids exist are kept in small LRU caches (read without a lock), so a long-running
server does not grow with what it has shown.

Schema 1 generations (documents.jsonl + chunks.jsonl, one JSON record a line) are still read,
eagerly, into a dict and a list behind the same interface (`JsonlStore`); the next commit writes
them as schema 2.

Damage (a file that is not a database, a malformed page, a row that does not parse or is
missing) raises IndexCorruptError naming the file and saying to rebuild, never a raw sqlite3
or pydantic error.
"""

from __future__ import annotations

import errno
import json
import os
import queue
import sqlite3
import threading
from array import array
from collections import OrderedDict
from collections.abc import Callable, ItemsView, Iterable, Iterator, Mapping, Sequence, ValuesView
from functools import lru_cache
from pathlib import Path

import numpy as np
from pydantic import ValidationError

from rag_oracle.errors import IndexCorruptError
from rag_oracle.types import Chunk, Document, DocumentInfo, DocumentMetadata

STORE = "store.sqlite"
DOCUMENTS_JSONL = "documents.jsonl"
CHUNKS_JSONL = "chunks.jsonl"

BATCH = 1000  # rows a query fetches while iterating
CHUNK_CACHE = 4096
DOCUMENT_CACHE = 128  # documents hold their full text
INFO_CACHE = 4096
_IN_PARAMS = 500  # ids per `IN (…)` query
MAX_CONNECTIONS = 16  # per store and process: queries in flight at once; more wait for a connection


def damaged(index_path: Path, name: str, detail: str) -> IndexCorruptError:
    return IndexCorruptError(
        f"{index_path}: {name} is damaged ({detail}); run 'rag-oracle index verify {index_path}', then rebuild it"
    )


def read_records(file: Path, model, index_path: Path) -> list:
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
                    raise damaged(index_path, f"{file.name} line {lineno}", detail) from None
    except OSError as exc:
        raise damaged(index_path, file.name, exc.strerror or str(exc)) from None
    return records


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


def facts_json(meta: DocumentMetadata) -> str:
    return json.dumps(
        [meta.year, list(meta.publication_types), meta.format, meta.source, meta.source_path],
        ensure_ascii=False,
        separators=(",", ":"),
    )


class FilterFacts:
    """What `Filters.accepts` reads of a document, standing in for the Document (`.metadata` is
    itself), so filters keep their one definition (types.py) and never need a document's text."""

    __slots__ = ("format", "publication_types", "source", "source_path", "year")

    def __init__(self, year, publication_types, format, source, source_path) -> None:
        self.year = year
        self.publication_types = publication_types
        self.format = format
        self.source = source
        self.source_path = source_path

    @property
    def metadata(self) -> FilterFacts:
        return self

    @classmethod
    def from_json(cls, text: str) -> FilterFacts:
        year, types, fmt, source, source_path = json.loads(text)
        return cls(year, list(types), fmt, source, source_path)


DocumentRow = tuple[str, str, str, str, str, str]  # id, title, content_hash, facts, info, json


def document_row(doc: Document) -> DocumentRow:
    """The columns of `doc` in store.sqlite's documents table (after pos)."""
    return (
        doc.id,
        doc.title,
        doc.content_hash,
        facts_json(doc.metadata),
        document_info(doc).model_dump_json(),
        doc.model_dump_json(),
    )


# --- caches ---------------------------------------------------------------------------------------


class _Lru:
    """A bounded, thread-safe least-recently-used cache (functools.lru_cache cannot be filled by a
    batch read).

    Reads take no lock: each OrderedDict call is atomic under the GIL (the keys are str and int),
    and a key evicted between the read and its refresh only loses the refresh. Reads under the
    lock were a convoy under load (an answer makes ~120): a thread preempted by the GIL while it
    held the lock kept every other reader waiting until its next turn. Writers still take the
    lock, so evictions do not interleave."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        items = self._items
        value = items.get(key, _MISSING)
        if value is not _MISSING:
            try:
                items.move_to_end(key)
            except KeyError:  # evicted meanwhile
                pass
        return value

    def put(self, key, value) -> None:
        self.put_many(((key, value),))

    def get_many(self, keys: Iterable) -> dict:
        """The cached ones of `keys` (key -> value)."""
        found = {}
        for key in keys:
            value = self.get(key)
            if value is not _MISSING:
                found[key] = value
        return found

    def put_many(self, pairs: Iterable[tuple]) -> None:
        with self._lock:
            items = self._items
            for key, value in pairs:
                items[key] = value
                items.move_to_end(key)
            while len(items) > self.size:
                items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)


_MISSING = object()


class ReadConnections:
    """Read-only connections to one immutable store.sqlite, lent one per query (`take`, `give`).

    Up to `limit` are opened, on demand; when all are lent out, a query waits for one to come
    back. `open_one` raises IndexCorruptError when the file cannot be opened: for the first
    connection that is the caller's error; later it means the generation was pruned since (an
    open file outlives its directory entry, a new connection does not), so the pool stops growing
    and makes do with the connections it has. Connections belong to the process that opened them
    (`pid`): a forked child makes a pool of its own.

    Example::

        pool = ReadConnections(lambda: sqlite3.connect(uri, uri=True, check_same_thread=False), limit=4)
        conn = pool.take()
        try:
            rows = conn.execute("SELECT 1").fetchall()
        finally:
            pool.give(conn)
    """

    def __init__(self, open_one: Callable[[], sqlite3.Connection], limit: int) -> None:
        self.pid = os.getpid()
        self._open = open_one
        self._limit = max(1, limit)
        self._idle: queue.SimpleQueue[sqlite3.Connection] = queue.SimpleQueue()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()  # guards _all and _growing
        self._growing = True
        self._idle.put(self._new())

    def __len__(self) -> int:
        """How many connections are open."""
        return len(self._all)

    def _new(self) -> sqlite3.Connection:
        conn = self._open()
        self._all.append(conn)
        return conn

    def take(self) -> sqlite3.Connection:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            pass
        with self._lock:
            if self._growing and len(self._all) < self._limit:
                try:
                    return self._new()
                except IndexCorruptError:
                    self._growing = False
        return self._idle.get()

    def give(self, conn: sqlite3.Connection) -> None:
        self._idle.put(conn)

    def close(self) -> None:
        """Close every connection (one still lent out fails its query with ProgrammingError)."""
        with self._lock:
            self._growing = False
            for conn in self._all:
                conn.close()


# --- the two backends ------------------------------------------------------------------------------


class _Store:
    """What `Index` asks of its documents and chunks, whichever file format holds them."""

    documents: Mapping[str, Document]
    chunks: Sequence[Chunk]

    def __init__(self) -> None:
        self._once = threading.Lock()
        self._doc_positions: np.ndarray | None = None
        self._facts: tuple[np.ndarray, list[str], list[FilterFacts]] | None = None

    # Subclasses provide these.
    def info(self, doc_id: str) -> DocumentInfo:
        raise NotImplementedError

    def position(self, chunk_id: str) -> int:
        raise NotImplementedError

    def document_positions(self, doc_ids: Iterable[str]) -> np.ndarray:
        raise NotImplementedError

    def content_hashes(self) -> dict[str, str]:
        raise NotImplementedError

    def document_rows(self) -> Iterator[DocumentRow]:
        raise NotImplementedError

    def chunk_records(self) -> Iterator[tuple[str, Chunk, str]]:
        raise NotImplementedError

    def problems(self, counts: dict[str, int]) -> list[str]:
        raise NotImplementedError

    def _read_doc_positions(self) -> np.ndarray:
        raise NotImplementedError

    def _read_facts(self) -> tuple[np.ndarray, list[str]]:
        """(each document's index into the distinct facts, the distinct facts as JSON)."""
        raise NotImplementedError

    def close(self) -> None:
        pass

    def chunks_and_infos(self, positions: Iterable[int]) -> list[tuple[Chunk, DocumentInfo]]:
        """(chunk, its document's info) at each of these positions, in the order given."""
        chunks = self.chunks
        found = [chunks[p] for p in positions]
        return [(c, self.info(c.doc_id)) for c in found]

    # Shared.
    def chunk_doc_positions(self) -> np.ndarray:
        """For each chunk, the position of its document (read once, without reading chunks)."""
        if self._doc_positions is None:
            with self._once:
                if self._doc_positions is None:
                    positions = self._read_doc_positions()
                    positions.setflags(write=False)
                    self._doc_positions = positions
        return self._doc_positions

    def facts(self) -> tuple[np.ndarray, list[str], list[FilterFacts]]:
        """(each document's index into the distinct facts, their JSON, their FilterFacts); read once."""
        if self._facts is None:
            with self._once:
                if self._facts is None:
                    ids, texts = self._read_facts()
                    ids.setflags(write=False)
                    self._facts = ids, texts, [self._parse_facts(i, text) for i, text in enumerate(texts)]
        return self._facts

    def _parse_facts(self, i: int, text: str) -> FilterFacts:
        return FilterFacts.from_json(text)

    def document_mask(self, filters) -> np.ndarray:
        """Whether `filters.accepts` each document, by position, without reading documents: each
        distinct combination of what filters read (year, types, format, source, path) is judged once."""
        ids, _, facts = self.facts()
        accepted = np.fromiter((filters.accepts(f) for f in facts), dtype=bool, count=len(facts))
        return accepted[ids] if len(ids) else np.zeros(0, dtype=bool)

    def count_chunks(self, doc_ids: Iterable[str]) -> int:
        """How many chunks these documents have (unknown ids count 0)."""
        positions = self.document_positions(doc_ids)
        if not len(positions):
            return 0
        return int(np.isin(self.chunk_doc_positions(), positions).sum())


class SqliteStore(_Store):
    """Documents and chunks of a schema-2 generation, read from store.sqlite on demand."""

    def __init__(self, snapshot: Path, index_path: Path) -> None:
        super().__init__()
        self.file = Path(snapshot) / STORE
        self.index_path = index_path
        self._lock = threading.Lock()  # guards _pool and _closed
        self._pool: ReadConnections | None = None
        self._closed = False
        # Opened now, not on first use: the generation may be pruned later while this reader still
        # answers from it (an open file outlives its directory entry).
        self._connections()
        try:
            ((last_doc, last_chunk),) = self._rows(
                "SELECT (SELECT MAX(pos) FROM documents), (SELECT MAX(pos) FROM chunks)"
            )
        except BaseException:
            self.close()
            raise
        self.documents = LazyDocuments(self, 0 if last_doc is None else last_doc + 1)
        self.chunks = LazyChunks(self, 0 if last_chunk is None else last_chunk + 1)
        self._chunks = _Lru(CHUNK_CACHE)  # pos -> Chunk
        self._documents = _Lru(DOCUMENT_CACHE)  # id -> Document
        self._infos = _Lru(INFO_CACHE)  # id -> DocumentInfo
        self._positions = _Lru(INFO_CACHE)  # chunk id -> pos
        self._known = _Lru(INFO_CACHE)  # document id -> whether the generation has it

    def __repr__(self) -> str:
        return f"SqliteStore({str(self.file)!r}, documents={len(self.documents)}, chunks={len(self.chunks)})"

    # --- SQL ---------------------------------------------------------------------------------------

    def damaged(self, detail: str) -> IndexCorruptError:
        return damaged(self.index_path, STORE, detail)

    def _open_connection(self) -> sqlite3.Connection:
        uri = f"{self.file.absolute().as_uri()}?mode=ro&immutable=1"
        try:
            # Lent to whichever thread queries next, hence check_same_thread=False.
            return sqlite3.connect(uri, uri=True, check_same_thread=False)
        except sqlite3.Error as exc:
            raise self.damaged(str(exc)) from None

    def _connections(self) -> ReadConnections:
        """This process's pool of connections; a forked child opens its own."""
        pool = self._pool
        if pool is not None and pool.pid == os.getpid() and not self._closed:
            return pool
        with self._lock:
            if self._closed:
                raise ValueError(f"{self.file} was closed")
            if self._pool is None or self._pool.pid != os.getpid():
                # A parent's connections are dropped in the child, never used.
                self._pool = ReadConnections(self._open_connection, MAX_CONNECTIONS)
            return self._pool

    def _rows(self, sql: str, params: Sequence[object] = ()) -> list[tuple]:
        pool = self._connections()
        conn = pool.take()
        try:
            return conn.execute(sql, params).fetchall()
        except sqlite3.ProgrammingError:
            if self._closed:  # closed by another thread while this query waited for a connection
                raise ValueError(f"{self.file} was closed") from None
            raise
        except sqlite3.DatabaseError as exc:  # not a database, malformed, no such table, bad UTF-8
            raise self.damaged(str(exc)) from None
        finally:
            pool.give(conn)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if self._pool is not None and self._pool.pid == os.getpid():
                self._pool.close()
            self._pool = None

    def _parse(self, model, text, what: str):
        try:
            return model.model_validate_json(text)
        except (ValidationError, ValueError, TypeError) as exc:
            detail = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
            raise self.damaged(f"{what}: {detail}") from None

    def _range(self, sql: str, start: int, stop: int, what: str) -> Iterator[tuple]:
        """Rows with pos in [start, stop), in order, BATCH at a time; a gap is damage.
        `sql` selects pos first and has `?` for the bounds."""
        pos = start
        while pos < stop:
            end = min(pos + BATCH, stop)
            rows = self._rows(sql, (pos, end))
            for row in rows:
                if row[0] != pos:
                    raise self.damaged(f"{what} row {pos} is missing")
                yield row
                pos += 1
            if pos < end:
                raise self.damaged(f"{what} row {pos} is missing")

    # --- reads (cached) ----------------------------------------------------------------------------

    def _read_chunk(self, pos: int) -> Chunk:
        rows = self._rows("SELECT json FROM chunks WHERE pos = ?", (pos,))
        if not rows:
            raise self.damaged(f"chunk row {pos} is missing")
        return self._parse(Chunk, rows[0][0], f"chunk row {pos}")

    def _read_document(self, doc_id: str) -> Document:
        rows = self._rows(
            "SELECT d.pos, j.json FROM documents d LEFT JOIN document_json j ON j.pos = d.pos WHERE d.id = ?", (doc_id,)
        )
        if not rows:
            raise KeyError(doc_id)
        if rows[0][1] is None:
            raise self.damaged(f"the text of document {doc_id} (row {rows[0][0]}) is missing")
        return self._parse(Document, rows[0][1], f"document {doc_id}")

    def _read_info(self, doc_id: str) -> DocumentInfo:
        rows = self._rows("SELECT info FROM documents WHERE id = ?", (doc_id,))
        if not rows:
            raise KeyError(doc_id)
        return self._parse(DocumentInfo, rows[0][0], f"document {doc_id}")

    def _read_position(self, chunk_id: str) -> int:
        rows = self._rows("SELECT pos FROM chunks WHERE id = ?", (chunk_id,))
        if not rows:
            raise KeyError(chunk_id)
        return int(rows[0][0])

    def _cached(self, cache: _Lru, key, read):
        value = cache.get(key)
        if value is _MISSING:
            value = read(key)
            cache.put(key, value)
        return value

    def chunk(self, pos: int) -> Chunk:
        return self._cached(self._chunks, pos, self._read_chunk)

    def document(self, doc_id: str) -> Document:
        if not isinstance(doc_id, str):
            raise KeyError(doc_id)
        return self._cached(self._documents, doc_id, self._read_document)

    def _read_known(self, doc_id: str) -> bool:
        if self._documents.get(doc_id) is not _MISSING or self._infos.get(doc_id) is not _MISSING:
            return True
        return bool(self._rows("SELECT 1 FROM documents WHERE id = ?", (doc_id,)))

    def has_document(self, doc_id: str) -> bool:
        # Cached, unknown ids too (a generation never changes): an answer asks ~30 times.
        return isinstance(doc_id, str) and self._cached(self._known, doc_id, self._read_known)

    def info(self, doc_id: str) -> DocumentInfo:
        if not isinstance(doc_id, str):
            raise KeyError(doc_id)
        return self._cached(self._infos, doc_id, self._read_info)

    def position(self, chunk_id: str) -> int:
        if not isinstance(chunk_id, str):
            raise KeyError(chunk_id)
        return self._cached(self._positions, chunk_id, self._read_position)

    def chunks_and_infos(self, positions: Iterable[int]) -> list[tuple[Chunk, DocumentInfo]]:
        """(chunk, its document's info) at each of these positions, in the order given: what is
        not cached is read with one query a _IN_PARAMS positions (a search's hits)."""
        n = len(self.chunks)
        wanted = []
        for p in positions:
            pos = p.__index__()
            if not -n <= pos < n:
                raise IndexError(f"chunk position {p} out of range (0..{n - 1})")
            wanted.append(pos + n if pos < 0 else pos)
        chunks = self._chunks.get_many(wanted)
        infos = self._infos.get_many({c.doc_id for c in chunks.values()})
        missing = [p for p in dict.fromkeys(wanted) if p not in chunks or chunks[p].doc_id not in infos]
        new_chunks, new_infos = [], []
        for i in range(0, len(missing), _IN_PARAMS):
            part = missing[i : i + _IN_PARAMS]
            sql = (
                "SELECT c.pos, c.json, d.id, d.info FROM chunks c JOIN documents d ON d.pos = c.doc_pos "
                f"WHERE c.pos IN ({','.join('?' * len(part))})"
            )
            for pos, text, doc_id, info_text in self._rows(sql, part):
                if pos not in chunks:
                    chunks[pos] = self._parse(Chunk, text, f"chunk row {pos}")
                    new_chunks.append((pos, chunks[pos]))
                if doc_id not in infos:
                    infos[doc_id] = self._parse(DocumentInfo, info_text, f"document {doc_id}")
                    new_infos.append((doc_id, infos[doc_id]))
        self._chunks.put_many(new_chunks)
        self._infos.put_many(new_infos)
        result = []
        for pos in wanted:
            chunk = chunks.get(pos)
            info = infos.get(chunk.doc_id) if chunk is not None else None
            if info is None or info.id != chunk.doc_id:
                raise self.damaged(f"chunk row {pos} or its document is missing")
            result.append((chunk, info))
        return result

    # --- streams (not cached) ----------------------------------------------------------------------

    def iter_chunks(self, start: int, stop: int) -> Iterator[Chunk]:
        sql = "SELECT pos, json FROM chunks WHERE pos >= ? AND pos < ? ORDER BY pos"
        for pos, text in self._range(sql, start, stop, "chunk"):
            yield self._parse(Chunk, text, f"chunk row {pos}")

    def iter_document_ids(self) -> Iterator[str]:
        sql = "SELECT pos, id FROM documents WHERE pos >= ? AND pos < ? ORDER BY pos"
        for _, doc_id in self._range(sql, 0, len(self.documents), "document"):
            yield doc_id

    def iter_documents(self) -> Iterator[Document]:
        sql = "SELECT pos, json FROM document_json WHERE pos >= ? AND pos < ? ORDER BY pos"
        for pos, text in self._range(sql, 0, len(self.documents), "document"):
            yield self._parse(Document, text, f"document row {pos}")

    def document_rows(self) -> Iterator[DocumentRow]:
        ids, texts, _ = self.facts()
        sql = (
            "SELECT d.pos, d.id, d.title, d.content_hash, d.info, j.json FROM documents d "
            "JOIN document_json j ON j.pos = d.pos WHERE d.pos >= ? AND d.pos < ? ORDER BY d.pos"
        )
        for pos, doc_id, title, digest, info, text in self._range(sql, 0, len(self.documents), "document"):
            yield doc_id, title, digest, texts[ids[pos]], info, text

    def chunk_records(self) -> Iterator[tuple[str, Chunk, str]]:
        """(JSON as stored, Chunk, its document's title) of every chunk, in position order."""
        sql = (
            "SELECT c.pos, c.json, d.title FROM chunks c JOIN documents d ON d.pos = c.doc_pos "
            "WHERE c.pos >= ? AND c.pos < ? ORDER BY c.pos"
        )
        for pos, text, title in self._range(sql, 0, len(self.chunks), "chunk"):
            yield text, self._parse(Chunk, text, f"chunk row {pos}"), title

    def document_positions(self, doc_ids: Iterable[str]) -> np.ndarray:
        ids = list(doc_ids)
        found: list[int] = []
        for i in range(0, len(ids), _IN_PARAMS):
            part = ids[i : i + _IN_PARAMS]
            sql = f"SELECT pos FROM documents WHERE id IN ({','.join('?' * len(part))})"
            found.extend(row[0] for row in self._rows(sql, part))
        return np.array(sorted(found), dtype=np.int64)

    def content_hashes(self) -> dict[str, str]:
        sql = "SELECT pos, id, content_hash FROM documents WHERE pos >= ? AND pos < ? ORDER BY pos"
        return {doc_id: digest for _, doc_id, digest in self._range(sql, 0, len(self.documents), "document")}

    def _array(self, name: str, length: int) -> np.ndarray:
        rows = self._rows("SELECT data FROM arrays WHERE name = ?", (name,))
        if not rows or not isinstance(rows[0][0], bytes) or len(rows[0][0]) != 4 * length:
            raise self.damaged(f"its {name} array is missing or has the wrong length")
        return np.frombuffer(rows[0][0], dtype="<i4").astype(np.int64)

    def _read_doc_positions(self) -> np.ndarray:
        positions = self._array("chunk_doc_positions", len(self.chunks))
        if len(positions) and not (0 <= positions.min() and positions.max() < len(self.documents)):
            raise self.damaged("a chunk's document position is out of range")
        return positions

    def _read_facts(self) -> tuple[np.ndarray, list[str]]:
        ids = self._array("document_facts", len(self.documents))
        texts = [text for _, text in self._rows("SELECT id, json FROM facts ORDER BY id")]
        if len(ids) and not (0 <= ids.min() and ids.max() < len(texts)):
            raise self.damaged("a document's facts are missing")
        return ids, texts

    def _parse_facts(self, i: int, text: str) -> FilterFacts:
        try:
            return FilterFacts.from_json(text)
        except (ValueError, TypeError) as exc:
            raise self.damaged(f"facts row {i}: {exc}") from None

    # --- verification ------------------------------------------------------------------------------

    def problems(self, counts: dict[str, int]) -> list[str]:
        """Structural damage (SQLite's integrity check), rows missing or disagreeing with the
        manifest's counts, and chunks that do not match their documents."""
        check = [row[0] for row in self._rows("PRAGMA integrity_check(5)")]
        if check != ["ok"]:
            found = [line.strip() for text in check for line in str(text).splitlines()]
            found = [line for line in found if line and not line.startswith("***")]
            return [f"{STORE} is damaged ({'; '.join(found[:3])}); rebuild the index"]
        problems = []
        ((n_docs, n_texts, n_chunks),) = self._rows(
            "SELECT (SELECT COUNT(*) FROM documents), (SELECT COUNT(*) FROM document_json), (SELECT COUNT(*) FROM chunks)"
        )
        for what, rows, held in (
            ("chunks", n_chunks, len(self.chunks)),
            ("documents", n_docs, len(self.documents)),
            ("document texts", n_texts, len(self.documents)),
        ):
            if rows != held:
                problems.append(f"{STORE}: {held - rows} {what} rows are missing; rebuild the index")
            if what != "document texts" and counts.get(what) != rows:
                problems.append(f"{STORE} has {rows} {what}, manifest says {counts.get(what)}")
        if problems:
            return problems
        column = self._rows("SELECT doc_pos FROM chunks ORDER BY pos")
        if [row[0] for row in column] != self.chunk_doc_positions().tolist():
            problems.append(f"{STORE}: the chunk_doc_positions array disagrees with the chunks; rebuild the index")
        fact_ids, fact_texts, _ = self.facts()
        sql = (
            "SELECT d.pos, d.id, d.info, j.json FROM documents d JOIN document_json j ON j.pos = d.pos "
            "WHERE d.pos >= ? AND d.pos < ? ORDER BY d.pos"
        )
        for pos, doc_id, info, text in self._range(sql, 0, len(self.documents), "document"):
            doc = self._parse(Document, text, f"document row {pos}")  # what is stored beside it agrees with it
            if doc.id != doc_id:
                problems.append(f"document row {pos}: its id {doc_id} disagrees with its text's {doc.id}")
            elif fact_texts[fact_ids[pos]] != facts_json(doc.metadata):
                problems.append(f"document {doc_id}: its stored filter facts disagree with the document")
            elif self._parse(DocumentInfo, info, f"document {doc_id}") != document_info(doc):
                problems.append(f"document {doc_id}: its stored info disagrees with the document")
        sql = (
            "SELECT c.pos, c.json, d.id FROM chunks c LEFT JOIN documents d ON d.pos = c.doc_pos "
            "WHERE c.pos >= ? AND c.pos < ? ORDER BY c.pos"
        )
        for pos, text, doc_id in self._range(sql, 0, len(self.chunks), "chunk"):
            chunk = self._parse(Chunk, text, f"chunk row {pos}")
            if doc_id is None or doc_id != chunk.doc_id:
                problems.append(f"chunk {chunk.id}: its document position does not hold {chunk.doc_id}")
                continue
            doc = self.document(doc_id)
            if doc.text[chunk.char_start : chunk.char_end] != chunk.text:
                problems.append(f"chunk {chunk.id}: text does not match its document offsets")
        return problems


class JsonlStore(_Store):
    """Documents and chunks of a schema-1 generation: documents.jsonl and chunks.jsonl, read whole."""

    def __init__(self, snapshot: Path, index_path: Path) -> None:
        super().__init__()
        self.documents: dict[str, Document] = {
            d.id: d for d in read_records(Path(snapshot) / DOCUMENTS_JSONL, Document, index_path)
        }
        self.chunks: list[Chunk] = read_records(Path(snapshot) / CHUNKS_JSONL, Chunk, index_path)
        self._positions: dict[str, int] | None = None
        self._info = lru_cache(maxsize=INFO_CACHE)(lambda doc_id: document_info(self.documents[doc_id]))

    def __repr__(self) -> str:
        return f"JsonlStore(documents={len(self.documents)}, chunks={len(self.chunks)})"

    def info(self, doc_id: str) -> DocumentInfo:
        return self._info(doc_id)

    def position(self, chunk_id: str) -> int:
        if self._positions is None:
            self._positions = {c.id: i for i, c in enumerate(self.chunks)}
        return self._positions[chunk_id]

    def _order(self) -> dict[str, int]:
        return {doc_id: i for i, doc_id in enumerate(self.documents)}

    def document_positions(self, doc_ids: Iterable[str]) -> np.ndarray:
        order = self._order()
        return np.array(sorted(order[d] for d in set(doc_ids) if d in order), dtype=np.int64)

    def content_hashes(self) -> dict[str, str]:
        return {d.id: d.content_hash for d in self.documents.values()}

    def document_rows(self) -> Iterator[DocumentRow]:
        return (document_row(d) for d in self.documents.values())

    def chunk_records(self) -> Iterator[tuple[str, Chunk, str]]:
        return ((c.model_dump_json(), c, self.documents[c.doc_id].title) for c in self.chunks)

    def _read_doc_positions(self) -> np.ndarray:
        order = self._order()
        return np.fromiter((order[c.doc_id] for c in self.chunks), dtype=np.int64, count=len(self.chunks))

    def _read_facts(self) -> tuple[np.ndarray, list[str]]:
        distinct: dict[str, int] = {}
        ids = np.fromiter(
            (distinct.setdefault(facts_json(d.metadata), len(distinct)) for d in self.documents.values()),
            dtype=np.int64,
            count=len(self.documents),
        )
        return ids, list(distinct)

    def problems(self, counts: dict[str, int]) -> list[str]:
        problems = []
        if counts.get("chunks") != len(self.chunks):
            problems.append(f"{CHUNKS_JSONL} has {len(self.chunks)} chunks, manifest says {counts.get('chunks')}")
        if counts.get("documents") != len(self.documents):
            problems.append(f"{DOCUMENTS_JSONL} has {len(self.documents)}, manifest says {counts.get('documents')}")
        for chunk in self.chunks:
            doc = self.documents.get(chunk.doc_id)
            if doc is None:
                problems.append(f"chunk {chunk.id} points at missing document {chunk.doc_id}")
            elif doc.text[chunk.char_start : chunk.char_end] != chunk.text:
                problems.append(f"chunk {chunk.id}: text does not match its document offsets")
        return problems


# --- the lazy collections ------------------------------------------------------------------------


class LazyDocuments(Mapping[str, Document]):
    """`Index.documents` of store.sqlite: a read-only Mapping doc id -> Document, in document order.

    `len()` costs nothing, `[id]`, `get` and `in` read one row (recent documents are cached),
    iterating (keys, values, items) streams the rows in order, BATCH at a time."""

    def __init__(self, store: SqliteStore, count: int) -> None:
        self._store = store
        self._count = count

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, doc_id: str) -> Document:
        return self._store.document(doc_id)

    def __contains__(self, doc_id: object) -> bool:
        return self._store.has_document(doc_id)  # type: ignore[arg-type]

    def __iter__(self) -> Iterator[str]:
        return self._store.iter_document_ids()

    def values(self):
        return _Values(self)

    def items(self):
        return _Items(self)

    def __repr__(self) -> str:
        return f"<LazyDocuments: {self._count} documents in {self._store.file}>"


class _Values(ValuesView):
    """`LazyDocuments.values()`: streams the documents in order instead of one query per key."""

    def __iter__(self) -> Iterator[Document]:
        return self._mapping._store.iter_documents()

    def __contains__(self, value: object) -> bool:
        return isinstance(value, Document) and self._mapping.get(value.id) == value


class _Items(ItemsView):
    """`LazyDocuments.items()`: streams (id, document) in order."""

    def __iter__(self) -> Iterator[tuple[str, Document]]:
        return ((d.id, d) for d in self._mapping._store.iter_documents())


class LazyChunks(Sequence[Chunk]):
    """`Index.chunks` of store.sqlite: a read-only Sequence of Chunk, chunk i being FAISS vector i.

    `len()` costs nothing, `[i]` reads one row (recent chunks are cached), a slice reads its
    range, iterating streams the rows in order, BATCH at a time. Equal to a list of the same chunks."""

    def __init__(self, store: SqliteStore, count: int) -> None:
        self._store = store
        self._count = count

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, i):
        if isinstance(i, slice):
            start, stop, step = i.indices(self._count)
            if step == 1:
                return list(self._store.iter_chunks(start, stop)) if start < stop else []
            return [self._store.chunk(p) for p in range(start, stop, step)]
        try:
            pos = i.__index__()
        except AttributeError:
            raise TypeError(f"chunk indices must be integers or slices, not {type(i).__name__}") from None
        if pos < 0:
            pos += self._count
        if not 0 <= pos < self._count:
            raise IndexError(f"chunk position {i} out of range (0..{self._count - 1})")
        return self._store.chunk(pos)

    def __iter__(self) -> Iterator[Chunk]:
        return self._store.iter_chunks(0, self._count)

    def __contains__(self, value: object) -> bool:
        if not isinstance(value, Chunk):
            return False
        try:
            return self[self._store.position(value.id)] == value
        except KeyError:
            return False

    def index(self, value, start: int = 0, stop: int | None = None) -> int:
        if isinstance(value, Chunk):
            try:
                pos = self._store.position(value.id)
            except KeyError:
                pos = -1
            if pos >= 0 and start <= pos < (self._count if stop is None else stop) and self[pos] == value:
                return pos
        raise ValueError(f"{value!r} is not in the index's chunks")

    def count(self, value) -> int:
        return int(value in self)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, LazyChunks) and other._store is self._store:
            return True
        if not isinstance(other, Sequence) or isinstance(other, str | bytes):
            return NotImplemented
        return len(other) == self._count and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<LazyChunks: {self._count} chunks in {self._store.file}>"


# --- writing ---------------------------------------------------------------------------------------


_SCHEMA = (
    "CREATE TABLE documents (pos INTEGER PRIMARY KEY, id TEXT NOT NULL, title TEXT NOT NULL, "
    "content_hash TEXT NOT NULL, info TEXT NOT NULL)",
    "CREATE TABLE document_json (pos INTEGER PRIMARY KEY, json TEXT NOT NULL)",
    "CREATE TABLE chunks (pos INTEGER PRIMARY KEY, id TEXT NOT NULL, doc_pos INTEGER NOT NULL, json TEXT NOT NULL)",
    "CREATE TABLE facts (id INTEGER PRIMARY KEY, json TEXT NOT NULL)",
    "CREATE TABLE arrays (name TEXT PRIMARY KEY, data BLOB NOT NULL)",
)
_INDEXES = (
    "CREATE UNIQUE INDEX documents_id ON documents (id)",
    "CREATE UNIQUE INDEX chunks_id ON chunks (id)",
)


def _os_error(exc: sqlite3.Error, file: Path) -> OSError:
    """An SQLite write failure as the OSError the writer reports (a full disk, a read-only folder)."""
    text = str(exc)
    code = errno.ENOSPC if "full" in text else errno.EROFS if "readonly" in text else errno.EIO
    return OSError(code, f"{os.strerror(code)} ({text})", str(file))


class StoreWriter:
    """Builds store.sqlite in a build directory: rows appended in position order, in one
    transaction without a journal (a failed build is thrown away whole), indexes made at the end.

    Example::

        out = StoreWriter(tmp / STORE)
        doc_pos = out.add_document(document_row(doc))
        out.add_chunk(chunk.id, doc_pos, chunk.model_dump_json())
        out.finish()
    """

    def __init__(self, file: Path) -> None:
        self.file = Path(file)
        self.documents = 0
        self.chunks = 0
        self._doc_rows: list[tuple] = []
        self._text_rows: list[tuple] = []
        self._chunk_rows: list[tuple] = []
        self._facts: dict[str, int] = {}  # facts JSON -> facts.id
        self._doc_facts = array("i")  # facts.id of each document
        self._chunk_docs = array("i")  # doc_pos of each chunk
        try:
            self._conn = sqlite3.connect(self.file, isolation_level=None)
            # 8 KiB pages hold a few document rows each (less slack than 4 KiB, ~13% smaller files).
            pragmas = (
                "page_size=8192",
                "journal_mode=OFF",
                "synchronous=OFF",
                "temp_store=MEMORY",
                "cache_size=-65536",
            )
            for pragma in pragmas:
                self._conn.execute(f"PRAGMA {pragma}")
            self._conn.execute("BEGIN")
            for statement in _SCHEMA:
                self._conn.execute(statement)
        except sqlite3.Error as exc:
            raise _os_error(exc, self.file) from None

    def add_document(self, row: DocumentRow) -> int:
        """Append a document (`document_row`); returns its position."""
        doc_id, title, digest, facts, info, text = row
        pos = self.documents
        self._doc_rows.append((pos, doc_id, title, digest, info))
        self._text_rows.append((pos, text))
        self._doc_facts.append(self._facts.setdefault(facts, len(self._facts)))
        self.documents += 1
        if len(self._doc_rows) >= BATCH:
            self._flush()
        return pos

    def add_chunk(self, chunk_id: str, doc_pos: int, text: str) -> int:
        """Append a chunk (its JSON) of the document at `doc_pos`; returns its position."""
        if not 0 <= doc_pos < self.documents:
            raise ValueError(f"chunk {chunk_id}: no document at position {doc_pos}")
        pos = self.chunks
        self._chunk_rows.append((pos, chunk_id, doc_pos, text))
        self._chunk_docs.append(doc_pos)
        self.chunks += 1
        if len(self._chunk_rows) >= BATCH * 4:
            self._flush()
        return pos

    def _flush(self) -> None:
        try:
            if self._doc_rows:
                self._conn.executemany("INSERT INTO documents VALUES (?, ?, ?, ?, ?)", self._doc_rows)
                self._conn.executemany("INSERT INTO document_json VALUES (?, ?)", self._text_rows)
            if self._chunk_rows:
                self._conn.executemany("INSERT INTO chunks VALUES (?, ?, ?, ?)", self._chunk_rows)
        except sqlite3.Error as exc:
            raise _os_error(exc, self.file) from None
        self._doc_rows.clear()
        self._text_rows.clear()
        self._chunk_rows.clear()

    def finish(self) -> None:
        """Write what is buffered, make the indexes, commit and close (the caller fsyncs the file)."""
        self._flush()
        try:
            self._conn.executemany("INSERT INTO facts VALUES (?, ?)", [(i, t) for t, i in self._facts.items()])
            for name, values in (("chunk_doc_positions", self._chunk_docs), ("document_facts", self._doc_facts)):
                data = np.asarray(values, dtype=np.int64).astype("<i4").tobytes()
                self._conn.execute("INSERT INTO arrays VALUES (?, ?)", (name, data))
            for statement in _INDEXES:
                self._conn.execute(statement)
            self._conn.execute("COMMIT")
        except sqlite3.IntegrityError as exc:
            raise ValueError(f"{self.file.name}: an id occurs twice ({exc})") from None
        except sqlite3.Error as exc:
            raise _os_error(exc, self.file) from None
        finally:
            self._conn.close()

    def abort(self) -> None:
        self._conn.close()
