"""Time to the first answer of a fresh server: listening, ready, first and second new question.

Run from the repository root (prints figures, asserts nothing)::

    python benchmarks/first_answer.py                       # the sample index
    python benchmarks/first_answer.py --index indexes/mine --json-out first.json

It starts `rag-oracle serve` (`python -m rag_oracle.cli serve`) on a free loopback port with a
temporary sessions file, then measures from the moment the process was started:

- listening: the first HTTP answer from /healthz (any status: 503 "starting" counts);
- ready: the first /healthz whose `ready` is true (a server without the field: the first 200);
- first answer: one POST /v1/ask with a question no earlier run asked (a random case number makes
  it miss the embedding cache, so the query and its related questions are embedded afresh),
  sent as soon as the server is ready, in seconds from sending to reading the whole body;
- second answer: the same for another new question right after.

With --ask-at-listen the first question is sent as soon as the server listens, without waiting
for readiness (what a user who opens the page at once sees); its time then includes the loading.

The server inherits this script's interpreter, environment and working directory (so
`PYTHONPATH=<tree>/src` measures another checkout), and its log is kept with --keep.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

QUESTIONS = (
    "How many days before surgery should warfarin be stopped in case {n}?",
    "What is the dosage of clonazepam for treating depression in case {n}?",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ask(url: str, question: str) -> tuple[float, int]:
    start = time.perf_counter()
    response = httpx.post(f"{url}/v1/ask", json={"question": question}, timeout=300)
    return time.perf_counter() - start, response.status_code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", help="Index to serve (default: the sample index, built from ./corpus on first use).")
    parser.add_argument("--timeout", type=float, default=600.0, help="Seconds to wait for the server to be ready.")
    parser.add_argument("--ask-at-listen", action="store_true", help="Ask the first question as soon as it listens.")
    parser.add_argument("--json-out", help="Also write the figures to this JSON file.")
    parser.add_argument("--keep", action="store_true", help="Keep the server's log and sessions file.")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="rag-oracle-first-"))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "rag_oracle.cli", "serve", "--port", str(port), "--db", str(tmp / "sessions.sqlite")]
    cmd += ["--rate-limit", "0", "--log-level", "warning"] + (["--index", args.index] if args.index else [])
    figures: dict[str, float | int | str | None] = {"command": " ".join(cmd)}
    case = random.randrange(10**8)
    with open(tmp / "server.log", "w") as log:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ))
    try:
        listening = ready = None
        health: dict = {}
        deadline = started + args.timeout
        while ready is None and time.perf_counter() < deadline:
            if proc.poll() is not None:
                sys.exit(f"the server exited with {proc.returncode}; see {tmp / 'server.log'}")
            try:
                response = httpx.get(f"{url}/healthz", timeout=5)
            except httpx.TransportError:
                time.sleep(0.05)
                continue
            now = time.perf_counter()
            if listening is None:
                listening = now - started
                figures["status_while_loading"] = f"{response.status_code} {response.json().get('status')}"
                if args.ask_at_listen:
                    break
            health = response.json()
            if health.get("ready", response.status_code == 200):
                ready = now - started
                break
            time.sleep(0.05)
        if listening is None or (ready is None and not args.ask_at_listen):
            sys.exit(f"the server was not ready within {args.timeout:.0f} s; see {tmp / 'server.log'}")
        figures["listening_s"] = round(listening, 2)
        figures["ready_s"] = None if ready is None else round(ready, 2)
        first, status = ask(url, QUESTIONS[0].format(n=case))
        figures["first_answer_s"], figures["first_status"] = round(first, 2), status
        second, status = ask(url, QUESTIONS[1].format(n=case))
        figures["second_answer_s"], figures["second_status"] = round(second, 2), status
        if args.ask_at_listen:
            health = httpx.get(f"{url}/healthz", timeout=5).json()
        figures["model_check"] = (health.get("checks") or {}).get("model")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"server log: {tmp / 'server.log'}", file=sys.stderr)
    print(f"command: {figures['command']}")
    print(f"listening after     {figures['listening_s']:>7} s (/healthz then: {figures['status_while_loading']})")
    print(f"ready after         {figures['ready_s']!s:>7} s (model check: {figures['model_check']})")
    print(f"first new question  {figures['first_answer_s']:>7} s (HTTP {figures['first_status']})")
    print(f"second new question {figures['second_answer_s']:>7} s (HTTP {figures['second_status']})")
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
