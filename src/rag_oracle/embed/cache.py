"""An embedding cache keyed by (model id, sha256 of the text), so no text is embedded twice.

Stored in one SQLite file per model under the cache directory (`<sha256(model id)[:16]>.sqlite`,
table `vectors(kind, key, vector)`): vectors are raw float32 bytes, no pickle.

Safe to share between threads and between processes:

- every thread gets its own connection (`threading.local`), opened on its first call, because a
  sqlite3 connection must not be used by two threads at once;
- the file is in WAL mode, so readers never wait for the writer and one writer at a time appends;
- a write is one short `BEGIN IMMEDIATE` transaction of the rows a call just embedded, taken
  *after* the model has run, so no lock is held while embedding; a writer that finds the file
  locked (another thread or process is committing) waits up to `busy_timeout` seconds;
- rows are only ever inserted (`INSERT OR IGNORE`): two callers that embed the same new text at
  once both get a correct vector, and the stored one never changes under a reader.

Two threads that miss on the same text at the same moment both embed it; that costs a duplicate
model call, not a wrong answer, and it keeps the threads from waiting on each other.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from rag_oracle.embed.base import Embedder
from rag_oracle.errors import EmbedderError

LOOKUP_BATCH = 500  # keys per SELECT, under SQLite's limit on bound parameters


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "rag-oracle" / "embeddings"


class _ThreadConnection:
    """One thread's connection, closed when its thread ends or by `CachedEmbedder.close`.

    The thread-local slot holds the only strong reference, so the holder is freed the moment its
    thread ends, and closes the connection then. (A sqlite3 connection left to itself is freed only
    by the cycle collector: its statement cache refers back to it, so a server whose worker threads
    come and go would pile up open files.)
    """

    __slots__ = ("__weakref__", "conn", "generation", "pid")

    def __init__(self, conn: sqlite3.Connection, generation: int) -> None:
        self.conn = conn
        self.generation = generation
        self.pid = os.getpid()

    def close(self) -> None:
        if self.pid == os.getpid():  # a parent's connection inherited through fork is not ours to close
            self.conn.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # at interpreter exit the modules this needs may already be gone
            pass


class CachedEmbedder:
    """Wraps an embedder; document and query vectors come from the cache when present.

    `stats` counts hits and misses (a copy, consistent across threads), so benchmarks and tests
    can see that caching works; assign `{"hits": 0, "misses": 0}` to reset it.

    Example::

        embedder = CachedEmbedder(HashEmbedder(dimension=64), "/tmp/embeddings")
        embedder.embed_documents(["warfarin", "heparin", "warfarin"])
        embedder.stats     # {'hits': 1, 'misses': 2}
        embedder.close()   # closes every thread's connection; a later call reopens
    """

    def __init__(self, inner: Embedder, cache_dir: str | Path, *, busy_timeout: float = 30.0) -> None:
        self.inner = inner
        self._dir = Path(cache_dir)
        self._busy_timeout = busy_timeout
        self._local = threading.local()
        self._lock = threading.Lock()  # guards the counters, the registry and the generation
        self._open: weakref.WeakSet[_ThreadConnection] = weakref.WeakSet()
        self._generation = 0  # bumped by close(): a thread's older connection is stale
        self._schema_ready = False
        self._hits = 0
        self._misses = 0

    @property
    def path(self) -> Path:
        """The SQLite file: one per model id, so two models never share vectors."""
        name = hashlib.sha256(self.inner.model_id.encode()).hexdigest()[:16]
        return self._dir / f"{name}.sqlite"

    @property
    def stats(self) -> dict[str, int]:
        with self._lock:
            return {"hits": self._hits, "misses": self._misses}

    @stats.setter
    def stats(self, value: dict[str, int]) -> None:
        with self._lock:
            self._hits, self._misses = int(value["hits"]), int(value["misses"])

    @property
    def _db(self) -> sqlite3.Connection:
        """This thread's connection, opened on first use (and again after close() or a fork)."""
        holder: _ThreadConnection | None = getattr(self._local, "holder", None)
        if holder is not None and holder.generation == self._generation and holder.pid == os.getpid():
            return holder.conn
        conn = self._connect()
        holder = _ThreadConnection(conn, self._generation)
        with self._lock:
            self._open.add(holder)
        self._local.holder = holder
        return conn

    def _connect(self) -> sqlite3.Connection:
        path = self.path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # check_same_thread=False only so that close() may close this connection from another
            # thread; in use, each connection stays with the thread that opened it.
            conn = sqlite3.connect(path, timeout=self._busy_timeout, isolation_level=None, check_same_thread=False)
        except (OSError, sqlite3.Error) as exc:
            raise EmbedderError(f"cannot open the embedding cache {path}: {exc}") from exc
        try:
            self._use_wal(conn)
            # In WAL mode NORMAL syncs at checkpoints, not at every commit; a power cut may lose the
            # last few rows, which for a cache only means embedding them again.
            conn.execute("PRAGMA synchronous=NORMAL")
            if not self._schema_ready:
                self._create_schema(conn)
        except sqlite3.Error as exc:
            conn.close()
            raise self._unusable(exc) from exc
        return conn

    def _use_wal(self, conn: sqlite3.Connection) -> None:
        """WAL is a property of the file: set once, every later connection (any process) has it.

        Switching needs the file to itself, and SQLite answers "locked" at once (its busy timeout
        does not apply) when another process is switching too, so this retries until the timeout.
        """
        deadline = time.monotonic() + self._busy_timeout
        pause = 0.005
        while True:
            try:
                if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                    conn.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() >= deadline:
                    raise
                time.sleep(pause)
                pause = min(pause * 2, 0.1)

    def _unusable(self, exc: sqlite3.Error) -> EmbedderError:
        if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
            hint = f"another process held it for over {self._busy_timeout:.0f} s; retry"
        else:
            hint = "it holds only cached vectors: delete it (or set embed.cache_dir elsewhere) and they are recomputed"
        return EmbedderError(f"the embedding cache {self.path} is unusable ({exc}); {hint}")

    def _create_schema(self, conn: sqlite3.Connection) -> None:
        # One IMMEDIATE transaction: two processes creating the file at once write one meta row.
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS vectors (kind TEXT, key BLOB, vector BLOB, PRIMARY KEY (kind, key))"
            )
            conn.execute("CREATE TABLE IF NOT EXISTS meta (model_id TEXT)")
            if not conn.execute("SELECT 1 FROM meta").fetchone():
                conn.execute("INSERT INTO meta VALUES (?)", (self.inner.model_id,))
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:  # some errors end the transaction themselves
                conn.execute("ROLLBACK")
            raise
        self._schema_ready = True

    @property
    def model_id(self) -> str:
        return self.inner.model_id

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    @property
    def max_tokens(self) -> int:
        return self.inner.max_tokens

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return self.inner.count_tokens(texts)

    def _lookup(self, kind: str, keys: list[bytes]) -> dict[bytes, np.ndarray]:
        # Autocommit reads: each SELECT is its own short read transaction, so no snapshot is held
        # while the model runs and a later write never has to upgrade a stale one.
        db = self._db
        found: dict[bytes, np.ndarray] = {}
        for i in range(0, len(keys), LOOKUP_BATCH):
            batch = keys[i : i + LOOKUP_BATCH]
            rows = db.execute(
                f"SELECT key, vector FROM vectors WHERE kind=? AND key IN ({','.join('?' * len(batch))})",
                (kind, *batch),
            ).fetchall()
            for key, blob in rows:
                found[key] = np.frombuffer(blob, dtype=np.float32)
        return found

    def _store(self, kind: str, keys: list[bytes], vectors: np.ndarray) -> None:
        db = self._db
        rows = [(kind, k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in zip(keys, vectors, strict=True)]
        db.execute("BEGIN IMMEDIATE")  # take the write lock now (waiting up to busy_timeout), not mid-way
        try:
            db.executemany("INSERT OR IGNORE INTO vectors VALUES (?, ?, ?)", rows)
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise

    def _get_or_embed(self, kind: str, texts: Sequence[str], embed: Callable[[list[str]], np.ndarray]) -> np.ndarray:
        keys = [hashlib.sha256(t.encode("utf-8")).digest() for t in texts]
        try:
            found = self._lookup(kind, list(set(keys)))
        except sqlite3.Error as exc:
            raise self._unusable(exc) from exc
        missing_keys: list[bytes] = []
        missing_texts: list[str] = []
        seen: set[bytes] = set()
        for key, text in zip(keys, texts, strict=True):
            if key not in found and key not in seen:
                seen.add(key)
                missing_keys.append(key)
                missing_texts.append(text)
        with self._lock:
            self._hits += len(texts) - len(missing_texts)
            self._misses += len(missing_texts)
        if missing_texts:
            vectors = embed(missing_texts)
            try:
                self._store(kind, missing_keys, vectors)
            except sqlite3.Error as exc:
                raise self._unusable(exc) from exc
            found.update(zip(missing_keys, vectors, strict=True))
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([found[k] for k in keys]).astype(np.float32, copy=False)

    def warm_up(self) -> None:
        """Load the wrapped model now (cache hits would otherwise postpone it to the first miss)."""
        load = getattr(self.inner, "warm_up", None)
        if load is not None:
            load()

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        return self._get_or_embed("doc", texts, self.inner.embed_documents)

    def embed_query(self, text: str) -> np.ndarray:
        return self._get_or_embed("query", [text], lambda ts: np.stack([self.inner.embed_query(t) for t in ts]))[0]

    def close(self) -> None:
        """Close every connection this instance opened, in any thread. Call it when no embedding
        call is in flight (a connection is not closed under a running query); a later call reopens."""
        with self._lock:
            holders = list(self._open)
            self._open = weakref.WeakSet()
            self._generation += 1
        for holder in holders:
            holder.close()
        self._local = threading.local()
