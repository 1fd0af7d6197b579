"""`CachedEmbedder` shared by threads, by two instances and by two processes on one cache directory."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import closing
from pathlib import Path

import numpy as np
import pytest

from rag_oracle.embed import CachedEmbedder, HashEmbedder
from rag_oracle.errors import EmbedderError

DIM = 32
POOL = [f"warfarin dose {i} before surgery day {i % 7}" for i in range(60)]


class SlowHashEmbedder(HashEmbedder):
    """A hash embedder that yields the CPU inside every call, so threads interleave there as they
    do around a real model (which releases the GIL while it computes)."""

    def embed_documents(self, texts):
        time.sleep(0.002)
        return super().embed_documents(texts)

    def embed_query(self, text):
        time.sleep(0.002)
        return super().embed_query(text)


def run_threads(n: int, work) -> list[BaseException]:
    """Run work(i) in n threads started together; return what they raised."""
    errors: list[BaseException] = []
    barrier = threading.Barrier(n)

    def target(i: int) -> None:
        try:
            barrier.wait()
            work(i)
        except BaseException as exc:  # collected and asserted on in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=target, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def open_fds(path: Path) -> int:
    """How many of this process's file descriptors are open on `path` (each connection holds one)."""
    target = str(path.resolve())
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            count += os.readlink(f"/proc/self/fd/{fd}") == target
        except OSError:
            pass
    return count


def test_threads_embedding_overlapping_texts_get_correct_vectors(tmp_path: Path) -> None:
    reference = HashEmbedder(dimension=DIM)
    cached = CachedEmbedder(SlowHashEmbedder(dimension=DIM), tmp_path / "cache")
    requested = [0] * 12
    wrong: list[str] = []

    def work(i: int) -> None:
        for round_ in range(8):
            start = (i * 5 + round_ * 3) % len(POOL)
            batch = [POOL[(start + j) % len(POOL)] for j in range(10)] + [POOL[start]]  # a repeat within the call
            docs = cached.embed_documents(batch)
            query = cached.embed_query(POOL[(start + 1) % len(POOL)])
            requested[i] += len(batch) + 1
            if not np.allclose(docs, reference.embed_documents(batch), atol=1e-6):
                wrong.append(f"documents, thread {i} round {round_}")
            if not np.allclose(query, reference.embed_query(POOL[(start + 1) % len(POOL)]), atol=1e-6):
                wrong.append(f"query, thread {i} round {round_}")

    errors = run_threads(12, work)
    assert errors == [] and wrong == []
    stats = cached.stats
    assert stats["hits"] + stats["misses"] == sum(requested)
    assert stats["misses"] >= len(POOL)  # every text was new once (threads may both miss the same one)
    cached.close()

    # Everything embedded was stored: a new instance finds every document vector.
    again = CachedEmbedder(HashEmbedder(dimension=DIM), tmp_path / "cache")
    assert np.allclose(again.embed_documents(POOL), reference.embed_documents(POOL), atol=1e-6)
    assert again.stats == {"hits": len(POOL), "misses": 0}
    again.close()


def test_two_instances_on_one_directory_write_concurrently(tmp_path: Path) -> None:
    reference = HashEmbedder(dimension=DIM)
    first = CachedEmbedder(SlowHashEmbedder(dimension=DIM), tmp_path / "cache")
    second = CachedEmbedder(SlowHashEmbedder(dimension=DIM), tmp_path / "cache")
    assert first.path == second.path

    def work(i: int) -> None:
        embedder = (first, second)[i % 2]
        for j in range(i, len(POOL), 3):  # overlapping slices, one text per call: many short writes
            assert np.allclose(
                embedder.embed_documents([POOL[j]])[0], reference.embed_documents([POOL[j]])[0], atol=1e-6
            )

    assert run_threads(6, work) == []
    requested = sum(len(range(i, len(POOL), 3)) for i in range(6))  # every text twice, less three
    assert sum(e.stats["hits"] + e.stats["misses"] for e in (first, second)) == requested
    assert first.stats["misses"] + second.stats["misses"] >= len(POOL)
    first.close()
    second.close()
    with closing(sqlite3.connect(first.path)) as db:
        assert db.execute("SELECT count(*) FROM vectors").fetchone()[0] == len(POOL)
        assert db.execute("SELECT count(*) FROM meta").fetchone()[0] == 1


CHILD = """
import json, sys, time
from pathlib import Path
import numpy as np
from rag_oracle.embed import CachedEmbedder, HashEmbedder

cache_dir, worker, go = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
texts = [f"heparin platelet count {i} day {i % 5}" for i in range(120)]
reference = HashEmbedder(dimension=32)
Path(f"{go}.ready{worker}").touch()
while not go.exists():
    time.sleep(0.005)
cached = CachedEmbedder(HashEmbedder(dimension=32), cache_dir)
wrong = 0
for i in range(worker, worker + 240):  # both workers cover every text, from different starts
    batch = [texts[i % 120], texts[(i * 7) % 120]]
    wrong += not np.allclose(cached.embed_documents(batch), reference.embed_documents(batch), atol=1e-6)
cached.close()
print(json.dumps({"wrong": wrong, **cached.stats}))
"""


def test_two_processes_write_one_new_cache_concurrently(tmp_path: Path) -> None:
    cache_dir, go = tmp_path / "cache", tmp_path / "go"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, str(cache_dir), str(w), str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for w in (0, 1)
    ]
    deadline = time.monotonic() + 60
    while not all(Path(f"{go}.ready{w}").exists() for w in (0, 1)) and time.monotonic() < deadline:
        time.sleep(0.01)
    go.touch()  # both open the not-yet-created cache file at the same moment
    results = []
    for child in children:
        out, err = child.communicate(timeout=120)
        assert child.returncode == 0, err
        results.append(json.loads(out))
    assert [r["wrong"] for r in results] == [0, 0]
    assert all(r["hits"] + r["misses"] == 480 for r in results)
    (path,) = cache_dir.glob("*.sqlite")
    with closing(sqlite3.connect(path)) as db:
        assert db.execute("SELECT count(*) FROM vectors").fetchone()[0] == 120
        assert db.execute("SELECT count(*) FROM meta").fetchone()[0] == 1
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="counts descriptors through /proc")
def test_a_connection_per_thread_closed_with_its_thread_or_by_close(tmp_path: Path) -> None:
    cached = CachedEmbedder(HashEmbedder(dimension=DIM), tmp_path / "cache")
    cached.embed_query("opened in the main thread")
    assert open_fds(cached.path) == 1

    # Threads that have ended leave no connection behind. (SQLite may keep one closed connection's
    # descriptor for reuse while another connection in the process holds a lock on the file.)
    for i in range(20):
        thread = threading.Thread(target=cached.embed_query, args=(f"thread {i}",))
        thread.start()
        thread.join()
    assert open_fds(cached.path) <= 2

    # Live threads hold one connection each; close() closes them all, from the main thread.
    holding, release = threading.Barrier(4), threading.Event()

    def hold(i: int) -> None:
        cached.embed_query(f"held {i}")
        holding.wait()
        release.wait()

    threads = [threading.Thread(target=hold, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    holding.wait()
    assert open_fds(cached.path) >= 4
    cached.close()
    assert open_fds(cached.path) == 0
    release.set()
    for t in threads:
        t.join()

    # A call after close() opens a new connection and still sees what was stored.
    cached.stats = {"hits": 0, "misses": 0}
    cached.embed_query("thread 3")
    assert cached.stats == {"hits": 1, "misses": 0} and open_fds(cached.path) == 1
    cached.close()
    assert open_fds(cached.path) == 0


def test_a_writer_waits_for_a_lock_held_elsewhere_up_to_the_busy_timeout(tmp_path: Path) -> None:
    cached = CachedEmbedder(HashEmbedder(dimension=DIM), tmp_path / "cache", busy_timeout=10)
    cached.embed_query("creates the file")
    other = sqlite3.connect(cached.path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # another process in the middle of a commit
    timer = threading.Timer(0.3, other.execute, args=("COMMIT",))
    timer.start()
    start = time.monotonic()
    cached.embed_query("written once the lock is free")
    assert time.monotonic() - start >= 0.25
    timer.join()

    impatient = CachedEmbedder(HashEmbedder(dimension=DIM), tmp_path / "cache", busy_timeout=0.05)
    impatient.embed_query("creates this instance's connection")
    other.execute("BEGIN IMMEDIATE")
    with pytest.raises(EmbedderError, match=r"locked.*retry") as caught:
        impatient.embed_query("cannot be written in time")
    assert str(cached.path) in str(caught.value)
    other.execute("ROLLBACK")
    other.close()
    cached.close()
    impatient.close()


def test_a_cache_written_by_the_earlier_version_is_read(tmp_path: Path) -> None:
    # The file name and table that earlier releases wrote: existing caches keep their vectors.
    inner = HashEmbedder(dimension=DIM)
    path = tmp_path / f"{hashlib.sha256(inner.model_id.encode()).hexdigest()[:16]}.sqlite"
    stored = np.full(DIM, 1 / np.sqrt(DIM), dtype=np.float32)  # not what the embedder would compute
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("CREATE TABLE vectors (kind TEXT, key BLOB, vector BLOB, PRIMARY KEY (kind, key))")
        db.execute("CREATE TABLE meta (model_id TEXT)")
        db.execute("INSERT INTO meta VALUES (?)", (inner.model_id,))
        key = hashlib.sha256(b"old text").digest()
        db.execute("INSERT INTO vectors VALUES ('doc', ?, ?)", (key, stored.tobytes()))
    cached = CachedEmbedder(inner, tmp_path)
    assert cached.path == path
    assert np.array_equal(cached.embed_documents(["old text"])[0], stored)
    assert cached.stats == {"hits": 1, "misses": 0}
    cached.close()


def test_a_corrupt_cache_file_is_a_clear_error(tmp_path: Path) -> None:
    inner = HashEmbedder(dimension=DIM)
    cached = CachedEmbedder(inner, tmp_path)
    cached.path.write_bytes(b"this is not an SQLite database" * 100)
    with pytest.raises(EmbedderError, match="delete it") as caught:
        cached.embed_query("warfarin")
    assert str(cached.path) in str(caught.value)
