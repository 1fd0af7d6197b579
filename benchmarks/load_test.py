"""Load test of the HTTP server: concurrent clients on loopback against /v1/ask and /v1/search.

Run from the repository root (prints figures, asserts nothing)::

    python benchmarks/load_test.py                          # 20 clients x 60 s, a server it starts itself
    python benchmarks/load_test.py --clients 20 --duration 45 --unique --json-out after.json
    python benchmarks/load_test.py --clients 20 --duration 30 --index indexes/mine
    python benchmarks/load_test.py --clients 20 --duration 45 --unique --workers 2   # rag-oracle serve --workers 2
    python benchmarks/load_test.py --url http://127.0.0.1:8000 --api-key-env RAG_ORACLE_API_KEY

Without --url it starts `python -m rag_oracle.server` (what `rag-oracle serve` runs) on a free
loopback port with a temporary sessions file and the rate limit off, over --index or the sample
index (built from ./corpus on first use), with --workers processes (default 1), waits for /healthz
(with several workers, until every one of them has answered ready), and stops it at the end. The server
inherits this script's interpreter, environment and working directory, so `PYTHONPATH=<tree>/src`
serves another checkout (e.g. a `git worktree` of an older commit).

Each client is an asyncio task with its own keep-alive httpx connection that sends requests
back to back until the time is up: with probability --ask-share a POST /v1/ask (a question
from a fixed list of sample-corpus questions), otherwise a GET /v1/search (k=10) for one of
those questions; choices are seeded per client. The list repeats, so after the first rounds
query and sentence embeddings come from the server's embedding cache; --unique appends a
distinct case number to every question so that each query is embedded afresh. Clients start
together after --warmup uncounted requests each (alternately ask and search).

Per endpoint it reports requests, errors (by HTTP status or exception), throughput (successful
requests per second of the measured window) and latency p50/p95/p99/max of successful requests
in ms (from sending a request to reading its whole body). Figures depend on the machine and on
what else runs on it: concurrent requests run in the server's worker threads, but on 2 cores the
CPU-bound part (embedding, ranking, verification) still queues for the cores, so beyond a few
clients latency grows with their number while throughput stays about flat.

For a before/after comparison every result records what it measured: the code served (the
`rag_oracle` version, the file it was imported from, the git commit of that tree, whether the tree
had uncommitted changes, and a sha256 over the package's .py sources, which tells two dirty trees
apart), the thread settings in the environment (OMP_*, RAG_ORACLE_EMBED__TORCH_THREADS, ...), the
load average before and after, and the command line. `--json-out FILE` writes it all as JSON.

Bounds: at most 200 clients and 600 s, so a typo cannot start a runaway load.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np

MAX_CLIENTS = 200
MAX_WORKERS = 16
MAX_DURATION = 600.0
# Environment variables that change how many threads the server computes with (recorded with the figures).
THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OMP_WAIT_POLICY",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "RAG_ORACLE_EMBED__TORCH_THREADS",
    "PYTHONPATH",
)
PROBE = "import json, rag_oracle; print(json.dumps({'version': rag_oracle.__version__, 'file': rag_oracle.__file__}))"
QUESTIONS = [
    "What is the dosage of clonazepam for treating depression?",
    "How long should apixaban be held before a high-bleeding-risk procedure?",
    "How many days before surgery should warfarin be stopped?",
    "Is amoxicillin needed for acute sinusitis in adults?",
    "How should a benzodiazepine be tapered?",
    "What blood pressure target is recommended for older adults?",
    "How is heparin-induced thrombocytopenia diagnosed?",
    "Which antidepressant should be chosen first for major depression?",
    "What is the first-line treatment of chronic insomnia in older adults?",
    "When is high-intensity statin therapy recommended?",
    "How should home blood pressure be measured?",
    "What is a low platelet count and how is it confirmed?",
]


@dataclass
class Sample:
    endpoint: str
    seconds: float
    error: str | None = None


@dataclass
class Run:
    samples: list[Sample] = field(default_factory=list)
    started: float = 0.0
    ended: float = 0.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _git(cwd: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def served_code(env: dict[str, str]) -> dict:
    """Which `rag_oracle` a server started with `env` from this directory imports, and from what tree.

    Asked of a child interpreter with the server's own interpreter, environment and working
    directory, so it resolves the import exactly as the server does.
    """
    probe = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=120)
    if probe.returncode != 0:
        sys.exit(f"cannot import rag_oracle the way the server would: {probe.stderr.strip()[-500:]}")
    code = json.loads(probe.stdout)
    package = Path(code["file"]).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes() + b"\0")
    status = _git(package, "status", "--porcelain", "--", ".")
    code.update(
        {
            "package_dir": str(package),
            "git_tree": _git(package, "rev-parse", "--show-toplevel"),
            "git_commit": _git(package, "rev-parse", "HEAD"),
            # Uncommitted changes (or new files) under the package: the commit alone does not name the code.
            "git_dirty": None if status is None else bool(status),
            "git_changed_files": None if status is None else len(status.splitlines()),
            "sources_sha256": digest.hexdigest(),
        }
    )
    return code


def start_server(
    index: str | None, startup_timeout: float, env: dict[str, str], workers: int = 1
) -> tuple[subprocess.Popen, str, Path]:
    """`python -m rag_oracle.server` on a free port; returns (process, base URL, temp dir)."""
    tmp = Path(tempfile.mkdtemp(prefix="rag-oracle-load-"))
    port = free_port()
    cmd = [sys.executable, "-m", "rag_oracle.server", "--port", str(port), "--db", str(tmp / "sessions.sqlite")]
    cmd += ["--rate-limit", "0", "--log-level", "warning"] + (["--index", index] if index else [])
    cmd += ["--workers", str(workers)] if workers > 1 else []
    with open(tmp / "server.log", "w") as log:  # the child keeps its own copy of the descriptor
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + startup_timeout
    ready: set[int | None] = set()  # the workers (process ids) seen ready
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"the server exited with {proc.returncode}; see {tmp / 'server.log'}")
        try:
            # A new connection each time: with several workers, any of them may accept it.
            response = httpx.get(f"{url}/healthz", timeout=2)
            if response.status_code == 200:
                ready.add(response.json().get("worker"))
                if len(ready) >= workers:
                    return proc, url, tmp
                continue
        except httpx.TransportError:
            pass
        time.sleep(0.5 if not ready else 0.05)
    proc.kill()
    sys.exit(f"the server did not become healthy within {startup_timeout:.0f} s; see {tmp / 'server.log'}")


async def one_request(client: httpx.AsyncClient, endpoint: str, question: str) -> Sample:
    start = time.perf_counter()
    try:
        if endpoint == "ask":
            response = await client.post("/v1/ask", json={"question": question})
        else:
            response = await client.get("/v1/search", params={"q": question, "k": 10})
        body = response.json()
        error = None if response.status_code == 200 else f"HTTP {response.status_code}"
        if error is None and endpoint == "ask" and "answer" not in body:
            error = "no answer in body"
    except (httpx.HTTPError, json.JSONDecodeError) as exc:
        error = type(exc).__name__
    return Sample(endpoint, time.perf_counter() - start, error)


@dataclass
class Gate:
    """Clients warm up, report in, and all start when the last one is ready."""

    clients: int
    ready: int = 0
    all_ready: asyncio.Event = field(default_factory=asyncio.Event)
    go: asyncio.Event = field(default_factory=asyncio.Event)
    deadline: float = float("inf")

    def arrive(self) -> None:
        self.ready += 1
        if self.ready == self.clients:
            self.all_ready.set()


async def client_loop(n: int, url: str, headers: dict, args: argparse.Namespace, gate: Gate, run: Run) -> None:
    rng = random.Random(args.seed * 1000 + n)
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=args.timeout, limits=limits) as client:
        try:
            for i in range(args.warmup):
                await one_request(client, ("ask", "search")[i % 2], rng.choice(QUESTIONS))
        finally:
            gate.arrive()
        await gate.go.wait()
        while time.perf_counter() < gate.deadline:
            endpoint = "ask" if rng.random() < args.ask_share else "search"
            question = rng.choice(QUESTIONS)
            if args.unique:  # a text never seen before: the query embedding cannot come from the cache
                question = f"{question} (case {n}-{rng.randrange(10**9)})"
            sent = time.perf_counter()
            sample = await one_request(client, endpoint, question)
            if sent <= gate.deadline:  # sent in the window: counted even if it finishes after it
                run.samples.append(sample)


async def load(url: str, headers: dict, args: argparse.Namespace) -> Run:
    run = Run()
    gate = Gate(args.clients)
    tasks = [asyncio.create_task(client_loop(n, url, headers, args, gate, run)) for n in range(args.clients)]
    await gate.all_ready.wait()
    run.started = time.perf_counter()
    gate.deadline = run.started + args.duration
    gate.go.set()
    await asyncio.gather(*tasks)
    run.ended = time.perf_counter()
    return run


def report(run: Run, args: argparse.Namespace, health: dict, url: str, context: dict) -> dict:
    window = run.ended - run.started
    out = {
        "url": url,
        "clients": args.clients,
        "workers": health.get("workers", 1),
        "duration_s": round(window, 2),
        "ask_share": args.ask_share,
        "unique_questions": args.unique,
        "seed": args.seed,
        "server": health,
        "cpus": os.cpu_count(),
        "load_average": list(os.getloadavg()),  # at the end; the one before is in context
        **context,
        "endpoints": {},
    }
    for endpoint in ("ask", "search"):
        samples = [s for s in run.samples if s.endpoint == endpoint]
        ok = np.array([s.seconds for s in samples if s.error is None]) * 1000
        errors: dict[str, int] = {}
        for s in samples:
            if s.error:
                errors[s.error] = errors.get(s.error, 0) + 1
        entry = {"requests": len(samples), "ok": int(ok.size), "errors": errors, "throughput_rps": ok.size / window}
        if ok.size:
            entry.update(
                {f"p{q}_ms": float(np.percentile(ok, q)) for q in (50, 95, 99)}
                | {"mean_ms": float(ok.mean()), "max_ms": float(ok.max())}
            )
        out["endpoints"][f"/v1/{endpoint}"] = entry
    return out


def describe_code(code: dict | None, health: dict) -> str:
    if code is None:  # a server this script did not start: only what it says about itself
        return f"rag_oracle {health.get('version')} (a running server: its tree is not known here)"
    commit = code["git_commit"][:12] if code["git_commit"] else "no git commit"
    dirty = {True: f", {code['git_changed_files']} uncommitted changes", False: ", clean", None: ""}[code["git_dirty"]]
    return (
        f"rag_oracle {code['version']} from {code['package_dir']} (commit {commit}{dirty}; "
        f"sources sha256 {code['sources_sha256'][:12]})"
    )


def print_table(result: dict) -> None:
    s = result["server"]
    print(
        f"{result['clients']} clients for {result['duration_s']:.1f} s against {result['url']} "
        f"({result['workers']} server process{'es' if result['workers'] > 1 else ''}) "
        f"(index {s.get('index')}, {s.get('chunks')} chunks, generator {s.get('generator')}; "
        f"{result['cpus']} CPUs, 1-min load average before {result['load_average_before'][0]:.1f}, "
        f"at the end {result['load_average'][0]:.1f}"
        f"{'; unique questions' if result['unique_questions'] else ''})"
    )
    print(f"served: {describe_code(result['code'], s)}")
    threads = {k: v for k, v in result["thread_environment"].items() if k != "PYTHONPATH"}
    print(f"thread settings: {', '.join(f'{k}={v}' for k, v in threads.items()) or 'none set (library defaults)'}")
    print(
        f"{'endpoint':<12} {'requests':>8} {'errors':>7} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}"
    )
    for name, e in result["endpoints"].items():
        errors = sum(e["errors"].values())
        row = f"{name:<12} {e['requests']:>8} {errors:>7} {e['throughput_rps']:>7.2f}"
        if e["ok"]:
            row += f" {e['p50_ms']:>8.0f} {e['p95_ms']:>8.0f} {e['p99_ms']:>8.0f} {e['max_ms']:>8.0f}"
        print(row)
        if e["errors"]:
            print(f"{'':<12} errors: {e['errors']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="A running server (default: start one).")
    parser.add_argument("--index", help="Index for the server this script starts (default: the sample index).")
    parser.add_argument("--clients", type=int, default=20, help=f"Concurrent clients (1-{MAX_CLIENTS}).")
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help=f"Server processes of the server this script starts (rag-oracle serve --workers; 1-{MAX_WORKERS}).",
    )
    parser.add_argument("--duration", type=float, default=60.0, help=f"Seconds measured (1-{MAX_DURATION:.0f}).")
    parser.add_argument("--ask-share", type=float, default=0.5, help="Share of requests that are /v1/ask.")
    parser.add_argument(
        "--warmup", type=int, default=2, help="Uncounted requests per client first (ask, search, ask, ...)."
    )
    parser.add_argument("--timeout", type=float, default=120.0, help="Seconds before a request counts as failed.")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--unique",
        action="store_true",
        help="Make every question text unique, so query embeddings miss the embedding cache.",
    )
    parser.add_argument("--api-key-env", default="RAG_ORACLE_API_KEY", help="Variable holding the key, if any.")
    parser.add_argument("--startup-timeout", type=float, default=600.0, help="Seconds to wait for a started server.")
    parser.add_argument(
        "--json-out", "--json", dest="json_out", metavar="FILE", help="Also write the figures to this JSON file."
    )
    parser.add_argument("--keep", action="store_true", help="Keep the started server's log and sessions file.")
    args = parser.parse_args()
    if not 1 <= args.clients <= MAX_CLIENTS:
        parser.error(f"--clients must be between 1 and {MAX_CLIENTS}")
    if not 1 <= args.duration <= MAX_DURATION:
        parser.error(f"--duration must be between 1 and {MAX_DURATION:.0f} seconds")
    if not 0 <= args.ask_share <= 1:
        parser.error("--ask-share must be between 0 and 1")
    if not 1 <= args.workers <= MAX_WORKERS:
        parser.error(f"--workers must be between 1 and {MAX_WORKERS}")
    if args.url and args.workers != 1:
        parser.error("--workers is for the server this script starts; a running server (--url) has its own")

    env = dict(os.environ)
    context = {
        "command": [sys.executable, *sys.argv],
        "cwd": os.getcwd(),
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "load_average_before": list(os.getloadavg()),
        "thread_environment": {k: env[k] for k in THREAD_VARIABLES if k in env},
        "code": None,
    }
    proc, tmp = None, None
    url = args.url
    if url is None:
        context["code"] = served_code(env)
        print(f"serving {describe_code(context['code'], {})}", file=sys.stderr)
        print("starting the server (the sample index is built on first use) ...", file=sys.stderr)
        proc, url, tmp = start_server(args.index, args.startup_timeout, env, args.workers)
        print(f"server at {url}; log in {tmp / 'server.log'} (deleted at the end unless --keep)", file=sys.stderr)
    key = os.environ.get(args.api_key_env, "")
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    try:
        health = httpx.get(f"{url}/healthz", timeout=10).json()
        run = asyncio.run(load(url.rstrip("/"), headers, args))
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        if tmp is not None and not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    result = report(run, args, health, url, context)
    print_table(result)
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(result, indent=2) + "\n")
        print(f"figures written to {args.json_out}", file=sys.stderr)


if __name__ == "__main__":
    main()
