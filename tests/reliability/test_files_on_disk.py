"""Issue 11, files as found on disk: symlinks, loops, special files and unreadable folders.

Anything that could block (a FIFO, /dev/zero) runs in a subprocess with a timeout and a capped
address space, so a regression fails the test instead of hanging the run or filling memory.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from rag_oracle.ingest.detect import Found, iter_files, walk

OUTSIDE = "symlink to a file outside the given folders (use --follow-symlinks to read it)"
needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
needs_symlinks = pytest.mark.skipif(sys.platform == "win32", reason="symlinks need privileges on Windows")

_TIMEOUT = 20


def found(paths: list[Path], **kwargs: bool) -> dict[str, str]:
    """walk(paths) as {path relative to the first folder given (or absolute): reason}."""
    base = paths[0] if paths[0].is_dir() else paths[0].parent
    out = {}
    for item in walk(paths, **kwargs):
        assert isinstance(item, Found)
        key = str(item.path.relative_to(base)) if item.path.is_relative_to(base) else str(item.path)
        out[key] = item.skipped
    return out


def isolated(code: str, *args: str) -> dict:
    """Run `code` in a fresh interpreter (timeout, 1 GiB address space); it prints one JSON object."""
    prelude = "import resource\ncap = 1 << 30\nresource.setrlimit(resource.RLIMIT_AS, (cap, cap))\n"
    try:
        run = subprocess.run(
            [sys.executable, "-c", prelude + textwrap.dedent(code), *args],
            capture_output=True,
            text=True,
            timeout=_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"blocked for more than {_TIMEOUT} s")
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


# For each path: what walk() says of it, and what its loader does with it (when asked to load).
_PROBE = """
import json, sys
from pathlib import Path
from rag_oracle.errors import LoaderError
from rag_oracle.ingest.detect import loader_for, walk
load = sys.argv[1] == "load"
out = {}
for name in sys.argv[2:]:
    path = Path(name)
    entry = {"walk": [[str(f.path), f.skipped] for f in walk([path])]}
    if load:
        try:
            loader_for(path).load(path)
            entry["load"] = "loaded"
        except LoaderError as exc:
            entry["load"] = f"{type(exc).__name__}: {exc}"
    out[name] = entry
print(json.dumps(out))
"""


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    root = tmp_path / "corpus"
    (root / "sub").mkdir(parents=True)
    (root / "a.txt").write_text("Note\n\nWarfarin is held 5 days before surgery.\n")
    (root / "sub" / "b.md").write_text("# B\n\nHeparin bridging is rarely needed.\n")
    (root / ".hidden.txt").write_text("secret\n")
    return root


@needs_symlinks
def test_symlink_out_of_the_tree_is_skipped_with_a_reason(tmp_path: Path, corpus: Path) -> None:
    secret = tmp_path / "passwd"
    secret.write_text("root:x:0:0:root:/root:/bin/bash\n")
    (corpus / "passwd.txt").symlink_to(secret)
    assert found([corpus]) == {"a.txt": "", "passwd.txt": OUTSIDE, "sub/b.md": ""}
    assert corpus / "passwd.txt" not in list(iter_files([corpus]))


@needs_symlinks
def test_symlink_out_of_the_tree_is_read_with_follow_symlinks(tmp_path: Path, corpus: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "c.txt").write_text("C\n\nVitamin K reverses warfarin.\n")
    (corpus / "passwd.txt").symlink_to(elsewhere / "c.txt")
    (corpus / "more").symlink_to(elsewhere, target_is_directory=True)
    assert found([corpus]) == {
        "a.txt": "",
        "more": "symlink to a folder outside the given folders (use --follow-symlinks to read it)",
        "passwd.txt": OUTSIDE,
        "sub/b.md": "",
    }
    assert found([corpus], follow_symlinks=True) == {"a.txt": "", "more/c.txt": "", "passwd.txt": "", "sub/b.md": ""}


@needs_symlinks
def test_symlinks_inside_the_tree_and_to_another_given_folder_are_followed(tmp_path: Path, corpus: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / "c.txt").write_text("C\n\nVitamin K reverses warfarin.\n")
    (corpus / "link-to-a.txt").symlink_to(corpus / "a.txt")
    (corpus / "link-to-c.txt").symlink_to(other / "c.txt")
    result = found([corpus, other])
    assert result["link-to-a.txt"] == "" and result["link-to-c.txt"] == ""


@needs_symlinks
def test_symlink_loops_are_reported(corpus: Path) -> None:
    (corpus / "sub" / "up").symlink_to(corpus, target_is_directory=True)
    (corpus / "self.txt").symlink_to(corpus / "self.txt")
    for follow in (False, True):
        result = found([corpus], follow_symlinks=follow)
        assert result == {"a.txt": "", "self.txt": "symlink loop", "sub/b.md": "", "sub/up": "symlink loop"}


@needs_symlinks
def test_dangling_symlink_is_reported(tmp_path: Path, corpus: Path) -> None:
    (corpus / "gone.txt").symlink_to(tmp_path / "deleted.txt")
    assert found([corpus])["gone.txt"] == "dangling symlink"
    assert [f.skipped for f in walk([corpus / "gone.txt"])] == ["dangling symlink"]


def test_hidden_files_stay_skipped_silently_and_missing_paths_are_passed_on(tmp_path: Path, corpus: Path) -> None:
    missing = tmp_path / "nope.txt"
    assert list(walk([corpus, missing])) == [
        Found(corpus / "a.txt"),
        Found(corpus / "sub" / "b.md"),
        Found(missing),
    ]
    assert list(iter_files([corpus, missing])) == [corpus / "a.txt", corpus / "sub" / "b.md", missing]


@needs_fifo
def test_fifo_inside_a_folder_is_reported_not_opened(corpus: Path) -> None:
    os.mkfifo(corpus / "pipe.jsonl")
    result = isolated(_PROBE, "walk", str(corpus))[str(corpus)]["walk"]
    assert [str(corpus / "pipe.jsonl"), "not a regular file: a FIFO"] in result
    assert [str(corpus / "a.txt"), ""] in result


@needs_fifo
def test_fifo_given_directly_is_reported_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.xml"
    os.mkfifo(fifo)
    [result] = isolated(_PROBE, "load", str(fifo)).values()
    assert result["walk"] == [[str(fifo), "not a regular file: a FIFO"]]
    # and a loader handed it anyway refuses it instead of waiting for a writer
    assert result["load"].startswith(f"SpecialFileError: {fifo}: not a regular file: a FIFO"), result["load"]


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")
def test_dev_zero_given_directly_is_reported_at_once(tmp_path: Path) -> None:
    disguised = tmp_path / "zero.jsonl"
    disguised.symlink_to("/dev/zero")
    result = isolated(_PROBE, "load", "/dev/zero", str(disguised))
    assert result["/dev/zero"]["walk"] == [["/dev/zero", "not a regular file: a device"]]
    assert result[str(disguised)]["walk"] == [[str(disguised), "not a regular file: a device"]]
    outcome = result[str(disguised)]["load"]  # the loader of a .jsonl would read zeros forever
    assert outcome.startswith(f"SpecialFileError: {disguised}: not a regular file: a device"), outcome


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads any folder")
def test_unreadable_folder_is_reported(corpus: Path) -> None:
    locked = corpus / "locked"
    locked.mkdir()
    (locked / "c.txt").write_text("C\n\nVitamin K reverses warfarin.\n")
    locked.chmod(0)
    try:
        assert found([corpus])["locked"] == "unreadable folder: Permission denied"
    finally:
        locked.chmod(0o755)


def test_walk_order_is_sorted_depth_first(tmp_path: Path) -> None:
    root = tmp_path / "c"
    for rel in ["b.txt", "a/z.txt", "a.txt", "a/b/c.txt", "A.md"]:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("x\n\ny\n")
    expected = sorted(p for p in root.rglob("*") if p.is_file())
    assert [f.path for f in walk([root])] == expected


def test_unreadable_folder_is_reported_even_as_root(corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Root reads a chmod 000 folder, so here the refusal the kernel gives other users is simulated.
    locked = corpus / "locked"
    locked.mkdir()
    real_scandir = os.scandir

    def scandir(path: str | Path):
        if Path(path) == locked:
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    assert found([corpus]) == {"a.txt": "", "locked": "unreadable folder: Permission denied", "sub/b.md": ""}
    assert [f.skipped for f in walk([locked])] == ["unreadable folder: Permission denied"]
