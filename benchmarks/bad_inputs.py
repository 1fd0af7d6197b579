"""Bad-input campaign: hostile files, paths, arguments and index damage against the real CLI.

Run from the repository root (prints one line per case, asserts nothing; about 4 minutes on 2
busy cores, nearly all of it CLI start-ups)::

    python benchmarks/bad_inputs.py
    python benchmarks/bad_inputs.py --only gzip --keep          # a subset; keep the inputs
    python benchmarks/bad_inputs.py --json-out /tmp/bad.json    # the results as JSON too
    python benchmarks/bad_inputs.py --list                      # the case table: what "handled" means

Every input is generated in a temporary folder (nothing is downloaded). Each case runs
`python -m rag_oracle.cli ...` in a subprocess with the hash embedder
(`RAG_ORACLE_EMBED__MODEL=hash:dim=64`, `RAG_ORACLE_EMBED__CACHE_DIR=off`), its own `--index`
(a copy of a small seed index built first, so "nothing stored before is lost" is checked too),
a timeout per command (`--timeout`, default 60 s: a hang is recorded as "hang", not waited on)
and an address-space limit (`--mem-limit-mib`, a safety net for the bombs; a case whose peak
RSS exceeds `--rss-budget-mib` is not handled even if it ends with a message).

A case is **handled** when every command exits 0, 1 or 2, prints no traceback, the bad input is
named in the output with a reason (`SKIPPED: path: reason`, `FAILED: path: reason`, `warning:
path:line: ...`, or a one-line `error: ...`), a good document given beside the bad one is
searchable afterwards, and the seed document is still there (checked with the library in this
process, `--check-via api`; `--check-via cli` uses `rag-oracle search --json`, one more CLI start
a case).
A reason that is the pipeline's catch-all ("a bug in rag-oracle") does not count: that input
was not anticipated. Inputs that are odd but valid (a BOM, CRLF, a numeric id, an owner-only
password) are handled when they are ingested correctly instead. For index damage: `search`
prints one `error:` line and exits != 0, and `index verify` exits 1 without a traceback.
`--list` prints each case's own criterion. Cases that cannot be run here (permissions as root)
are "n/a" and not counted.

Big inputs are generated fast: the 200 MB text is 200 writes of one 1 MiB block; the gzip bombs
are one compressed 32 MiB member written 48 times (a gzip file may hold several members, which
decompress as one stream), about 2 MB expanding to 1.5 GiB. Temporary files are deleted unless
--keep.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

MIB = 1024 * 1024
SEED = "quokkaseed"  # a word only the seed document holds
GOOD = "zebrafinchgood"  # a word only the good document beside a bad one holds
SECRET = "narwhalsecret"  # a word only a file that must NOT be indexed holds
REPORT_KINDS = ("SKIPPED:", "FAILED:", "warning:", "error:")
CATCH_ALL = "a bug in rag-oracle"
FILLER = (
    "Warfarin bridging with low molecular weight heparin before elective surgery did not reduce "
    "thromboembolism in patients with atrial fibrillation and increased major bleeding."
)


def sentence(word: str) -> str:
    """A document text long enough to make a chunk, holding the marker `word`."""
    return f"{word} {FILLER} The marker word {word} identifies this document."


# --- running the CLI ------------------------------------------------------------------------


@dataclass
class Run:
    """One CLI command and what came of it (`exit` None: killed at the timeout)."""

    args: list[str]
    exit: int | None
    stdout: str
    stderr: str
    seconds: float
    peak_rss_mib: float

    @property
    def hung(self) -> bool:
        return self.exit is None

    @property
    def output(self) -> str:
        return self.stderr + "\n" + self.stdout

    @property
    def traceback(self) -> bool:
        return "Traceback (most recent call last)" in self.output

    def summary(self) -> dict[str, object]:
        return {
            "args": self.args,
            "exit": self.exit,
            "seconds": round(self.seconds, 2),
            "peak_rss_mib": round(self.peak_rss_mib, 1),
            "stdout_tail": self.stdout[-600:],
            "stderr_tail": self.stderr[-1200:],
        }


@dataclass(frozen=True)
class Options:
    timeout: float
    mem_limit_mib: int
    rss_budget_mib: int
    check_via: str = "api"


_API: dict[str, object] = {}
_API_LOCK = threading.Lock()


def api_search(index: Path, query: str, k: int) -> list[dict]:
    """`RagOracle(index).search(query, k)` in this process, as `search --json` prints it. One at a
    time: importing the library once here saves a CLI start (~2 CPU-seconds) per check."""
    with _API_LOCK:
        if not _API:
            from rag_oracle.api import RagOracle
            from rag_oracle.embed.hashing import HashEmbedder
            from rag_oracle.settings import Settings

            overrides = {"embed": {"model": "hash:dim=64", "cache_dir": "off"}}
            _API.update(
                oracle=RagOracle, embedder=HashEmbedder(dimension=64), settings=Settings().with_overrides(overrides)
            )
        oracle = _API["oracle"](index, _API["settings"], embedder=_API["embedder"])
        return [h.model_dump(mode="json") for h in oracle.search(query, k)]


def run_cli(args: list[str], cwd: Path, options: Options, env: dict[str, str] | None = None) -> Run:
    """`python -m rag_oracle.cli ARGS` in its own session, killed (with its group) at the timeout."""
    command = [sys.executable, "-m", "rag_oracle.cli", *args]
    child_env = dict(os.environ)
    child_env.update(
        {
            "RAG_ORACLE_EMBED__MODEL": "hash:dim=64",
            "RAG_ORACLE_EMBED__CACHE_DIR": "off",
            "OMP_WAIT_POLICY": "PASSIVE",
            "PYTHONUNBUFFERED": "1",
        }
    )
    child_env.update(env or {})
    start = time.perf_counter()
    proc = subprocess.Popen(
        command,
        cwd=cwd,
        env=child_env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    limit = options.mem_limit_mib * MIB
    try:  # set from outside (prlimit) rather than preexec_fn, which is unsafe with threads
        resource.prlimit(proc.pid, resource.RLIMIT_AS, (limit, limit))
    except (OSError, ValueError, AttributeError):
        pass
    chunks: dict[str, bytes] = {}

    def drain(name: str, stream) -> None:
        chunks[name] = stream.read()

    readers = [
        threading.Thread(target=drain, args=("out", proc.stdout), daemon=True),
        threading.Thread(target=drain, args=("err", proc.stderr), daemon=True),
    ]
    for reader in readers:
        reader.start()
    hung = False
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() - start > options.timeout:
            hung = True
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            pid, status, usage = os.wait4(proc.pid, 0)
            break
        time.sleep(0.02)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    for reader in readers:
        reader.join(10)
    proc.stdout.close()
    proc.stderr.close()
    return Run(
        args=args,
        exit=None if hung else proc.returncode,
        stdout=chunks.get("out", b"").decode("utf-8", errors="replace"),
        stderr=chunks.get("err", b"").decode("utf-8", errors="replace"),
        seconds=seconds,
        peak_rss_mib=usage.ru_maxrss / 1024,
    )


# --- outcomes and checks ----------------------------------------------------------------------


@dataclass
class Outcome:
    verdict: str  # "handled", "NOT" or "n/a"
    evidence: str


def handled(evidence: str) -> Outcome:
    return Outcome("handled", evidence)


def not_handled(evidence: str) -> Outcome:
    return Outcome("NOT", evidence)


class Ctx:
    """A case's folder, its commands, and the checks cases share."""

    def __init__(self, root: Path, name: str, options: Options, seed_index: Path | None) -> None:
        self.root = root
        self.dir = root / name
        self.dir.mkdir(parents=True)
        self.options = options
        self.seed_index = seed_index
        self.runs: list[Run] = []
        self.last_hits: list[dict] | None = None

    # paths and commands

    def path(self, *parts: str) -> Path:
        p = self.dir.joinpath(*parts)
        p.parent.mkdir(parents=True, exist_ok=True)
        return p

    def folder(self, name: str = "in") -> Path:
        p = self.dir / name
        p.mkdir(parents=True, exist_ok=True)
        return p

    def cli(self, *args: str | Path, env: dict[str, str] | None = None) -> Run:
        run = run_cli([str(a) for a in args], self.dir, self.options, env)
        self.runs.append(run)
        return run

    def new_index(self, seeded: bool = True) -> Path:
        """A fresh index path; with `seeded`, a copy of the seed index (one document holding SEED)."""
        index = self.dir / "index"
        if seeded:
            if self.seed_index is None:
                raise RuntimeError("no seed index")
            shutil.copytree(self.seed_index, index, symlinks=True)
        return index

    def ingest(self, *inputs: str | Path, index: Path, extra: Iterable[str] = ()) -> Run:
        return self.cli("ingest", *inputs, "--index", index, "--quiet", *extra)

    def short(self, text: str, limit: int = 150) -> str:
        text = text.replace(str(self.dir) + "/", "").replace(str(self.root) + "/", "")
        text = " ".join(text.split())
        return text if len(text) <= limit else text[: limit - 1] + "…"

    # checks: each returns what is wrong (a NOT's evidence) or None

    def crash(self, run: Run) -> str | None:
        """A hang, a traceback, an exit code outside 0-2, or a peak RSS over budget."""
        cmd = run.args[0] if run.args else "cli"
        if run.hung:
            return f"{cmd}: hang (killed after {self.options.timeout:g}s)"
        if run.traceback:
            lines = [ln for ln in run.stderr.strip().splitlines() if ln.strip()]
            return f"{cmd}: traceback: {lines[-1] if lines else ''}"
        if run.exit not in (0, 1, 2):
            return f"{cmd}: exit {run.exit}; {self.first_line(run)}"
        if run.peak_rss_mib > self.options.rss_budget_mib:
            return f"{cmd}: peak RSS {run.peak_rss_mib:.0f} MiB > budget {self.options.rss_budget_mib} MiB"
        return None

    def first_line(self, run: Run) -> str:
        for stream in (run.stderr, run.stdout):
            for ln in stream.splitlines():
                if ln.strip():
                    return ln.strip()
        return "(no output)"

    def reported(
        self, run: Run, bad: str | Path, *, words: Iterable[str] = (), line: int | None = None
    ) -> tuple[str | None, str | None]:
        """(the output line naming `bad` with a reason, None) or (None, why not)."""
        name = bad if isinstance(bad, str) else bad.name
        words = [w.lower() for w in words]
        near = None
        for ln in run.output.splitlines():
            s = ln.strip()
            if not s.startswith(REPORT_KINDS) or name not in s:
                continue
            if line is not None and f"{name}:{line}" not in s:
                near = near or f"named but not with :{line}: {s}"
                continue
            if not s.split(name, 1)[1].lstrip(":'\" ").strip():
                continue  # named without a reason
            if CATCH_ALL in s:
                return None, f"only the catch-all caught it: {s}"
            if words and not any(w in s.lower() for w in words):
                near = near or f"reason lacks {'/'.join(words)}: {s}"
                continue
            return s, None
        return None, near or f"exit {run.exit}; {name} not reported; output: {self.first_line(run)}"

    def error_line(self, run: Run) -> str | None:
        """The one `error:` line of a refused command, or None when stderr is not exactly that."""
        lines = [ln for ln in run.stderr.splitlines() if ln.strip()]
        if len(lines) == 1 and lines[0].startswith("error:"):
            return lines[0]
        if lines and lines[-1].startswith("Error:") and "Usage:" in run.stderr:  # click's usage errors
            return lines[-1]
        return None

    def search(self, index: Path, words: Iterable[str]) -> tuple[list[dict] | None, str | None]:
        """The hits of a search for WORDS, k=100 (hybrid: the dense side returns every chunk of a
        small index, so a text that should not be there shows up), or (None, what went wrong).
        Through `rag-oracle search --json` with --check-via cli, else the library in this process."""
        query = " ".join(words)
        if self.options.check_via == "api":
            try:
                self.last_hits = api_search(index, query, 100)
            except Exception as exc:
                return None, f"search afterwards: {type(exc).__name__}: {exc}"
            return self.last_hits, None
        run = self.cli("search", query, "--index", index, "--json", "-k", "100")
        problem = self.crash(run)
        if problem or run.exit != 0:
            return None, f"search afterwards: {problem or f'exit {run.exit}: {self.first_line(run)}'}"
        try:
            self.last_hits = json.loads(run.stdout)
        except json.JSONDecodeError:
            return None, f"search afterwards printed no JSON: {self.first_line(run)}"
        return self.last_hits, None

    def lost(
        self,
        index: Path,
        present: Iterable[str] = (),
        absent: Iterable[str] = (),
        seeded: bool = True,
    ) -> str | None:
        """What is missing (or present though it must not be) in the index, or None."""
        present = [*([SEED] if seeded else []), *present]
        absent = list(absent)
        if not present and not absent:
            return None
        hits, problem = self.search(index, [*present, *[a for a in absent if a.isalnum()]])
        if problem:
            return problem
        texts = [h["chunk"]["text"].lower() for h in hits]
        missing = [w for w in present if not any(w.lower() in t for t in texts)]
        leaked = [w for w in absent if any(w.lower() in t for t in texts)]
        if missing:
            what = "seed document lost" if SEED in missing else "good document not indexed"
            return f"{what} (no hit holds {', '.join(missing)})"
        if leaked:
            return f"indexed what must not be: {', '.join(leaked)}"
        return None

    def hits(self, index: Path, word: str) -> list[dict]:
        """The hits holding `word`, from the last search (`lost` searched for it) or a new one."""
        found = self.last_hits
        if not any(word in h["chunk"]["text"].lower() for h in found or []):
            found, _ = self.search(index, [word])
        return [h for h in found or [] if word in h["chunk"]["text"].lower()]


def stored_documents(index: Path) -> dict[str, dict]:
    """The documents of the index's current generation, read from its store.sqlite (read-only;
    documents.jsonl for an index of schema 1)."""
    import sqlite3

    generation = index / (index / "CURRENT").read_text().strip()
    docs = {}
    if (generation / "store.sqlite").is_file():
        uri = f"{(generation / 'store.sqlite').absolute().as_uri()}?mode=ro&immutable=1"
        with sqlite3.connect(uri, uri=True) as db:
            for (text,) in db.execute("SELECT json FROM document_json ORDER BY pos"):
                doc = json.loads(text)
                docs[doc["id"]] = doc
        return docs
    with open(generation / "documents.jsonl", encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                doc = json.loads(line)
                docs[doc["id"]] = doc
    return docs


def tree_digest(path: Path) -> str:
    """A digest of every name and byte under `path` (to prove a command left it alone)."""
    h = hashlib.sha256()
    for p in sorted(path.rglob("*")) if path.is_dir() else [path]:
        h.update(str(p.relative_to(path) if path.is_dir() else p.name).encode())
        if p.is_file() and not p.is_symlink():
            h.update(p.read_bytes())
    return h.hexdigest()


# --- the shared shapes of a case ----------------------------------------------------------------


def check_reported(
    c: Ctx,
    inputs: list[Path | str],
    bad: Path | str,
    *,
    words: Iterable[str] = (),
    line: int | None = None,
    good: bool = True,
    absent: Iterable[str] = (),
    seeded: bool = True,
) -> Outcome:
    """Ingest `inputs`; the bad one must be named with a reason, the good and seed documents kept."""
    index = c.new_index(seeded)
    run = c.ingest(*inputs, index=index)
    if problem := c.crash(run):
        return not_handled(problem)
    found, why = c.reported(run, bad, words=words, line=line)
    if found is None:
        return not_handled(why)
    if problem := c.lost(index, [GOOD] if good else [], absent, seeded):
        return not_handled(f"{problem}; ingest said: {found}")
    return handled(found)


def check_accepted(
    c: Ctx,
    inputs: list[Path | str],
    *,
    present: Iterable[str] = (GOOD,),
    absent: Iterable[str] = (),
    verify: Callable[[Path], str | None] | None = None,
) -> Outcome:
    """Ingest valid-but-odd `inputs`: exit 0, every marker searchable, `verify(index)` content checks."""
    index = c.new_index()
    run = c.ingest(*inputs, index=index)
    if problem := c.crash(run):
        return not_handled(problem)
    if run.exit != 0:
        return not_handled(f"exit {run.exit}: {c.first_line(run)}")
    if problem := c.lost(index, present, absent):
        return not_handled(problem)
    if verify and (problem := verify(index)):
        return not_handled(problem)
    warnings = [ln for ln in run.stderr.splitlines() if ln.startswith("warning:")]
    return handled("ingested" + (f"; {warnings[0]}" if warnings else ", no warning"))


def check_reported_or_accepted(
    c: Ctx,
    inputs: list[Path | str],
    bad: Path | str,
    *,
    token: str,
    absent: Iterable[str] = (),
    words: Iterable[str] = (),
    verify: Callable[[list[dict]], str | None] | None = None,
) -> Outcome:
    """Either the bad input is reported (good and seed kept), or it is ingested with its text intact
    (`token` searchable, `verify(hits)` passes). Silent loss of its text is not handled."""
    index = c.new_index()
    run = c.ingest(*inputs, index=index)
    if problem := c.crash(run):
        return not_handled(problem)
    found, _ = c.reported(run, bad, words=words)
    if found and CATCH_ALL not in found:
        if problem := c.lost(index, [GOOD], absent):
            return not_handled(f"{problem}; ingest said: {found}")
        return handled(found)
    if CATCH_ALL in run.output:
        return not_handled(f"only the catch-all caught it: {c.first_line(run)}")
    if problem := c.lost(index, [GOOD, token], absent):
        return not_handled(f"exit {run.exit}, not reported, and {problem}")
    if verify and (problem := verify(c.hits(index, token))):
        return not_handled(problem)
    return handled(f"ingested (exit {run.exit}), text intact, not reported")


def check_refused(c: Ctx, args: list[str | Path], *, untouched: Path | None = None, words: Iterable[str] = ()):
    """A command that must stop with one `error:` line (or click's usage error), exit 2 or 1,
    and leave `untouched` as it was."""
    before = tree_digest(untouched) if untouched is not None and untouched.exists() else None
    run = c.cli(*args)
    if problem := c.crash(run):
        return not_handled(problem)
    if run.exit == 0:
        return not_handled(f"exit 0, not refused: {c.first_line(run)}")
    line = c.error_line(run)
    if line is None:
        return not_handled(f"exit {run.exit} without a one-line error: {c.short(run.stderr, 120)!r}")
    if words and not any(w.lower() in line.lower() for w in words):
        return not_handled(f"error does not say {'/'.join(words)}: {line}")
    if before is not None and tree_digest(untouched) != before:
        return not_handled(f"{untouched.name} was changed; error was: {line}")
    return handled(line)


def good_jsonl(c: Ctx, folder: Path | None = None) -> Path:
    """good.jsonl: one valid record holding GOOD."""
    path = (folder or c.folder()) / "good.jsonl"
    path.write_text(json.dumps({"id": "good-1", "title": "Good record", "text": sentence(GOOD)}) + "\n")
    return path


def write_lines(path: Path, lines: Iterable[bytes | str | dict], end: bytes = b"\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        for item in lines:
            if isinstance(item, dict):
                item = json.dumps(item)
            fh.write((item.encode() if isinstance(item, str) else item) + end)
    return path


def record(word: str, rid: object = "r", **extra: object) -> dict:
    return {"id": rid, "title": f"Record {word}", "text": sentence(word), **extra}


# --- the case table -------------------------------------------------------------------------------


@dataclass
class Case:
    name: str
    expect: str
    fn: Callable[[Ctx], Outcome]


CASES: list[Case] = []


def case(name: str, expect: str) -> Callable[[Callable[[Ctx], Outcome]], Callable[[Ctx], Outcome]]:
    def register(fn: Callable[[Ctx], Outcome]) -> Callable[[Ctx], Outcome]:
        CASES.append(Case(name, expect, fn))
        return fn

    return register


# JSONL ------------------------------------------------------------------------------------------

_BAD_LINE = "warning naming file:2, the other lines indexed"


def _jsonl_bad_line(c: Ctx, bad_line: bytes | str | dict, words: Iterable[str] = ()) -> Outcome:
    path = write_lines(c.path("in", "records.jsonl"), [record(GOOD, "good-1"), bad_line, record("otter3", "r3")])
    index = c.new_index()
    run = c.ingest(path, index=index)
    if problem := c.crash(run):
        return not_handled(problem)
    found, why = c.reported(run, path, words=words, line=2)
    if found is None:
        return not_handled(why)
    if problem := c.lost(index, [GOOD, "otter3"]):
        return not_handled(f"{problem}; ingest said: {found}")
    return handled(found)


@case("jsonl-invalid-json-line", _BAD_LINE)
def _(c: Ctx) -> Outcome:
    return _jsonl_bad_line(c, '{"id": "x", "text": "unterminated', ["json"])


@case("jsonl-not-an-object", _BAD_LINE + " (a JSON list is not a record)")
def _(c: Ctx) -> Outcome:
    return _jsonl_bad_line(c, "[1, 2]", ["object"])


@case("jsonl-missing-text", _BAD_LINE + "; the warning says 'text'")
def _(c: Ctx) -> Outcome:
    return _jsonl_bad_line(c, {"id": "x", "title": "no text"}, ["text"])


@case("jsonl-empty-text", _BAD_LINE + "; the warning says 'text'")
def _(c: Ctx) -> Outcome:
    return _jsonl_bad_line(c, {"id": "x", "title": "empty", "text": ""}, ["text"])


@case("jsonl-whitespace-text", _BAD_LINE + "; the warning says 'text'")
def _(c: Ctx) -> Outcome:
    return _jsonl_bad_line(c, {"id": "x", "title": "blank", "text": " \n\t "}, ["text"])


@case("jsonl-text-is-a-list", _BAD_LINE + "; the warning names the field 'text'")
def _(c: Ctx) -> Outcome:
    return _jsonl_bad_line(c, {"id": "x", "text": ["a", "b"]}, ["'text'"])


@case("jsonl-object-id", _BAD_LINE + "; the warning names the field 'id'")
def _(c: Ctx) -> Outcome:
    return _jsonl_bad_line(c, record("x", {"a": 1}), ["'id'"])


@case("jsonl-authors-object", _BAD_LINE + "; the record is skipped and the warning names 'authors'")
def _(c: Ctx) -> Outcome:
    return _jsonl_bad_line(c, record("x", "x", authors={"name": "x"}), ["authors"])


@case("jsonl-invalid-utf8-line", _BAD_LINE + "; the warning says UTF-8")
def _(c: Ctx) -> Outcome:
    return _jsonl_bad_line(c, b'{"id": "x", "text": "caf\xe9 \xff\xfe latin-1 bytes"}', ["utf"])


@case("jsonl-nul-bytes", _BAD_LINE + " (raw NUL bytes inside the JSON)")
def _(c: Ctx) -> Outcome:
    return _jsonl_bad_line(c, b'{"id": "x", "text": "nul\x00inside\x00"}\x00\x00\x00')


@case("jsonl-deep-nesting", _BAD_LINE + " (200k nested lists: no RecursionError traceback)")
def _(c: Ctx) -> Outcome:
    return _jsonl_bad_line(c, "[" * 200_000 + "]" * 200_000)


@case("jsonl-huge-invalid-line-30mb", _BAD_LINE + " (an unterminated 30 MB line)")
def _(c: Ctx) -> Outcome:
    return _jsonl_bad_line(c, b'{"id": "huge", "text": "' + b"lorem ipsum " * (30 * MIB // 12))


@case("jsonl-all-lines-bad", "FAILED naming the file (no usable record); good.jsonl beside it indexed")
def _(c: Ctx) -> Outcome:
    path = write_lines(c.path("in", "bad.jsonl"), ["{nope", "[1]", '{"id": 3}'])
    return check_reported(c, [path, good_jsonl(c)], path)


@case("jsonl-id-null-twice", "both records indexed, under two distinct ids")
def _(c: Ctx) -> Outcome:
    path = write_lines(c.path("in", "nulls.jsonl"), [record(GOOD, None), record("otter2", None)])

    def distinct(index: Path) -> str | None:
        ids = {h["document"]["id"] for w in (GOOD, "otter2") for h in c.hits(index, w)}
        return None if len(ids) == 2 else f"ids of the two records: {sorted(ids)}"

    return check_accepted(c, [path], present=[GOOD, "otter2"], verify=distinct)


@case("jsonl-numeric-id", "ingested under the id '12345' (the digits)")
def _(c: Ctx) -> Outcome:
    path = write_lines(c.path("in", "num.jsonl"), [record(GOOD, 12345)])

    def digits(index: Path) -> str | None:
        ids = {h["document"]["id"] for h in c.hits(index, GOOD)}
        return None if ids == {"12345"} else f"stored ids {sorted(ids)}, expected ['12345']"

    return check_accepted(c, [path], verify=digits)


@case("jsonl-authors-numbers", "authors [1, 2] coerced: ingested, stored authors ['1', '2']")
def _(c: Ctx) -> Outcome:
    path = write_lines(c.path("in", "authors.jsonl"), [record(GOOD, "a1", authors=[1, 2])])

    def coerced(index: Path) -> str | None:
        authors = stored_documents(index).get("a1", {}).get("metadata", {}).get("authors")
        return None if authors == ["1", "2"] else f"stored authors {authors!r}"

    return check_accepted(c, [path], verify=coerced)


@case("jsonl-year-abc", "ingested with no year (not a garbage year), or a warning naming 'year'")
def _(c: Ctx) -> Outcome:
    path = write_lines(c.path("in", "year.jsonl"), [record(GOOD, "y1", year="abc")])
    index = c.new_index()
    run = c.ingest(path, index=index)
    if problem := c.crash(run):
        return not_handled(problem)
    found, _ = c.reported(run, path, words=["year"])
    if found:
        return handled(found)
    if problem := c.lost(index, [GOOD]):
        return not_handled(problem)
    years = {h["document"]["year"] for h in c.hits(index, GOOD)}
    return handled("ingested with year null") if years == {None} else not_handled(f"stored year {years}")


@case("jsonl-year-nan", "NaN year (JSON extension): ingested without a year, or a warning; no traceback")
def _(c: Ctx) -> Outcome:
    path = write_lines(c.path("in", "nan.jsonl"), ['{"id": "n1", "year": NaN, "text": "' + sentence(GOOD) + '"}'])
    return check_reported_or_accepted(c, [path, good_jsonl(c, c.folder("other"))], path, token=GOOD)


@case("jsonl-lone-surrogate", "a lone \\ud800 escape: record ingested (surrogate replaced) or warned; no traceback")
def _(c: Ctx) -> Outcome:
    path = write_lines(
        c.path("in", "surrogate.jsonl"),
        ['{"id": "s1", "title": "bad \\ud800 escape", "text": "otter5 \\udfff ' + FILLER + '"}'],
    )
    return check_reported_or_accepted(c, [path, good_jsonl(c)], path, token="otter5")


@case("jsonl-utf8-bom", "a BOM before the first line is dropped: first id is exactly 'bom-1'")
def _(c: Ctx) -> Outcome:
    path = c.path("in", "bom.jsonl")
    path.write_bytes(b"\xef\xbb\xbf" + (json.dumps(record(GOOD, "bom-1")) + "\n").encode())

    def exact(index: Path) -> str | None:
        ids = {h["document"]["id"] for h in c.hits(index, GOOD)}
        return None if ids == {"bom-1"} else f"stored ids {sorted(map(ascii, ids))}"

    return check_accepted(c, [path], verify=exact)


@case("jsonl-crlf", "CRLF line endings: every record ingested, no '\\r' in ids or text")
def _(c: Ctx) -> Outcome:
    path = write_lines(c.path("in", "crlf.jsonl"), [record(GOOD, "c1"), record("otter2", "c2")], end=b"\r\n")

    def clean(index: Path) -> str | None:
        docs = stored_documents(index)
        bad = [i for i, d in docs.items() if "\r" in i or "\r" in d.get("text", "")]
        return f"\\r stored in {bad}" if bad else None

    return check_accepted(c, [path], present=[GOOD, "otter2"], verify=clean)


@case("jsonl-empty-file", "0-byte file reported (SKIPPED/FAILED with a reason); good.jsonl indexed")
def _(c: Ctx) -> Outcome:
    path = c.path("in", "empty.jsonl")
    path.write_bytes(b"")
    good_jsonl(c)
    return check_reported(c, [c.dir / "in"], path)


@case("jsonl-blank-lines-only", "only blank lines: reported as holding no records; good.jsonl indexed")
def _(c: Ctx) -> Outcome:
    path = c.path("in", "blank.jsonl")
    path.write_bytes(b"\n  \n\t\n\r\n" * 100)
    return check_reported(c, [path, good_jsonl(c)], path)


@case("jsonl-huge-field-30mb", "a valid 30 MB line (30 MB metadata field): ingested or reported, in time and memory")
def _(c: Ctx) -> Outcome:
    path = c.path("in", "hugefield.jsonl")
    with open(path, "w") as fh:
        fh.write(json.dumps(record("otter6", "h1", notes="x" * (30 * MIB))) + "\n")
    return check_reported_or_accepted(c, [path, good_jsonl(c)], path, token="otter6")


@case("jsonl-ansi-escape-title", "escape sequences in a title/id never reach the terminal: no ESC byte in output")
def _(c: Ctx) -> Outcome:
    path = write_lines(
        c.path("in", "ansi.jsonl"),
        [{"id": "e\x1b[2Jvil", "title": "\x1b]0;pwned\x07\x1b[31mRed", "text": sentence(GOOD)}],
    )
    index = c.new_index()
    run = c.ingest(path, index=index)
    if problem := c.crash(run):
        return not_handled(problem)
    shown = c.cli("search", GOOD, "--index", index)
    if problem := c.crash(shown) or (shown.exit != 0 and f"search exit {shown.exit}"):
        return not_handled(problem)
    if "\x1b" in run.output or "\x1b" in shown.output or "\x07" in shown.output:
        return not_handled("a raw ESC/BEL byte reached the terminal")
    if GOOD not in shown.stdout:
        return not_handled("record not found by search")
    return handled("ingested; search output escaped")


# gzip -------------------------------------------------------------------------------------------


def gzip_bomb(path: Path, line: bytes, head: bytes = b"", members: int = 48, member_mib: int = 32) -> Path:
    """`head`, then `members` copies of one gzip member of `member_mib` MiB of `line`s: about 2 MB
    on disk, 1.5 GiB inside (a gzip file may hold several members; they decompress as one stream)."""
    block = line * (member_mib * MIB // len(line))
    member = gzip.compress(block, compresslevel=9, mtime=0)
    with open(path, "wb") as fh:
        if head:
            fh.write(gzip.compress(head, mtime=0))
        for _ in range(members):
            fh.write(member)
    return path


_BOMB_WORDS = ["decompress", "bomb", "limit", "large"]


@case("gzip-jsonl-bomb", "~2 MB .jsonl.gz expanding to 1.5 GiB: SKIPPED as too large/bomb, quickly; good indexed")
def _(c: Ctx) -> Outcome:
    line = (json.dumps({"id": "bomb", "title": "bomb", "text": "lol " * 16384}) + "\n").encode()
    path = gzip_bomb(c.path("in", "bomb.jsonl.gz"), line)
    return check_reported(c, [path, good_jsonl(c)], path, words=_BOMB_WORDS)


@case("gzip-xml-bomb", "~2 MB .xml.gz (PubMed) expanding to 1.5 GiB: SKIPPED as too large/bomb; good indexed")
def _(c: Ctx) -> Outcome:
    head = b'<?xml version="1.0"?>\n<PubmedArticleSet>\n<PubmedArticle><MedlineCitation><PMID>1</PMID>'
    line = b"<Article><ArticleTitle>" + b"lol " * 16384 + b"</ArticleTitle></Article>\n"
    path = gzip_bomb(c.path("in", "bomb.xml.gz"), line, head=head)
    return check_reported(c, [path, good_jsonl(c)], path, words=_BOMB_WORDS)


@case("gzip-truncated", "a .jsonl.gz cut in half: reported (corrupt/truncated); good indexed")
def _(c: Ctx) -> Outcome:
    data = gzip.compress(b"".join((json.dumps(record(f"w{i}", f"t{i}")) + "\n").encode() for i in range(2000)))
    path = c.path("in", "cut.jsonl.gz")
    path.write_bytes(data[: len(data) // 2])
    return check_reported(c, [path, good_jsonl(c)], path)


@case("gzip-not-gzip", "plain bytes named .jsonl.gz: reported as not gzip; good indexed")
def _(c: Ctx) -> Outcome:
    path = c.path("in", "fake.jsonl.gz")
    path.write_text(json.dumps(record("otter7", "f1")) + "\n")
    return check_reported(c, [path, good_jsonl(c)], path, words=["gzip"])


@case("gzip-empty-member", "a valid gzip of 0 bytes: reported as empty; good indexed")
def _(c: Ctx) -> Outcome:
    path = c.path("in", "empty.jsonl.gz")
    path.write_bytes(gzip.compress(b""))
    return check_reported(c, [path, good_jsonl(c)], path)


# XML --------------------------------------------------------------------------------------------


def pubmed_article(pmid: str | None, title: str, abstract: str) -> str:
    pmid_xml = f"<PMID>{pmid}</PMID>" if pmid else ""
    return (
        f"<PubmedArticle><MedlineCitation>{pmid_xml}<Article><ArticleTitle>{title}</ArticleTitle>"
        f"<Abstract><AbstractText>{abstract}</AbstractText></Abstract></Article></MedlineCitation></PubmedArticle>"
    )


def pubmed(*articles: str, doctype: str = "") -> str:
    return f'<?xml version="1.0"?>\n{doctype}<PubmedArticleSet>{"".join(articles)}</PubmedArticleSet>\n'


def passwd_markers() -> list[str]:
    """Strings of /etc/passwd that would show it was read into the index."""
    try:
        text = Path("/etc/passwd").read_text(errors="replace")
    except OSError:
        return ["root:x:0"]
    return [m for m in ("root:x:0", "/usr/sbin/nologin", "/bin/bash", "daemon:x:") if m in text] or ["root:"]


@case("xml-malformed", "unclosed elements: FAILED 'malformed XML'; good indexed")
def _(c: Ctx) -> Outcome:
    path = c.path("in", "broken.xml")
    path.write_text('<?xml version="1.0"?><PubmedArticleSet><PubmedArticle><MedlineCitation><PMID>1')
    return check_reported(c, [path, good_jsonl(c)], path, words=["malformed", "xml"])


@case("xml-billion-laughs", "nested internal entities: refused as unsafe XML, at once; good indexed")
def _(c: Ctx) -> Outcome:
    ents = ['<!ENTITY lol0 "lol">'] + [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)]
    doctype = "<!DOCTYPE PubmedArticleSet [\n" + "\n".join(ents) + "\n]>\n"
    path = c.path("in", "laughs.xml")
    path.write_text(pubmed(pubmed_article("1", "&lol9;", "&lol9;"), doctype=doctype))
    return check_reported(c, [path, good_jsonl(c)], path, words=["unsafe", "entit"])


@case("xml-xxe-file", "external entity to /etc/passwd: refused; no line of /etc/passwd in the index")
def _(c: Ctx) -> Outcome:
    doctype = '<!DOCTYPE PubmedArticleSet [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
    path = c.path("in", "xxe.xml")
    path.write_text(pubmed(pubmed_article("2", "XXE " + SECRET, "&xxe; " + SECRET), doctype=doctype))
    return check_reported(
        c, [path, good_jsonl(c)], path, words=["unsafe", "entit", "external"], absent=passwd_markers()
    )


@case("xml-xxe-parameter-entity", "external parameter entity: refused; /etc/passwd not read")
def _(c: Ctx) -> Outcome:
    doctype = '<!DOCTYPE PubmedArticleSet [<!ENTITY % remote SYSTEM "file:///etc/passwd"> %remote;]>\n'
    path = c.path("in", "xxe-param.xml")
    path.write_text(pubmed(pubmed_article("3", "param", "param " + SECRET), doctype=doctype))
    return check_reported(c, [path, good_jsonl(c)], path, words=["unsafe", "entit", "external", "malformed"])


@case("xml-external-dtd", "DOCTYPE with a SYSTEM DTD at an unroutable address: never fetched (no hang); ingested")
def _(c: Ctx) -> Outcome:
    doctype = '<!DOCTYPE PubmedArticleSet SYSTEM "http://10.255.255.1/pubmed.dtd">\n'
    path = c.path("in", "dtd.xml")
    path.write_text(pubmed(pubmed_article("4", "Dtd", sentence("otter8")), doctype=doctype))
    return check_reported_or_accepted(c, [path, good_jsonl(c)], path, token="otter8")


@case("xml-xinclude", "xi:include of /etc/passwd: not expanded (ingested without it) or refused")
def _(c: Ctx) -> Outcome:
    body = (
        f'{sentence("otter9")} <xi:include xmlns:xi="http://www.w3.org/2001/XInclude" '
        'href="file:///etc/passwd" parse="text"/>'
    )
    path = c.path("in", "xinclude.xml")
    path.write_text(pubmed(pubmed_article("5", "XInclude", body)))
    return check_reported_or_accepted(c, [path, good_jsonl(c)], path, token="otter9", absent=passwd_markers())


@case("xml-wrong-root", "<html> in a .xml: SKIPPED/FAILED naming the root; good indexed")
def _(c: Ctx) -> Outcome:
    path = c.path("in", "page.xml")
    path.write_text(f"<html><body><p>{sentence('otter10')}</p></body></html>")
    return check_reported(c, [path, good_jsonl(c)], path, words=["root", "html"])


@case("xml-pubmed-no-pmid", "an article without PMID: warning naming the file and 'PMID'; the other article indexed")
def _(c: Ctx) -> Outcome:
    path = c.path("in", "nopmid.xml")
    path.write_text(pubmed(pubmed_article("6", "Good", sentence(GOOD)), pubmed_article(None, "No id", sentence("x"))))
    return check_reported(c, [path], path, words=["pmid"])


@case("xml-deep-nesting", "100k nested elements in an abstract: reported or ingested; no RecursionError")
def _(c: Ctx) -> Outcome:
    depth = 100_000
    body = "<i>" * depth + sentence("otter11") + "</i>" * depth
    path = c.path("in", "deep.xml")
    path.write_text(pubmed(pubmed_article("7", "Deep", body)))
    return check_reported_or_accepted(c, [path, good_jsonl(c)], path, token="otter11")


@case("xml-bogus-encoding", "encoding='x-bogus' declaration: FAILED malformed/encoding; good indexed")
def _(c: Ctx) -> Outcome:
    path = c.path("in", "enc.xml")
    path.write_text(
        pubmed(pubmed_article("8", "Enc", sentence("x"))).replace('version="1.0"', 'version="1.0" encoding="x-bogus"')
    )
    return check_reported(c, [path, good_jsonl(c)], path)


@case("xml-empty-file", "0-byte .xml: reported as empty; good indexed")
def _(c: Ctx) -> Outcome:
    path = c.path("in", "empty.xml")
    path.write_bytes(b"")
    return check_reported(c, [path, good_jsonl(c)], path)


@case("xml-jats-no-body", "JATS <article> with only a title: reported (no text) or ingested with the title")
def _(c: Ctx) -> Outcome:
    path = c.path("in", "jats.xml")
    path.write_text(
        "<article><front><article-meta><title-group><article-title>otter12 title only</article-title>"
        "</title-group></article-meta></front></article>"
    )
    return check_reported_or_accepted(c, [path, good_jsonl(c)], path, token="otter12")


# Markdown ---------------------------------------------------------------------------------------


def markdown(c: Ctx, name: str, front: str | None, body: str = "") -> Path:
    path = c.path("in", name)
    head = f"---\n{front}\n---\n" if front is not None else ""
    path.write_text(head + (body or f"# A note\n\n{sentence('otter13')}\n"))
    return path


@case("md-front-matter-list", "front matter is a YAML list: FAILED saying it must be a mapping; good indexed")
def _(c: Ctx) -> Outcome:
    path = markdown(c, "list.md", "- a\n- b")
    return check_reported(c, [path, good_jsonl(c)], path, words=["mapping"])


@case("md-front-matter-authors-object", "authors: {name: x}: FAILED naming 'authors'; good indexed")
def _(c: Ctx) -> Outcome:
    path = markdown(c, "authors.md", "title: T\nauthors: {name: x}")
    return check_reported(c, [path, good_jsonl(c)], path, words=["authors"])


@case("md-front-matter-unterminated", "no closing ---: reported, or ingested with the body text kept (not lost)")
def _(c: Ctx) -> Outcome:
    path = c.path("in", "open.md")
    path.write_text(f"---\ntitle: Open\nyear: 2020\n# A note\n\n{sentence('otter14')}\n")
    return check_reported_or_accepted(c, [path, good_jsonl(c)], path, token="otter14")


@case("md-yaml-bomb", "anchors/aliases 9^9 'billion laughs': reported at once, within time and memory")
def _(c: Ctx) -> Outcome:
    lines = ['l0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"l{i}: &a{i} [{','.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    path = markdown(c, "bomb.md", "title: Bomb\n" + "\n".join(lines))
    return check_reported(c, [path, good_jsonl(c)], path)


@case("md-yaml-alias-cycle", "a: &a [*a] (a self-referencing list): reported; no RecursionError")
def _(c: Ctx) -> Outcome:
    path = markdown(c, "cycle.md", "title: Cycle\nloop: &a [*a]")
    return check_reported(c, [path, good_jsonl(c)], path)


@case("md-python-object-tag", "!!python/object/apply:os.system: refused as not safe YAML; the command never runs")
def _(c: Ctx) -> Outcome:
    marker = c.dir / "PWNED"
    path = markdown(c, "tag.md", f'title: x\nx: !!python/object/apply:os.system ["touch {marker}"]')
    outcome = check_reported(c, [path, good_jsonl(c)], path)
    if marker.exists():
        return not_handled("the YAML tag ran a command")
    return outcome


@case("md-invalid-date", "year: 2019-13-45 (YAML date out of range): reported, or ingested without a year")
def _(c: Ctx) -> Outcome:
    path = markdown(c, "date.md", "title: Date\nyear: 2019-13-45")
    return check_reported_or_accepted(c, [path, good_jsonl(c)], path, token="otter13")


@case("md-only-front-matter", "front matter and a heading, no text: reported as empty; good indexed")
def _(c: Ctx) -> Outcome:
    path = markdown(c, "nothing.md", "title: Nothing", body="# Heading only\n")
    return check_reported(c, [path, good_jsonl(c)], path)


@case("md-invalid-utf8", "Markdown with a 0xff byte: FAILED not UTF-8; good indexed")
def _(c: Ctx) -> Outcome:
    path = c.path("in", "bytes.md")
    path.write_bytes(b"# Title\n\ncaf\xff " + FILLER.encode())
    return check_reported(c, [path, good_jsonl(c)], path, words=["utf"])


# PDF --------------------------------------------------------------------------------------------


def make_pdf(path: Path, pages: list[str], title: str = "Handout") -> Path:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_title(title)
    pdf.set_font("Helvetica", size=11)
    for text in pages:
        pdf.add_page()
        if text:
            pdf.multi_cell(0, 6, text)
    pdf.output(str(path))
    return path


def encrypt_pdf(path: Path, user_password: str) -> Path:
    from pypdf import PdfReader, PdfWriter

    plain = make_pdf(path.with_name("plain-" + path.name), [sentence("otter15")])
    writer = PdfWriter(clone_from=PdfReader(plain))
    writer.encrypt(user_password=user_password, owner_password="owner-secret", algorithm="AES-256")
    with open(path, "wb") as fh:
        writer.write(fh)
    plain.unlink()
    return path


@case("pdf-garbage", "random bytes named .pdf: FAILED corrupt; good indexed")
def _(c: Ctx) -> Outcome:
    path = c.path("in", "garbage.pdf")
    path.write_bytes(os.urandom(20_000))
    return check_reported(c, [path, good_jsonl(c)], path)


@case("pdf-header-only", "'%PDF-1.7' and nothing else: FAILED corrupt; good indexed")
def _(c: Ctx) -> Outcome:
    path = c.path("in", "header.pdf")
    path.write_bytes(b"%PDF-1.7\n")
    return check_reported(c, [path, good_jsonl(c)], path)


@case("pdf-truncated", "a 3-page PDF cut at 60%: reported, or ingested with its first page's text")
def _(c: Ctx) -> Outcome:
    full = make_pdf(c.path("full.pdf"), [sentence("otter16"), sentence("second"), sentence("third")])
    path = c.path("in", "truncated.pdf")
    data = full.read_bytes()
    path.write_bytes(data[: int(len(data) * 0.6)])
    return check_reported_or_accepted(c, [path, good_jsonl(c)], path, token="otter16")


@case("pdf-owner-password-aes", "AES-256, owner password only (opens without one): read normally, exit 0")
def _(c: Ctx) -> Outcome:
    path = encrypt_pdf(c.path("in", "owner.pdf"), user_password="")
    return check_accepted(c, [path], present=["otter15"])


@case("pdf-user-password", "AES-256 with a user password: reported 'encrypted: needs a password'; good indexed")
def _(c: Ctx) -> Outcome:
    path = encrypt_pdf(c.path("in", "locked.pdf"), user_password="s3cret")
    return check_reported(c, [path, good_jsonl(c)], path, words=["password"], absent=["otter15"])


@case("pdf-no-text", "a page with no text (scanned-like): reported as holding no text; good indexed")
def _(c: Ctx) -> Outcome:
    path = make_pdf(c.path("in", "blank.pdf"), [""])
    return check_reported(c, [path, good_jsonl(c)], path)


@case("pdf-zero-pages", "a valid PDF with no pages: reported; good indexed")
def _(c: Ctx) -> Outcome:
    from pypdf import PdfWriter

    path = c.path("in", "nopages.pdf")
    with open(path, "wb") as fh:
        PdfWriter().write(fh)
    return check_reported(c, [path, good_jsonl(c)], path)


# text -------------------------------------------------------------------------------------------


@case("txt-binary", "random bytes (with NULs) named .txt: FAILED (binary/not UTF-8); good indexed")
def _(c: Ctx) -> Outcome:
    path = c.path("in", "binary.txt")
    path.write_bytes(os.urandom(8192) + b"\x00" * 64)
    return check_reported(c, [path, good_jsonl(c)], path)


@case("txt-200mb", "a 200 MB .txt: SKIPPED by the 64 MiB limit, the message names --max-file-mib; good indexed")
def _(c: Ctx) -> Outcome:
    path = c.path("in", "big.txt")
    block = (FILLER + "\n\n").encode() * (MIB // (len(FILLER) + 2) + 1)
    block = block[:MIB]
    with open(path, "wb") as fh:
        for _ in range(200):
            fh.write(block)
    outcome = check_reported(c, [path, good_jsonl(c)], path, words=["--max-file-mib"])
    path.unlink()
    return outcome


@case("txt-latin1", "Latin-1 text: reported (not UTF-8, with a hint), or ingested with 'médicament' intact")
def _(c: Ctx) -> Outcome:
    path = c.path("in", "latin1.txt")
    path.write_bytes(f"Notes\n\nCaf\xe9 m\xe9dicament otter17 {FILLER}\n".encode("latin-1"))

    def intact(hits: list[dict]) -> str | None:
        return None if any("médicament" in h["chunk"]["text"] for h in hits) else "accents mangled (mojibake)"

    return check_reported_or_accepted(c, [path, good_jsonl(c)], path, token="otter17", verify=intact)


@case("txt-utf16", "UTF-16 text with BOM: reported, or ingested with the words intact")
def _(c: Ctx) -> Outcome:
    path = c.path("in", "utf16.txt")
    path.write_bytes(f"Notes\n\notter18 {FILLER}\n".encode("utf-16"))
    return check_reported_or_accepted(c, [path, good_jsonl(c)], path, token="otter18")


@case("txt-nul-in-middle", "good text with one NUL byte: reported (binary?) or ingested without the NUL")
def _(c: Ctx) -> Outcome:
    path = c.path("in", "nul.txt")
    path.write_bytes(f"Notes\n\notter19 {FILLER}\x00 more text\n".encode())

    def no_nul(hits: list[dict]) -> str | None:
        return "NUL stored" if any("\x00" in h["chunk"]["text"] for h in hits) else None

    return check_reported_or_accepted(c, [path, good_jsonl(c)], path, token="otter19", verify=no_nul)


@case("txt-whitespace-only", "only spaces and newlines: reported as empty; good indexed")
def _(c: Ctx) -> Outcome:
    path = c.path("in", "spaces.txt")
    path.write_text(" \n\n\t  \n" * 1000)
    return check_reported(c, [path, good_jsonl(c)], path)


# files on disk ----------------------------------------------------------------------------------


def _outside_secret(c: Ctx) -> Path:
    path = c.path("outside", "secret.md")
    path.write_text(f"# Secret\n\n{sentence(SECRET)}\n")
    return path


@case("fs-symlink-outside-file", "link to a file outside the folder: SKIPPED naming 'symlink'; its text NOT searchable")
def _(c: Ctx) -> Outcome:
    link = c.path("in", "link.md")
    link.symlink_to(_outside_secret(c))
    good_jsonl(c)
    return check_reported(c, [c.dir / "in"], link, words=["symlink"], absent=[SECRET])


@case("fs-symlink-outside-folder", "link to a folder outside: SKIPPED naming 'symlink'; its files NOT searchable")
def _(c: Ctx) -> Outcome:
    _outside_secret(c)
    link = c.path("in", "ext")
    link.symlink_to(c.dir / "outside", target_is_directory=True)
    good_jsonl(c)
    return check_reported(c, [c.dir / "in"], link, words=["symlink"], absent=[SECRET])


@case("fs-symlink-self-loop", "a link to itself: SKIPPED 'symlink loop'; good indexed")
def _(c: Ctx) -> Outcome:
    link = c.path("in", "loop.md")
    link.symlink_to("loop.md")
    good_jsonl(c)
    return check_reported(c, [c.dir / "in"], link, words=["loop"])


@case("fs-symlink-dir-loop", "sub/up -> .. (a cycle of folders): reported, walked once, no hang")
def _(c: Ctx) -> Outcome:
    link = c.path("in", "sub", "up")
    link.symlink_to("..", target_is_directory=True)
    good_jsonl(c)
    return check_reported(c, [c.dir / "in"], "up", words=["loop", "symlink", "already"])


@case("fs-dangling-symlink", "a link to nothing: SKIPPED 'dangling'; good indexed")
def _(c: Ctx) -> Outcome:
    link = c.path("in", "gone.md")
    link.symlink_to(c.dir / "does-not-exist.md")
    good_jsonl(c)
    return check_reported(c, [c.dir / "in"], link, words=["dangling", "no such"])


@case("fs-fifo-in-folder", "a FIFO named pipe.jsonl in the folder: SKIPPED 'not a regular file', no hang")
def _(c: Ctx) -> Outcome:
    fifo = c.path("in", "pipe.jsonl")
    os.mkfifo(fifo)
    good_jsonl(c)
    return check_reported(c, [c.dir / "in"], fifo, words=["fifo", "regular"])


@case("fs-fifo-direct", "a FIFO given as the path: SKIPPED 'not a regular file', no hang")
def _(c: Ctx) -> Outcome:
    fifo = c.path("pipe.jsonl")
    os.mkfifo(fifo)
    return check_reported(c, [fifo, good_jsonl(c)], fifo, words=["fifo", "regular"])


@case("fs-dev-zero", "/dev/zero given as the path: SKIPPED 'a device', no endless read")
def _(c: Ctx) -> Outcome:
    return check_reported(c, ["/dev/zero", good_jsonl(c)], "/dev/zero", words=["device", "regular"])


def _as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


@case("fs-unreadable-file", "chmod 000 file: FAILED 'unreadable: Permission denied'; good indexed (n/a as root)")
def _(c: Ctx) -> Outcome:
    if _as_root():
        return Outcome("n/a", "n/a as root: permissions are not enforced")
    path = c.path("in", "locked.md")
    path.write_text(f"# Locked\n\n{sentence('x')}\n")
    path.chmod(0)
    try:
        return check_reported(c, [path, good_jsonl(c)], path, words=["permission", "unreadable"])
    finally:
        path.chmod(0o644)


@case("fs-unreadable-folder", "chmod 000 folder: reported 'unreadable folder'; good indexed (n/a as root)")
def _(c: Ctx) -> Outcome:
    if _as_root():
        return Outcome("n/a", "n/a as root: permissions are not enforced")
    folder = c.folder("in/private")
    (folder / "a.md").write_text(f"# A\n\n{sentence('x')}\n")
    folder.chmod(0)
    good_jsonl(c)
    try:
        return check_reported(c, [c.dir / "in"], folder, words=["permission", "unreadable"])
    finally:
        folder.chmod(0o755)


@case("fs-dir-named-pdf", "a folder named x.pdf/ holding a good file: walked as a folder, its file indexed, exit 0")
def _(c: Ctx) -> Outcome:
    good_jsonl(c, c.folder("in/x.pdf"))
    return check_accepted(c, [c.dir / "in"])


@case("fs-missing-path", "a path that does not exist: FAILED 'no such file'; good indexed; exit 1")
def _(c: Ctx) -> Outcome:
    return check_reported(c, [c.dir / "nope.jsonl", good_jsonl(c)], "nope.jsonl", words=["no such"])


@case("fs-empty-folder", "an empty folder: the output says the folder holds no files (named), not a bare summary")
def _(c: Ctx) -> Outcome:
    folder = c.folder("emptydir")
    index = c.new_index()
    run = c.ingest(folder, index=index)
    if problem := c.crash(run):
        return not_handled(problem)
    mentions = [ln for ln in run.output.splitlines() if "emptydir" in ln and ln.strip()]
    if not mentions:
        return not_handled(f"exit {run.exit}; folder not named; output: {c.first_line(run)}")
    if problem := c.lost(index):
        return not_handled(problem)
    return handled(mentions[0].strip())


@case("fs-unsupported-extension", "a .docx: SKIPPED 'unsupported' listing the supported types; good indexed")
def _(c: Ctx) -> Outcome:
    path = c.path("in", "letter.docx")
    path.write_bytes(b"PK\x03\x04" + os.urandom(500))
    return check_reported(c, [path, good_jsonl(c)], path, words=["unsupported"])


@case("fs-control-chars-in-name", "a file name with a newline and ESC: reported escaped; no ESC or forged line")
def _(c: Ctx) -> Outcome:
    path = c.path("in", "evil\nSKIPPED: forged\x1b[31m.docx")
    path.write_bytes(b"x")
    good_jsonl(c)
    index = c.new_index()
    run = c.ingest(c.dir / "in", index=index)
    if problem := c.crash(run):
        return not_handled(problem)
    if "\x1b" in run.output:
        return not_handled("a raw ESC from the file name reached the terminal")
    if any(ln.startswith("SKIPPED: forged") for ln in run.output.splitlines()):
        return not_handled("the newline in the name forged a report line")
    found = [ln for ln in run.output.splitlines() if "forged" in ln and ln.startswith(REPORT_KINDS)]
    if not found:
        return not_handled(f"exit {run.exit}; the file is not reported")
    if problem := c.lost(index, [GOOD]):
        return not_handled(problem)
    return handled(found[0])


# arguments --------------------------------------------------------------------------------------


@case("arg-index-empty", '--index "": one-line error, exit 2')
def _(c: Ctx) -> Outcome:
    return check_refused(c, ["ingest", good_jsonl(c), "--index", "", "--quiet"], words=["index"])


@case("arg-index-is-file", "--index a regular file: one-line error; the file unchanged")
def _(c: Ctx) -> Outcome:
    target = c.path("notes.txt")
    target.write_text("my notes\n")
    return check_refused(c, ["ingest", good_jsonl(c), "--index", target, "--quiet"], untouched=target)


@case("arg-index-foreign-folder", "--index a non-empty folder that is no index: refused; its files untouched")
def _(c: Ctx) -> Outcome:
    folder = c.folder("thesis")
    (folder / "chapter1.txt").write_text("draft\n")
    (folder / "data.csv").write_text("a,b\n1,2\n")
    return check_refused(c, ["ingest", good_jsonl(c), "--index", folder, "--quiet"], untouched=c.dir / "thesis")


@case("arg-unknown-flag", "ingest --frobnicate: usage error naming the option, exit 2")
def _(c: Ctx) -> Outcome:
    return check_refused(c, ["ingest", good_jsonl(c), "--index", c.dir / "index", "--frobnicate"], words=["frobnicate"])


@case("arg-chunk-tokens-zero", "--chunk-tokens 0: one-line error naming the setting; no index written")
def _(c: Ctx) -> Outcome:
    return check_refused(
        c, ["ingest", good_jsonl(c), "--index", c.dir / "index", "--chunk-tokens", "0"], words=["chunk", "token"]
    )


@case("arg-overlap-over-max", "--chunk-tokens 50 --chunk-overlap 80: one-line error")
def _(c: Ctx) -> Outcome:
    args = ["ingest", good_jsonl(c), "--index", c.dir / "index", "--chunk-tokens", "50", "--chunk-overlap", "80"]
    return check_refused(c, args, words=["overlap"])


@case("arg-max-file-mib-negative", "--max-file-mib -1: one-line error")
def _(c: Ctx) -> Outcome:
    return check_refused(c, ["ingest", good_jsonl(c), "--index", c.dir / "index", "--max-file-mib", "-1"])


@case("arg-bad-config-toml", "--config with broken TOML: one-line error naming the file")
def _(c: Ctx) -> Outcome:
    cfg = c.path("broken.toml")
    cfg.write_text("[ingest\nmax_file_mib = = 3\n")
    return check_refused(
        c, ["--config", cfg, "ingest", good_jsonl(c), "--index", c.dir / "index"], words=["broken.toml"]
    )


@case("arg-bad-env-value", "RAG_ORACLE_INGEST__MAX_FILE_MIB=lots: one-line error naming the variable/setting")
def _(c: Ctx) -> Outcome:
    run = c.cli(
        "ingest", good_jsonl(c), "--index", c.dir / "index", "--quiet", env={"RAG_ORACLE_INGEST__MAX_FILE_MIB": "lots"}
    )
    if problem := c.crash(run):
        return not_handled(problem)
    line = c.error_line(run)
    if run.exit == 0 or line is None:
        return not_handled(f"exit {run.exit}: {c.short(run.stderr or run.stdout, 120)!r}")
    if "max_file_mib" not in line.lower() and "MAX_FILE_MIB" not in line:
        return not_handled(f"error does not name the setting: {line}")
    return handled(line)


@case("arg-search-missing-index", "search --index at nothing: one-line error, and the path is not created")
def _(c: Ctx) -> Outcome:
    target = c.dir / "no-index-here"
    outcome = check_refused(c, ["search", "warfarin", "--index", target])
    if target.exists():
        return not_handled(f"a reader created {target.name}/")
    return outcome


@case("arg-search-empty-query", "search '' on a good index: exit 0 (no passages) or a one-line error; no traceback")
def _(c: Ctx) -> Outcome:
    index = c.new_index()
    run = c.cli("search", "", "--index", index)
    if problem := c.crash(run):
        return not_handled(problem)
    if run.exit == 0:
        return handled(f"exit 0: {c.first_line(run)}")
    line = c.error_line(run)
    return handled(line) if line else not_handled(f"exit {run.exit} without a one-line error")


@case("arg-search-k-negative", "search -k -3: one-line error (or no passages); no traceback")
def _(c: Ctx) -> Outcome:
    index = c.new_index()
    run = c.cli("search", "warfarin", "--index", index, "-k", "-3")
    if problem := c.crash(run):
        return not_handled(problem)
    if run.exit == 0:
        return handled(f"exit 0: {c.first_line(run)}")
    line = c.error_line(run)
    return handled(line) if line else not_handled(f"exit {run.exit} without a one-line error")


# index damage -----------------------------------------------------------------------------------


def generation(index: Path) -> Path:
    return index / (index / "CURRENT").read_text().strip()


def check_damaged(c: Ctx, damage: Callable[[Path, Path], None]) -> Outcome:
    """Damage a copy of the seed index; `search` must fail with one error line (exit != 0) and
    `index verify` exit 1, neither with a traceback."""
    index = c.new_index()
    damage(index, generation(index))
    search = c.cli("search", SEED, "--index", index)
    if problem := c.crash(search):
        return not_handled(problem)
    if search.exit == 0:
        return not_handled(f"search exit 0 on a damaged index: {c.first_line(search)}")
    line = c.error_line(search)
    if line is None:
        return not_handled(f"search exit {search.exit} without a one-line error: {c.short(search.stderr, 100)!r}")
    verify = c.cli("index", "verify", index)
    if problem := c.crash(verify):
        return not_handled(f"{problem}; search said: {c.short(line, 60)}")
    if verify.exit != 1:
        return not_handled(f"verify exit {verify.exit} (expected 1): {c.first_line(verify)}")
    return handled(f"search: {line} | verify: {c.first_line(verify)}")


def _flip_byte(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    offset = offset % len(data)
    data[offset] ^= 0x20
    path.write_bytes(bytes(data))


def _truncate(path: Path, fraction: float = 0.5) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])


_DAMAGE = "search: one 'error:' line, exit != 0; index verify: exit 1; no traceback"


@case("index-manifest-json-list", _DAMAGE + " (manifest.json is [1,2])")
def _(c: Ctx) -> Outcome:
    return check_damaged(c, lambda i, g: (g / "manifest.json").write_text("[1, 2]"))


@case("index-manifest-truncated", _DAMAGE + " (manifest.json cut in half)")
def _(c: Ctx) -> Outcome:
    return check_damaged(c, lambda i, g: _truncate(g / "manifest.json"))


@case("index-store-flipped-byte", _DAMAGE + " (one letter of store.sqlite's text changes case: still a valid row)")
def _(c: Ctx) -> Outcome:
    def flip(index: Path, gen: Path) -> None:
        path = gen / "store.sqlite"
        _flip_byte(path, path.read_bytes().index(SEED.encode()) + 2)

    return check_damaged(c, flip)


@case("index-store-truncated", _DAMAGE + " (store.sqlite cut in half)")
def _(c: Ctx) -> Outcome:
    return check_damaged(c, lambda i, g: _truncate(g / "store.sqlite"))


@case("index-store-not-a-database", _DAMAGE + " (store.sqlite overwritten with text of the same size)")
def _(c: Ctx) -> Outcome:
    def overwrite(index: Path, gen: Path) -> None:
        path = gen / "store.sqlite"
        size = path.stat().st_size
        path.write_bytes((b"not a database\n" * (size // 15 + 1))[:size])

    return check_damaged(c, overwrite)


@case("index-dense-faiss-truncated", _DAMAGE + " (dense.faiss cut in half)")
def _(c: Ctx) -> Outcome:
    return check_damaged(c, lambda i, g: _truncate(g / "dense.faiss"))


@case("index-bm25-npy-corrupt", _DAMAGE + " (a bm25 .npy overwritten with garbage of the same size)")
def _(c: Ctx) -> Outcome:
    def corrupt(index: Path, gen: Path) -> None:
        npy = sorted((gen / "bm25").glob("*.npy"))[0]
        npy.write_bytes(os.urandom(npy.stat().st_size))

    return check_damaged(c, corrupt)


@case("index-current-missing-generation", _DAMAGE + " (CURRENT names g000099, which does not exist)")
def _(c: Ctx) -> Outcome:
    return check_damaged(c, lambda i, g: (i / "CURRENT").write_text("g000099\n"))


@case("index-current-garbage", _DAMAGE + " (CURRENT holds binary garbage)")
def _(c: Ctx) -> Outcome:
    return check_damaged(c, lambda i, g: (i / "CURRENT").write_bytes(b"\xff\xfe../../etc\x00"))


@case("index-generation-deleted", _DAMAGE + " (the generation CURRENT names is deleted)")
def _(c: Ctx) -> Outcome:
    return check_damaged(c, lambda i, g: shutil.rmtree(g))


def check_ingest_into_damaged(c: Ctx, damage: Callable[[Path, Path], None]) -> Outcome:
    """An ingest into a damaged index must refuse, not start a new index over the stored one."""
    index = c.new_index()
    gen = generation(index)
    damage(index, gen)
    before = tree_digest(gen)
    outcome = check_refused(c, ["ingest", good_jsonl(c), "--index", index, "--quiet"])
    if not gen.is_dir() or tree_digest(gen) != before:
        return not_handled(f"the stored generation {gen.name} was changed or removed; {outcome.evidence}")
    return outcome


@case("index-ingest-into-garbage-current", "ingest into an index whose CURRENT is garbage: refused; g000001 untouched")
def _(c: Ctx) -> Outcome:
    return check_ingest_into_damaged(c, lambda i, g: (i / "CURRENT").write_text("garbage\n"))


@case("index-ingest-into-bad-manifest", "ingest into an index whose manifest is [1,2]: refused; files untouched")
def _(c: Ctx) -> Outcome:
    return check_ingest_into_damaged(c, lambda i, g: (g / "manifest.json").write_text("[1, 2]"))


# --- running the campaign -----------------------------------------------------------------------


@dataclass
class Result:
    name: str
    expect: str
    verdict: str
    exit: str
    seconds: float
    evidence: str
    runs: list[dict] = field(default_factory=list)


def build_seed(root: Path, options: Options) -> Path:
    """A one-document index every case copies (so each case can check it lost nothing)."""
    src = write_lines(root / "seed" / "seed.jsonl", [record(SEED, "seed-1")])
    index = root / "seed-index"
    run = run_cli(["ingest", str(src), "--index", str(index), "--quiet"], root, options)
    if run.exit != 0 or not (index / "CURRENT").is_file():
        raise SystemExit(f"could not build the seed index (exit {run.exit}):\n{run.stderr[-2000:]}")
    return index


def run_case(cs: Case, root: Path, options: Options, seed: Path) -> Result:
    c = Ctx(root, cs.name, options, seed)
    try:
        outcome = cs.fn(c)
    except Exception as exc:  # the harness's own failure, not the CLI's: say so rather than stop
        outcome = Outcome("error", f"harness error: {type(exc).__name__}: {exc}")
    exits = "/".join("hang" if r.hung else str(r.exit) for r in c.runs) or "-"
    return Result(
        name=cs.name,
        expect=cs.expect,
        verdict=outcome.verdict,
        exit=exits,
        seconds=sum(r.seconds for r in c.runs),
        evidence=c.short(outcome.evidence, 160),
        runs=[r.summary() for r in c.runs],
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", metavar="SUBSTRING", help="Run only the cases whose name contains SUBSTRING.")
    parser.add_argument("--list", action="store_true", help="Print the case table (name, what 'handled' means).")
    parser.add_argument("--timeout", type=float, default=60.0, help="Seconds per CLI command before 'hang' (60).")
    parser.add_argument("--jobs", type=int, default=(os.cpu_count() or 2) + 1, help="Cases run at once (cpus+1).")
    parser.add_argument("--mem-limit-mib", type=int, default=4096, help="RLIMIT_AS of each command (4096).")
    parser.add_argument("--rss-budget-mib", type=int, default=1024, help="Peak RSS over this is NOT handled (1024).")
    parser.add_argument(
        "--check-via",
        choices=["api", "cli"],
        default="api",
        help="Check the index after an ingest with the library in this process (api, default: fast) or "
        "with 'rag-oracle search --json' (cli: one more CLI start per case, about twice the run time).",
    )
    parser.add_argument("--json-out", metavar="FILE", help="Also write the results as JSON to FILE.")
    parser.add_argument("--keep", action="store_true", help="Keep the temporary folder (inputs and indexes).")
    args = parser.parse_args()

    cases = [cs for cs in CASES if not args.only or args.only in cs.name]
    if args.list:
        width = max(len(cs.name) for cs in cases)
        for cs in cases:
            print(f"{cs.name:<{width}}  {cs.expect}")
        return 0
    if not cases:
        print(f"no case name contains {args.only!r} (see --list)")
        return 0

    from _synthetic import code_version

    options = Options(args.timeout, args.mem_limit_mib, args.rss_budget_mib, args.check_via)
    root = Path(tempfile.mkdtemp(prefix="rag-oracle-bad-inputs-"))
    started = time.perf_counter()
    try:
        print("== bad-input campaign ==")
        print(
            f"date: {time.strftime('%Y-%m-%d %H:%M:%S %Z')}; code: {code_version()}; {len(cases)} cases, "
            f"{args.jobs} at once; timeout {args.timeout:g}s per command; RSS budget {args.rss_budget_mib} MiB; "
            f"index checks via {args.check_via}; "
            f"{'root' if _as_root() else 'uid ' + str(os.getuid())}"
        )
        seed = build_seed(root, options)
        width = max(len(cs.name) for cs in cases)
        results: list[Result] = []
        with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            for r in pool.map(lambda cs: run_case(cs, root, options, seed), cases):
                results.append(r)
                print(f"{r.name:<{width}}  {r.verdict:<7}  {r.exit:<7}  {r.seconds:6.1f}s  {r.evidence}", flush=True)
        counted = [r for r in results if r.verdict in ("handled", "NOT", "error")]
        ok = [r for r in counted if r.verdict == "handled"]
        na = [r for r in results if r.verdict == "n/a"]
        wall = time.perf_counter() - started
        print()
        print(
            f"{len(counted)} bad inputs tried, {len(ok)} handled"
            + (f" ({len(na)} n/a: {', '.join(r.name for r in na)})" if na else "")
            + f"; wall {wall:.0f}s"
        )
        missed = [r for r in counted if r.verdict != "handled"]
        if missed:
            print("NOT handled: " + ", ".join(r.name for r in missed))
        if args.json_out:
            payload = {
                "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "code": code_version(),
                "tried": len(counted),
                "handled": len(ok),
                "not_applicable": len(na),
                "wall_seconds": round(wall, 1),
                "options": asdict(options),
                "cases": [asdict(r) for r in results],
            }
            Path(args.json_out).write_text(json.dumps(payload, indent=2))
            print(f"wrote {args.json_out}")
    finally:
        if args.keep:
            print(f"kept {root}")
        else:
            _remove_tree(root)
    return 0


def _remove_tree(root: Path) -> None:
    # Undo chmod 000 first, or rmtree cannot enter the folders a case locked.
    for p in root.rglob("*"):
        try:
            if p.is_dir() and not p.is_symlink():
                p.chmod(0o755)
        except OSError:
            pass
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
