"""One writer per index (issue 11, part): a second ingest fails with the holder's pid, or waits its
turn and then adds to what the first wrote; two concurrent ingests never lose a batch."""

from __future__ import annotations

import json
import multiprocessing
import os
import threading
import time
from pathlib import Path

import pytest

from rag_oracle import ingest
from rag_oracle.errors import IndexLockedError
from rag_oracle.index.lock import lock_path, writer_lock
from rag_oracle.index.store import Index


def _batch(folder: Path, prefix: str, n: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    records = [
        {
            "id": f"{prefix}-{i}",
            "title": f"{prefix} note {i}",
            "text": f"Document {prefix} {i}: warfarin is held {i} days.",
        }
        for i in range(n)
    ]
    (folder / f"{prefix}.jsonl").write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    return folder


def test_a_second_writer_is_refused_with_the_holders_pid(tmp_path: Path, settings) -> None:
    index = tmp_path / "indexes" / "locked"
    batch = _batch(tmp_path / "a", "a", 3)
    with writer_lock(index):
        with pytest.raises(IndexLockedError, match=rf"another ingest is writing .*\(pid {os.getpid()}\).*--wait"):
            ingest([batch], index, settings)
    assert not index.exists(), "the refused ingest wrote nothing"
    assert not lock_path(index).with_name(lock_path(index).name + ".pid").exists()
    ingest([batch], index, settings)  # the lock was released
    assert len(Index.open(index).documents) == 3


def test_a_waiting_writer_adds_to_what_the_first_wrote(tmp_path: Path, settings) -> None:
    index = tmp_path / "indexes" / "queued"
    first, second = _batch(tmp_path / "a", "a", 3), _batch(tmp_path / "b", "b", 4)
    done: list[object] = []
    with writer_lock(index):
        worker = threading.Thread(target=lambda: done.append(ingest([second], index, settings, wait=True)))
        worker.start()
        time.sleep(0.5)
        assert not done, "the second writer waits while the lock is held"
    worker.join(60)
    assert done
    ingest_report = ingest([first], index, settings, wait=True)
    ids = set(Index.open(index).documents)
    assert {f"a-{i}" for i in range(3)} | {f"b-{i}" for i in range(4)} <= ids, ingest_report


def _ingest_in_process(args: tuple[str, str, dict]) -> int:
    folder, index, overrides = args
    from rag_oracle.settings import load_settings

    settings = load_settings().with_overrides(overrides)
    report = ingest([folder], index, settings, wait=True)
    return report.documents_added


def test_two_concurrent_ingests_never_lose_a_batch(tmp_path: Path, settings) -> None:
    overrides = {
        "embed": {"model": "hash:dim=512", "cache_dir": str(tmp_path / "cache")},
        "chunk": {"max_tokens": 40, "overlap_tokens": 10},
    }
    for run in range(3):
        index = tmp_path / "indexes" / f"concurrent-{run}"
        folders = [_batch(tmp_path / f"r{run}-{p}", f"r{run}{p}", 25) for p in "xy"]
        ctx = multiprocessing.get_context("spawn")
        with ctx.Pool(2) as pool:
            added = pool.map(_ingest_in_process, [(str(f), str(index), overrides) for f in folders])
        assert sum(added) == 50
        assert len(Index.open(index).documents) == 50, f"run {run}: a batch was lost"
