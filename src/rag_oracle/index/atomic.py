"""Write a directory so that readers see the old version or the new one, never a mix.

The new version is built in a sibling temporary directory (same filesystem), its manifest
written last and fsynced, then swapped in with two renames. A crash before the swap leaves
only a temporary directory, which has no manifest at the final path and is never opened; a
crash between the two renames leaves the previous version under `<name>.previous`, which
`recover_interrupted_swap` moves back.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def recover_interrupted_swap(target: Path) -> None:
    previous = target.with_name(target.name + ".previous")
    if previous.exists() and not target.exists():
        previous.rename(target)
    elif previous.exists():
        shutil.rmtree(previous, ignore_errors=True)


@contextmanager
def atomic_directory(target: Path) -> Iterator[Path]:
    """Yield a temporary directory; on normal exit it replaces `target`, on error it is removed."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    recover_interrupted_swap(target)
    tmp = target.with_name(f".{target.name}.tmp-{uuid.uuid4().hex[:8]}")
    tmp.mkdir()
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    for path in tmp.rglob("*"):
        if path.is_file():
            with open(path, "rb") as fh:
                os.fsync(fh.fileno())
    _fsync_dir(tmp)
    previous = target.with_name(target.name + ".previous")
    if target.exists():
        target.rename(previous)
    tmp.rename(target)
    _fsync_dir(target.parent)
    if previous.exists():
        shutil.rmtree(previous)


def remove_stale_temporaries(parent: Path, name: str) -> list[Path]:
    """Delete leftovers of builds that crashed (`.<name>.tmp-*`); returns what was removed."""
    removed = []
    for path in Path(parent).glob(f".{name}.tmp-*"):
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed
