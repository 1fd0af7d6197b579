"""One writer at a time per index: an advisory lock held for a whole ingest.

Two ingests into one index used to read the same version, embed their batches and commit one
after the other, so the second commit silently dropped the first batch. Now a writer holds
`<index>.lock` (a sibling of the index directory, which an atomic swap replaces) from before it
reads the index until after it commits. A second writer fails at once with
`IndexLockedError` naming the holder's pid ("another ingest is writing this index"), or, with
`wait=True`, waits for it and then reads the version the first one wrote, so no batch is lost.

The lock is `filelock.FileLock` (an OS-level lock: released by the kernel when the holder dies,
so a killed ingest never leaves the index locked); the holder's pid is written next to it for the
message only. Whoever takes the lock first removes the build directories of writers that died
(index/atomic.py), since no other writer can be alive.

Example::

    with writer_lock("indexes/mine", wait=False):
        ...  # read, stage, commit
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from rag_oracle.errors import IndexLockedError
from rag_oracle.index.atomic import remove_stale_temporaries


def lock_path(index_path: str | Path) -> Path:
    path = Path(index_path)
    return path.with_name(path.name + ".lock")


@contextmanager
def writer_lock(index_path: str | Path, *, wait: bool = False, timeout: float | None = None) -> Iterator[None]:
    """Hold the index's writer lock for the body. Without `wait`, fail at once when another writer
    holds it; with `wait`, wait for it (at most `timeout` seconds, when given)."""
    path = lock_path(index_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    owner = path.with_name(path.name + ".pid")
    lock = FileLock(str(path))
    try:
        lock.acquire(timeout=(-1 if timeout is None else timeout) if wait else 0)
    except Timeout:
        holder = owner.read_text(encoding="utf-8").strip() if owner.is_file() else "unknown"
        raise IndexLockedError(
            f"another ingest is writing {index_path} (pid {holder}); wait for it to finish, or run with "
            "--wait to queue behind it"
        ) from None
    try:
        owner.write_text(str(os.getpid()), encoding="utf-8")
        # Holding the lock, no other writer is alive: any build directory left is a dead writer's.
        remove_stale_temporaries(Path(index_path))
        yield
    finally:
        owner.unlink(missing_ok=True)
        lock.release()
