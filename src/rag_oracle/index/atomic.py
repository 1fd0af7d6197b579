"""Publish a new version of an index so that readers see the old one or the new one, never a mix.

An index directory holds generations and a pointer to the current one::

    indexes/mine/
        CURRENT          "g000007": the generation readers open (replaced atomically)
        g000007/         manifest.json, store.sqlite, sources.jsonl, dense.faiss, bm25/, …
        g000006/         the previous generation, kept for readers that read CURRENT just before
        .tmp-1a2b3c4d/   a writer's build in progress (stale once no writer holds the lock)

A writer builds the next generation in `.tmp-*` (manifest last, everything fsynced), renames it
to `gNNNNNN`, then replaces `CURRENT` with `os.replace` (atomic on POSIX) and prunes generations
older than the previous one. **Readers never rename or delete anything**: they read `CURRENT`
once and open every file from that generation (`snapshot_dir`); if a writer pruned it meanwhile
they see that `CURRENT` moved and open the new one (`Index.open` retries).

Indexes written before generations (schema 1 files directly in `indexes/mine/`) are still read;
the next commit moves them to a generation. A crash between the two renames of that old layout
left `indexes/mine.previous`: readers read it, and the next writer moves it back
(`recover_interrupted_swap`). Only a writer, holding the index's lock (index/lock.py), cleans up
(`remove_stale_temporaries`), so it never deletes another live writer's build.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CURRENT = "CURRENT"
LEGACY_MANIFEST = "manifest.json"
_GENERATION = re.compile(r"^g(\d{6,})$")
_TMP_PREFIX = ".tmp-"


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


def _fsync_tree(root: Path) -> None:
    for path in root.rglob("*"):
        if path.is_file():
            with open(path, "rb") as fh:
                os.fsync(fh.fileno())
        elif path.is_dir():
            _fsync_dir(path)
    _fsync_dir(root)


def current_name(path: Path) -> str | None:
    """The generation `CURRENT` names, or None when there is no (valid) pointer."""
    try:
        name = (Path(path) / CURRENT).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return name if _GENERATION.match(name) else None


def snapshot_dir(path: str | Path) -> Path:
    """The directory a reader opens for the index at `path`: its current generation; for an index of
    the older layout, `path` itself (or `<path>.previous` after a crash mid-swap). Never writes."""
    path = Path(path)
    name = current_name(path)
    if name is not None:
        return path / name
    previous = path.with_name(path.name + ".previous")
    if not path.exists() and (previous / LEGACY_MANIFEST).is_file():
        return previous
    return path


def is_index(path: str | Path) -> bool:
    """Whether a complete index is at `path` (its current generation has a manifest)."""
    return (snapshot_dir(path) / LEGACY_MANIFEST).is_file()


def generations(path: Path) -> list[Path]:
    """Generation directories under `path`, oldest first."""
    if not path.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in path.iterdir() if (m := _GENERATION.match(p.name)) and p.is_dir()]
    return [p for _, p in sorted(found)]


def is_fresh(path: Path) -> bool:
    """Whether `path` holds no index yet: absent, or empty but for hidden leftovers of crashed builds."""
    if not path.exists():
        return not path.with_name(path.name + ".previous").exists()
    return path.is_dir() and not any(not p.name.startswith(".") for p in path.iterdir())


def recover_interrupted_swap(target: Path) -> None:
    """Older layout only: put back `<target>.previous` left by a crash between the swap's two renames
    (or drop it when the swap completed). Writers call it, under the lock; readers never do."""
    previous = target.with_name(target.name + ".previous")
    if previous.exists() and not target.exists():
        previous.rename(target)
    elif previous.exists():
        shutil.rmtree(previous, ignore_errors=True)


def remove_stale_temporaries(target: Path) -> list[Path]:
    """Delete builds of writers that died (`.tmp-*` inside the index, and the older layout's
    `.<name>.tmp-*` beside it). Call only while holding the index's writer lock."""
    target = Path(target)
    removed = []
    candidates = list(target.glob(f"{_TMP_PREFIX}*")) if target.is_dir() else []
    candidates += list(target.parent.glob(f".{target.name}.tmp-*")) if target.parent.is_dir() else []
    for path in candidates:
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


def _legacy_entries(target: Path) -> list[Path]:
    """Files of the older layout directly in `target` (manifest first, so it stops being an index first)."""
    if not (target / LEGACY_MANIFEST).is_file():
        return []
    entries = [
        p
        for p in target.iterdir()
        if p.name not in {CURRENT, LEGACY_MANIFEST} and not _GENERATION.match(p.name) and not p.name.startswith(".")
    ]
    return [target / LEGACY_MANIFEST, *sorted(entries)]


@contextmanager
def publish(target: str | Path) -> Iterator[Path]:
    """Yield an empty build directory; on normal exit it becomes the current generation of `target`,
    on error it is removed and `target` is unchanged. Call while holding the writer lock."""
    target = Path(target)
    recover_interrupted_swap(target)
    created = not target.exists()
    target.mkdir(parents=True, exist_ok=True)
    tmp = target / f"{_TMP_PREFIX}{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        yield tmp
        _fsync_tree(tmp)
        existing = generations(target)
        number = int(_GENERATION.match(existing[-1].name).group(1)) + 1 if existing else 1
        generation = target / f"g{number:06d}"
        tmp.rename(generation)
        pointer = target / f"{_TMP_PREFIX}{uuid.uuid4().hex[:8]}.{CURRENT}"
        with open(pointer, "w", encoding="utf-8") as fh:
            fh.write(generation.name + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(pointer, target / CURRENT)
        _fsync_dir(target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if created:
            with contextlib.suppress(OSError):
                target.rmdir()  # a first build that failed leaves no empty index directory behind
        raise
    _prune(target, keep=generation)


def _prune(target: Path, keep: Path) -> None:
    # Keep the new generation and the one before it (a reader may have just read the old pointer);
    # anything older, and the files of the older layout, are no longer anyone's current version.
    older = [g for g in generations(target) if g != keep]
    for stale in older[:-1]:
        shutil.rmtree(stale, ignore_errors=True)
    for entry in _legacy_entries(target):
        if entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
