"""A damaged index, a full disk, an empty --index: one line and an exit code, never a traceback;
`index verify` reports damage and never crashes on it; crashed writers' leftovers are cleaned (issue 11).

Before: tracebacks for a manifest that is not an object, a flipped byte in chunks.jsonl (which also
crashed `index verify`), a corrupt BM25 array, a full disk and `--index ""`; `.<name>.tmp-*`
directories of crashed writes stayed forever; opening an index checked only file sizes.

Documents and chunks now live in store.sqlite (schema 2, issue 13), read on demand: damage to it
(a flipped byte, a row that no longer parses, a missing row, a truncated file, a file that is not
a database) is an IndexCorruptError or a verify problem naming store.sqlite and saying to rebuild,
on open or on the first read of the damaged row, never a raw sqlite3 error.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from rag_oracle import ingest
from rag_oracle.cli import main
from rag_oracle.errors import ConfigError, IndexCorruptError, IndexWriteError
from rag_oracle.index.atomic import snapshot_dir
from rag_oracle.index.lock import writer_lock
from rag_oracle.index.store import Index, verify_index


@pytest.fixture
def run_cli(settings, tmp_path: Path):
    """`rag-oracle ARGS` in-process with the `settings` fixture's values (a project file in the
    working directory); exceptions are not caught, so a traceback fails the test."""
    (tmp_path / "rag-oracle.toml").write_text(
        f'[embed]\nmodel = "hash:dim=512"\ncache_dir = "{tmp_path / "cache"}"\n'
        "[chunk]\nmax_tokens = 40\noverlap_tokens = 10\n"
    )

    def run(*args: str):
        return CliRunner().invoke(main, list(args), catch_exceptions=False)

    return run


def _one_line_error(result) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.exit_code not in (0, None) and lines, result.stderr
    assert lines[-1].startswith("error: ") and "Traceback" not in result.stderr, result.stderr
    return lines[-1]


def _flip_byte(file: Path, offset: int) -> None:
    data = bytearray(file.read_bytes())
    data[offset] ^= 0x01
    file.write_bytes(bytes(data))


def test_a_manifest_that_is_not_an_object_is_one_line(built_index: Path, run_cli) -> None:
    (snapshot_dir(built_index) / "manifest.json").write_text("[1, 2, 3]")
    with pytest.raises(IndexCorruptError, match="not a JSON object"):
        Index.open(built_index)
    line = _one_line_error(run_cli("search", "warfarin", "--index", str(built_index)))
    assert "not a JSON object" in line
    verify = run_cli("index", "verify", str(built_index))
    assert verify.exit_code == 1 and "not a JSON object" in verify.stderr


def _store(index: Path) -> Path:
    return snapshot_dir(index) / "store.sqlite"


def _stored_chunk(index: Path, pos: int) -> bytes:
    """The JSON of chunk row `pos` as store.sqlite holds it (read-only)."""
    with sqlite3.connect(f"file:{_store(index)}?mode=ro", uri=True) as db:
        return db.execute("SELECT json FROM chunks WHERE pos = ?", (pos,)).fetchone()[0].encode()


def test_a_flipped_byte_in_the_store_is_found_on_open_and_by_verify(built_index: Path, run_cli) -> None:
    store = _store(built_index)
    data = store.read_bytes()
    _flip_byte(store, data.index(b"warfarin"))  # a letter of a text changes case: still a valid row
    with pytest.raises(IndexCorruptError, match=r"store\.sqlite: checksum"):
        Index.open(built_index)
    verify = run_cli("index", "verify", str(built_index))
    assert verify.exit_code == 1 and "store.sqlite" in verify.stderr and "Traceback" not in verify.stderr


def test_a_damaged_row_beyond_the_hashing_threshold_names_the_file_and_row(
    built_index: Path, monkeypatch: pytest.MonkeyPatch, run_cli
) -> None:
    # A large file is checked by size on open, and rows are read when asked for: the damage shows
    # on the first read of the row, as one error naming the file and the row.
    from rag_oracle.index import store

    monkeypatch.setattr(store, "HASH_ON_OPEN_BYTES", 0)
    row = _stored_chunk(built_index, 3)
    path = _store(built_index)
    data = path.read_bytes()
    assert data.count(row) == 1
    path.write_bytes(data.replace(row, b"[" + row[1:]))  # same size, the row no longer parses
    index = Index.open(built_index)
    assert index.chunks[2].id and len(index.chunks) > 3
    with pytest.raises(IndexCorruptError, match=r"store\.sqlite is damaged \(chunk row 3: .*rebuild it"):
        index.chunks[3]
    with pytest.raises(IndexCorruptError, match=r"chunk row 3"):
        list(index.chunks)
    problems = verify_index(built_index)
    assert any("checksum" in p for p in problems) and any("chunk row 3" in p for p in problems)
    verify = run_cli("index", "verify", str(built_index))
    assert verify.exit_code == 1 and "chunk row 3" in verify.stderr and "Traceback" not in verify.stderr


@pytest.mark.parametrize("damage", ["not a database", "truncated", "header flipped"])
def test_a_store_that_is_not_a_database_is_one_line(
    built_index: Path, run_cli, monkeypatch: pytest.MonkeyPatch, damage: str
) -> None:
    from rag_oracle.index import store

    monkeypatch.setattr(store, "HASH_ON_OPEN_BYTES", 0)
    path = _store(built_index)
    data = path.read_bytes()
    if damage == "not a database":
        path.write_bytes(b"this is not an SQLite file".ljust(len(data), b"\x00"))
    elif damage == "truncated":
        path.write_bytes(data[: len(data) // 3])
    else:
        path.write_bytes(data[:16] + bytes([data[16] ^ 0xFF]) + data[17:])  # the page size
    with pytest.raises(IndexCorruptError, match=r"store\.sqlite.*rebuild"):
        Index.open(built_index)
    problems = verify_index(built_index)
    assert problems and any("store.sqlite" in p for p in problems)
    line = _one_line_error(run_cli("search", "warfarin", "--index", str(built_index)))
    assert "store.sqlite" in line
    verify = run_cli("index", "verify", str(built_index))
    assert verify.exit_code == 1 and "store.sqlite" in verify.stderr and "Traceback" not in verify.stderr


@pytest.mark.parametrize("which", ["a middle row", "the last row"])
def test_a_missing_chunk_row_is_named(built_index: Path, monkeypatch: pytest.MonkeyPatch, which: str) -> None:
    from rag_oracle.index import store

    monkeypatch.setattr(store, "HASH_ON_OPEN_BYTES", 0)
    monkeypatch.setattr(store, "check_files", lambda *a, **k: [])  # the size may change: let the reader meet it
    n = len(Index.open(built_index).chunks)
    pos = 2 if which == "a middle row" else n - 1
    with sqlite3.connect(_store(built_index)) as db:
        db.execute("DELETE FROM chunks WHERE pos = ?", (pos,))
    if which == "the last row":
        with pytest.raises(IndexCorruptError, match=r"store\.sqlite is damaged \(it holds .* chunks, the manifest"):
            Index.open(built_index)
    else:
        index = Index.open(built_index)
        with pytest.raises(IndexCorruptError, match=rf"store\.sqlite is damaged \(chunk row {pos} is missing"):
            index.chunks[pos]
        with pytest.raises(IndexCorruptError, match=rf"store\.sqlite is damaged \(chunk row {pos} .*missing"):
            index.chunks_and_infos([0, pos])
        assert any("missing" in p and "store.sqlite" in p for p in index.verify())
    assert any("store.sqlite" in p for p in verify_index(built_index))


def test_a_corrupt_bm25_array_is_one_line(built_index: Path, run_cli, monkeypatch: pytest.MonkeyPatch) -> None:
    from rag_oracle.index import store

    monkeypatch.setattr(store, "HASH_ON_OPEN_BYTES", 0)  # let the parser meet the damage
    array = next((snapshot_dir(built_index) / "bm25").glob("*.npy"))
    size = array.stat().st_size
    array.write_bytes(b"\x93NUMPY garbage".ljust(size, b"\x00"))
    with pytest.raises(IndexCorruptError, match="bm25"):
        Index.open(built_index)
    assert verify_index(built_index), "verify reports it"


def test_open_checks_the_checksums_of_small_files(built_index: Path) -> None:
    sources = snapshot_dir(built_index) / "sources.jsonl"
    sources.write_text(sources.read_text().replace("a", "b", 1))  # same size, other bytes
    with pytest.raises(IndexCorruptError, match=r"sources\.jsonl: checksum"):
        Index.open(built_index)


def test_an_empty_index_path_is_refused(run_cli, corpus_dir: Path, settings, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match="index path is empty"):
        ingest([corpus_dir], "", settings)
    line = _one_line_error(run_cli("ingest", str(corpus_dir), "--index", "", "--quiet"))
    assert "index path is empty" in line
    assert not (tmp_path / "CURRENT").exists(), "nothing was written into the current directory"


def test_a_full_disk_is_one_line_and_keeps_the_index(
    built_index: Path, run_cli, settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    before = {p.relative_to(built_index): p.read_bytes() for p in built_index.rglob("*") if p.is_file()}

    from rag_oracle.index import docstore

    real_init = docstore.StoreWriter.__init__

    def full(self, file):  # SQLite's own "database or disk is full", after the first few pages
        real_init(self, file)
        self._conn.execute("PRAGMA max_page_count = 3")

    monkeypatch.setattr(docstore.StoreWriter, "__init__", full)
    extra = tmp_path / "extra.txt"
    extra.write_text("Lithium\n\nCheck lithium levels five days after a dose change.\n")
    line = _one_line_error(run_cli("ingest", str(extra), "--index", str(built_index), "--quiet"))
    assert "No space left on device" in line and "store.sqlite" in line and "nothing was changed" in line
    after = {p.relative_to(built_index): p.read_bytes() for p in built_index.rglob("*") if p.is_file()}
    assert after == before
    with pytest.raises(IndexWriteError, match="No space left"):
        ingest([extra], built_index, settings)


def test_a_dead_writers_build_is_removed_by_the_next_writer(built_index: Path, tmp_path: Path, settings) -> None:
    leftover = built_index / ".tmp-deadbeef"
    leftover.mkdir()
    (leftover / "store.sqlite").write_text("half written")
    older = built_index.parent / f".{built_index.name}.tmp-cafe0123"  # the older layout's leftovers
    older.mkdir()
    Index.open(built_index)
    assert leftover.exists() and older.exists(), "readers remove nothing"
    with writer_lock(built_index):
        pass
    assert not leftover.exists() and not older.exists()


def test_readers_rename_and_delete_nothing(built_index: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os
    import shutil

    previous = built_index.with_name(built_index.name + ".previous")
    previous.mkdir()
    calls = []
    for module, name in ((os, "rename"), (os, "replace"), (os, "unlink"), (shutil, "rmtree")):
        monkeypatch.setattr(module, name, lambda *a, _n=name, **k: calls.append(_n))
    Index.open(built_index)
    assert calls == [] and previous.exists()


def test_index_info_and_verify_on_a_missing_generation(built_index: Path, run_cli) -> None:
    (built_index / "CURRENT").write_text("g000099\n")
    line = _one_line_error(run_cli("index", "info", str(built_index)))
    assert "g000099" in line and "damaged" in line
    verify = run_cli("index", "verify", str(built_index))
    assert verify.exit_code == 1 and "g000099" in verify.stderr
    search = _one_line_error(run_cli("search", "warfarin", "--index", str(built_index)))
    assert "g000099 is missing" in search and "build one with" not in search, "no advice to build inside it"


def test_vectors_survive_a_reader_between_commits(built_index: Path, corpus_dir: Path, settings, tmp_path) -> None:
    # A reader holding an older version keeps a usable index while two commits prune it away.
    old = Index.open(built_index)
    for i in range(2):
        note = tmp_path / f"n{i}.txt"
        note.write_text(f"Note {i}\n\nA statement number {i} about heparin.\n")
        ingest([note], built_index, settings)
    assert not old.snapshot.exists(), "its generation was pruned"
    assert np.isfinite(old.vectors([old.chunks[0].id])).all()
    assert json.loads((built_index / "CURRENT").read_text().strip().join('""')) == "g000003"


def test_ingest_warnings_and_errors_reach_the_terminal_without_controls(tmp_path: Path, run_cli) -> None:
    bad = tmp_path / "bad\x1b[31m.jsonl"
    hostile = "a\x1b]8;;http://x\x07\x1b[2J"
    records = [{"id": hostile, "text": "Hold apixaban."}, {"id": hostile, "text": "Hold apixaban 2 days."}]
    bad.write_text("".join(json.dumps(r) + "\n" for r in records) + "not json\n")
    result = run_cli("ingest", str(bad), "--index", str(tmp_path / "idx"), "--quiet")
    assert "line skipped" in result.stderr and "kept this later version" in result.stderr
    assert "\x1b" not in result.stderr + result.stdout and "\x07" not in result.stderr + result.stdout
    missing = run_cli("search", "x", "--index", str(tmp_path / "nope\x1b[2J"))
    assert missing.exit_code != 0 and "\x1b" not in missing.stderr


def test_a_file_name_cannot_forge_a_report_line(tmp_path: Path, run_cli) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "evil\nSKIPPED: forged\x1b[31m.docx").write_text("x")
    result = run_cli("ingest", str(folder), "--index", str(tmp_path / "idx"), "--quiet")
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("SKIPPED: ") and "\\nSKIPPED: forged" in lines[0], lines


def test_an_empty_folder_is_said_to_hold_no_files(tmp_path: Path, run_cli) -> None:
    (tmp_path / "empty").mkdir()
    result = run_cli("ingest", str(tmp_path / "empty"), "--index", str(tmp_path / "idx"), "--quiet")
    assert result.exit_code == 0 and "no files found in" in result.stderr and "empty" in result.stderr


def test_a_missing_array_is_named(built_index: Path, monkeypatch: pytest.MonkeyPatch, run_cli) -> None:
    from rag_oracle.index import store

    monkeypatch.setattr(store, "check_files", lambda *a, **k: [])  # let the reader meet the damage
    with sqlite3.connect(_store(built_index)) as db:
        db.execute("DELETE FROM arrays WHERE name = 'chunk_doc_positions'")
    index = Index.open(built_index)
    assert index.chunks[0].id, "rows are still readable"
    with pytest.raises(IndexCorruptError, match=r"store\.sqlite is damaged \(its chunk_doc_positions array is missing"):
        _ = index.chunk_doc_positions
    assert any("chunk_doc_positions" in p for p in index.verify())
    line = _one_line_error(run_cli("search", "warfarin", "--index", str(built_index), "--year-min", "2000"))
    assert "store.sqlite" in line and "rebuild" in line
