"""Sentence vectors computed at ingest, so composing an answer embeds (almost) nothing.

The extractive generator ranks each candidate statement of the retrieved passages by its embedding
(`embedding_text(title, statement)`). Embedding the ~80 candidates of a new question took 0.8 to 1.5 s
on two cores: most of an answer's time. Those texts depend only on the documents, not on the question,
so ingest embeds them once and stores them here; at question time `SentenceVectors` finds them by the
sha256 of the exact text and embeds live only what is missing (a statement joined with its antecedent
in a way ingest did not foresee, or an index built before this existed). The vectors are the model's
own for that exact string, so answers are the same with or without the store.

The store is one SQLite file beside the index's generations, content-addressed and append-only:

    indexes/<name>/sentence-vectors.sqlite      vectors(key BLOB PRIMARY KEY, vector BLOB), meta(model_id),
                                                chunks(key BLOB PRIMARY KEY, statements BLOB)

`chunks` maps a chunk (by `chunk_key`: its document's content hash and sections, its span and the
rules' version) to the keys of its statements (`statement_texts`, 32 bytes each, in order), so the
second-stage reranker (retrieve/rerank.py) reads a chunk's statement vectors without parsing its
document: every key a `chunks` row lists has its vector, written in the same transaction.

Only the index's writer (holding the writer lock) adds rows, in one transaction per ingest; readers
open it read-only and see whole transactions. Rows of removed documents stay (harmless: nothing asks for
them); deleting the file only makes answers slower until the next ingest re-adds what it ingests.
Vectors of another model are never used: the file records its model id, and a mismatch reads as empty.
"""

from __future__ import annotations

import hashlib
import itertools
import sqlite3
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

STORE_FILE = "sentence-vectors.sqlite"
BATCH = 256
_LOOKUP_BATCH = 500


# bump when generate/extractive.statement_texts changes which statements a chunk has: older rows are
# then not found, and the reranker parses those chunks' documents as it did before the store had them
CHUNK_RULES = "1"
_KEY_BYTES = 32


def _key(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()


def chunk_key(document, start: int, end: int) -> bytes:
    """The `chunks` key of document.text[start:end]: what its statements depend on (the title and
    text by the content hash, the sections, the span) and the rules' version."""
    sections = ";".join(f"{s.start},{s.end},{s.title}" for s in document.sections)
    return _key(f"{CHUNK_RULES}\0{document.content_hash}\0{sections}\0{start}\0{end}")


class SentenceStore:
    """The store of one index directory (see the module docstring)."""

    def __init__(self, index_path: str | Path, model_id: str) -> None:
        self.path = Path(index_path) / STORE_FILE
        self.model_id = model_id
        self._local = threading.local()

    # --- reading (any thread, any process) ---

    def _reader(self) -> sqlite3.Connection | None:
        con = getattr(self._local, "con", None)
        if con is not None:
            return con
        if not self.path.is_file():
            return None
        try:
            con = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
            row = con.execute("SELECT model_id FROM meta").fetchone()
        except sqlite3.Error:
            return None  # damaged or half-made: treated as empty, the vectors are embedded live
        if row is None or row[0] != self.model_id:
            con.close()
            return None
        self._local.con = con
        return con

    def lookup(self, texts: Sequence[str]) -> dict[bytes, np.ndarray]:
        """Stored vectors of these exact texts, by key (sha256 of the text)."""
        return self.vectors({_key(t) for t in texts})

    def vectors(self, keys: Iterable[bytes]) -> dict[bytes, np.ndarray]:
        """Stored vectors by key (sha256 of the text); keys not stored are left out."""
        return dict(self._select("SELECT key, vector FROM vectors", keys, lambda b: np.frombuffer(b, dtype=np.float32)))

    def chunk_statements(self, keys: Iterable[bytes]) -> dict[bytes, list[bytes]]:
        """The statement keys of stored chunks, by `chunk_key`; chunks not stored are left out (a
        stored chunk without a quotable statement has an empty list)."""
        return dict(
            self._select(
                "SELECT key, statements FROM chunks",
                keys,
                lambda b: [b[i : i + _KEY_BYTES] for i in range(0, len(b), _KEY_BYTES)],
            )
        )

    def _select(self, sql: str, keys: Iterable[bytes], parse) -> list[tuple[bytes, object]]:
        con = self._reader()
        keys = list(dict.fromkeys(keys))
        if con is None or not keys:
            return []
        out: list[tuple[bytes, object]] = []
        try:
            for start in range(0, len(keys), _LOOKUP_BATCH):
                batch = keys[start : start + _LOOKUP_BATCH]
                marks = ",".join("?" * len(batch))
                out.extend((key, parse(blob)) for key, blob in con.execute(f"{sql} WHERE key IN ({marks})", batch))
        except sqlite3.Error:
            return []  # a store made before `chunks` existed, or damaged: nothing stored
        return out

    # --- writing (the index's writer only) ---

    def add(
        self,
        texts: Iterable[str],
        embed: Callable[[list[str]], np.ndarray],
        on_progress: Callable[[int], None] | None = None,
        chunks: Mapping[bytes, Sequence[str]] | None = None,
    ) -> int:
        """Embed and store the texts not stored yet, and `chunks` (`chunk_key` -> the chunk's statement
        texts, which are stored with them), in one transaction; returns how many vectors were added."""
        chunks = chunks or {}
        wanted: dict[bytes, str] = {}
        for text in itertools.chain(texts, *chunks.values()):
            wanted.setdefault(_key(text), text)
        if not wanted and not chunks:
            return 0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        try:
            con.execute("CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, vector BLOB NOT NULL)")
            con.execute("CREATE TABLE IF NOT EXISTS meta (model_id TEXT NOT NULL)")
            con.execute("CREATE TABLE IF NOT EXISTS chunks (key BLOB PRIMARY KEY, statements BLOB NOT NULL)")
            row = con.execute("SELECT model_id FROM meta").fetchone()
            if row is not None and row[0] != self.model_id:
                # another model's vectors (the index was rebuilt with a new model): start again
                con.execute("DELETE FROM vectors")
                con.execute("DELETE FROM chunks")
                con.execute("DELETE FROM meta")
                row = None
            keys = list(wanted)
            present: set[bytes] = set()
            for start in range(0, len(keys), _LOOKUP_BATCH):
                batch = keys[start : start + _LOOKUP_BATCH]
                marks = ",".join("?" * len(batch))
                present.update(k for (k,) in con.execute(f"SELECT key FROM vectors WHERE key IN ({marks})", batch))
            missing = [k for k in keys if k not in present]
            if on_progress is not None and present:
                on_progress(len(present))
            rows: list[tuple[bytes, bytes]] = []
            for start in range(0, len(missing), BATCH):
                batch = missing[start : start + BATCH]
                vectors = np.asarray(embed([wanted[k] for k in batch]), dtype=np.float32)
                rows.extend((k, v.tobytes()) for k, v in zip(batch, vectors, strict=True))
                if on_progress is not None:
                    on_progress(len(batch))
            con.execute("BEGIN IMMEDIATE")
            try:
                if row is None:
                    con.execute("INSERT INTO meta VALUES (?)", (self.model_id,))
                con.executemany("INSERT OR IGNORE INTO vectors VALUES (?, ?)", rows)
                con.executemany(
                    "INSERT OR REPLACE INTO chunks VALUES (?, ?)",
                    [(key, b"".join(_key(t) for t in ts)) for key, ts in chunks.items()],
                )
                con.execute("COMMIT")
            except BaseException:
                if con.in_transaction:
                    con.execute("ROLLBACK")
                raise
            return len(rows)
        finally:
            con.close()


def stored_sentence_embedder(embedder, index):
    """`embedder` reading the statement vectors `index` stores (a `SentenceVectors`), or `embedder`
    itself for an index without a directory (one built in memory)."""
    path = getattr(index, "path", None)
    return SentenceVectors(embedder, SentenceStore(path, embedder.model_id)) if path is not None else embedder


class SentenceVectors:
    """An embedder whose `embed_documents` takes stored sentence vectors first and embeds only the
    rest; everything else is the wrapped embedder's. `stats` counts stored and live texts."""

    def __init__(self, inner, store: SentenceStore) -> None:
        self.inner = inner
        self.store = store
        self._lock = threading.Lock()
        self._stored = 0
        self._live = 0

    @property
    def stats(self) -> dict[str, int]:
        with self._lock:
            return {"stored": self._stored, "live": self._live}

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        found = self.store.lookup(texts)
        keys = [_key(t) for t in texts]
        missing = list(dict.fromkeys(t for t, k in zip(texts, keys, strict=True) if k not in found))
        if missing:
            found.update(zip((_key(t) for t in missing), self.inner.embed_documents(missing), strict=True))
        with self._lock:
            self._live += len(missing)
            self._stored += len(texts) - len(missing)
        if not texts:
            return np.zeros((0, self.inner.dimension), dtype=np.float32)
        return np.stack([found[k] for k in keys]).astype(np.float32, copy=False)

    def chunk_vectors(self, pairs: Sequence[tuple[object, object]]) -> list[np.ndarray | None]:
        """Per (chunk, document): the stored vectors of the chunk's statements (`statement_texts`
        order, shape (n, dimension), n may be 0), or None when the store does not have the chunk."""
        keys = [chunk_key(doc, chunk.char_start, chunk.char_end) for chunk, doc in pairs]
        statements = self.store.chunk_statements(keys)
        vectors = self.store.vectors(k for ks in statements.values() for k in ks)
        out: list[np.ndarray | None] = []
        stored = 0
        for key in keys:
            ks = statements.get(key)
            if ks is None or not all(k in vectors for k in ks):
                out.append(None)
                continue
            stored += len(ks)
            out.append(
                np.stack([vectors[k] for k in ks]) if ks else np.zeros((0, self.inner.dimension), dtype=np.float32)
            )
        with self._lock:
            self._stored += stored
        return out

    def __getattr__(self, name: str):
        return getattr(self.inner, name)
