"""An embedding cache keyed by (model id, sha256 of the text), so no text is embedded twice.

Stored in one SQLite file per model under the cache directory: vectors are raw float32 bytes,
no pickle. SQLite gives atomic, concurrent-safe appends for free.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from rag_oracle.embed.base import Embedder


def default_cache_dir() -> Path:
    import os

    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "rag-oracle" / "embeddings"


class CachedEmbedder:
    """Wraps an embedder; document and query vectors come from the cache when present.

    `stats` counts hits and misses, so benchmarks and tests can see that caching works.
    """

    def __init__(self, inner: Embedder, cache_dir: str | Path) -> None:
        self.inner = inner
        self._dir = Path(cache_dir)
        self._conn: sqlite3.Connection | None = None
        self.stats = {"hits": 0, "misses": 0}

    @property
    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            self._dir.mkdir(parents=True, exist_ok=True)
            name = hashlib.sha256(self.inner.model_id.encode()).hexdigest()[:16]
            self._conn = sqlite3.connect(self._dir / f"{name}.sqlite", timeout=30, check_same_thread=False)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute(
                "CREATE TABLE IF NOT EXISTS vectors (kind TEXT, key BLOB, vector BLOB, PRIMARY KEY (kind, key))"
            )
            self._conn.execute("CREATE TABLE IF NOT EXISTS meta (model_id TEXT)")
            if not self._conn.execute("SELECT 1 FROM meta").fetchone():
                self._conn.execute("INSERT INTO meta VALUES (?)", (self.inner.model_id,))
            self._conn.commit()
        return self._conn

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
        found: dict[bytes, np.ndarray] = {}
        for i in range(0, len(keys), 500):
            batch = keys[i : i + 500]
            rows = self._db.execute(
                f"SELECT key, vector FROM vectors WHERE kind=? AND key IN ({','.join('?' * len(batch))})",
                (kind, *batch),
            ).fetchall()
            for key, blob in rows:
                found[key] = np.frombuffer(blob, dtype=np.float32)
        return found

    def _get_or_embed(self, kind: str, texts: Sequence[str], embed) -> np.ndarray:
        keys = [hashlib.sha256(t.encode("utf-8")).digest() for t in texts]
        found = self._lookup(kind, list(set(keys)))
        missing_keys: list[bytes] = []
        missing_texts: list[str] = []
        seen: set[bytes] = set()
        for key, text in zip(keys, texts, strict=True):
            if key not in found and key not in seen:
                seen.add(key)
                missing_keys.append(key)
                missing_texts.append(text)
        self.stats["hits"] += len(texts) - len(missing_texts)
        self.stats["misses"] += len(missing_texts)
        if missing_texts:
            vectors = embed(missing_texts)
            self._db.executemany(
                "INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)",
                [(kind, k, v.astype(np.float32).tobytes()) for k, v in zip(missing_keys, vectors, strict=True)],
            )
            self._db.commit()
            found.update(zip(missing_keys, vectors, strict=True))
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([found[k] for k in keys]).astype(np.float32, copy=False)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        return self._get_or_embed("doc", texts, self.inner.embed_documents)

    def embed_query(self, text: str) -> np.ndarray:
        return self._get_or_embed("query", [text], lambda ts: np.stack([self.inner.embed_query(t) for t in ts]))[0]

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
