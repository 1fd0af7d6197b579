"""What a user waits for a new question: `rag-oracle ask` wall time in fresh processes, and the answer's own
stages in one process, with and without the sentence vectors stored at ingest, in one run.

    python benchmarks/answer_latency.py                  # 12 CLI questions, 40 in-process, ~3 min
    python benchmarks/answer_latency.py --cli 5 --inprocess 20 --index-root /tmp/idx

Uses the sample index (built from corpus/ under --index-root on first use, with the real default model),
the project's own clinical questions (evals/clinical/questions.jsonl, each asked once: "new" questions)
and the embedding cache turned off (`embed.cache_dir = off`), so nothing a question needs was computed
for it before.

1. CLI: `rag-oracle ask QUESTION` as a user runs it, one fresh process per question; wall-clock
   p50/p95/max, and the same for `python -c "import rag_oracle.cli"` (start-up alone).
2. In-process: `RagOracle.ask` for each question; p50/p95 of `timings_ms` retrieve, generate (answer
   composition: selection, citation checks, related questions) and total, (a) with the sentence store
   and (b) with it bypassed, so every candidate statement is embedded live as before this existed.
   The answers of (a) and (b) are compared: they must be the same texts.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def line(name: str, values: list[float], unit: str = "ms") -> str:
    return (
        f"  {name:34s} p50 {statistics.median(values):8.1f} {unit}  p95 {pct(values, 0.95):8.1f} {unit}  "
        f"max {max(values):8.1f} {unit}  (n={len(values)})"
    )


def _questions() -> list[str]:
    return [
        json.loads(x)["question"]
        for x in (REPO / "evals" / "clinical" / "questions.jsonl").read_text(encoding="utf-8").splitlines()
        if x.strip()
    ]


def inprocess(args) -> int:
    """One mode of part 2, in this (fresh) process; prints one JSON line."""
    from rag_oracle import RagOracle, load_settings
    from rag_oracle.api import sample_index_path

    settings = load_settings()
    oracle = RagOracle(sample_index_path(settings), settings)
    oracle.ask("warm up: what is the dose of warfarin?")  # loads the model; not a measured question
    generator = oracle.generator
    if args._mode == "live":
        generator._sentence_embedder = oracle.embedder  # bypass the store: every statement embedded live
    questions = _questions()
    asked = questions[args._skip : args._skip + args.inprocess] or questions[: args.inprocess]
    timings, texts = [], []
    for q in asked:
        answer = oracle.ask(q)
        timings.append(answer.timings_ms)
        texts.append(answer.text)
    stats = generator._sentence_embedder.stats if args._mode == "store" else {"stored": 0, "live": -1}
    print(json.dumps({"timings": timings, "texts": texts, **stats}))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cli", type=int, default=12, help="Questions asked through the CLI (12).")
    parser.add_argument("--inprocess", type=int, default=40, help="Questions asked in one process (40).")
    parser.add_argument("--index-root", help="Where the sample index lives or is built (default: a temporary one).")
    parser.add_argument("--_mode", choices=["store", "live"], help=argparse.SUPPRESS)
    parser.add_argument("--_skip", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args._mode:
        return inprocess(args)

    questions = _questions()
    root = Path(args.index_root or tempfile.mkdtemp(prefix="rag-oracle-answer-latency-"))
    env = {**os.environ, "RAG_ORACLE_INDEX__ROOT": str(root), "RAG_ORACLE_EMBED__CACHE_DIR": "off"}
    os.environ.update(env)

    from rag_oracle import load_settings
    from rag_oracle.api import ensure_sample_index

    settings = load_settings()
    t = time.perf_counter()
    path, report = ensure_sample_index(settings, REPO / "corpus")
    if report is not None:
        print(f"built the sample index in {time.perf_counter() - t:.1f} s: {path}")
    print("== answer latency, new questions, embedding cache off ==")
    print(
        f"date: {time.strftime('%Y-%m-%d %H:%M:%S %Z')}; index: {path}; threads: "
        f"{settings.compute.resolved_threads()}; OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')}"
    )

    if args.cli:
        starts = []
        for _ in range(5):
            t = time.perf_counter()
            subprocess.run([sys.executable, "-c", "import rag_oracle.cli"], env=env, check=True)
            starts.append((time.perf_counter() - t) * 1000)
        walls = []
        for q in questions[: args.cli]:
            t = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "rag_oracle.cli", "ask", q], env=env, check=True, capture_output=True, text=True
            )
            walls.append(time.perf_counter() - t)
        print("CLI (fresh process per question):")
        print(line("python -c 'import rag_oracle.cli'", starts))
        print(line("rag-oracle ask QUESTION (wall)", walls, "s"))

    results = {}
    for mode in ("store", "live"):
        out = subprocess.run(
            [sys.executable, __file__, "--_mode", mode, "--inprocess", str(args.inprocess), "--_skip", str(args.cli)],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        results[mode] = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"in-process ({args.inprocess} new questions after one warm-up, a fresh process per mode):")
    for mode, label in (("store", "with the sentence store"), ("live", "every statement embedded live")):
        print(f" {label}:")
        for key in ("retrieve", "generate", "total"):
            print(line(key, [r[key] for r in results[mode]["timings"]]))
        print(f"  statements from the store / embedded live: {results[mode]['stored']} / {results[mode]['live']}")
    same = sum(x == y for x, y in zip(results["store"]["texts"], results["live"]["texts"], strict=True))
    print(f"  identical answers with and without the store: {same} of {len(results['store']['texts'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
