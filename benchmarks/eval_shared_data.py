"""Run the evaluation harness on the public development sets in ../shared/data and print one table.

For each data set: build an index from its corpus.jsonl (reused when present), run
`rag_oracle.evaluation.runner.run_evaluation` on its questions (with --limit where a full run
is long), and print the metrics with their 95% intervals. Sets whose folder is absent are
skipped with a message.

    python benchmarks/eval_shared_data.py --data ../shared/data --out runs/shared \
        --limit pubmedqa=500 bioasq=400 scifact=300 medquad=300
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from _synthetic import bench_index  # benchmarks/ is on sys.path when a script runs

from rag_oracle import load_settings
from rag_oracle.cli import TqdmProgress
from rag_oracle.embed import make_embedder
from rag_oracle.evaluation.runner import run_evaluation

SETS = {
    "pubmedqa": "questions.dev.jsonl",
    "bioasq": "questions.dev.jsonl",
    "scifact": "questions.train.jsonl",
    "medquad": "questions.sample.jsonl",
}
COLUMNS = [
    ("retrieval", "ndcg@10"),
    ("retrieval", "recall@10"),
    ("answer", "rougeL"),
    ("answer", "token_f1"),
    ("answer", "semantic_similarity"),
    ("decision", "accuracy"),
    ("decision", "macro_f1"),
    ("citations", "support"),
    ("citations", "numeric_support"),
    ("citations", "abstention_rate"),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="../shared/data")
    parser.add_argument("--sets", nargs="+", default=list(SETS))
    parser.add_argument("--limit", nargs="*", default=[], help="name=N pairs, e.g. bioasq=400")
    parser.add_argument("--out", default="runs/shared")
    parser.add_argument("--index-root", default="indexes")
    parser.add_argument("--mode", choices=["hybrid", "dense", "bm25"], default="hybrid")
    args = parser.parse_args()
    limits = {k: int(v) for k, v in (item.split("=") for item in args.limit)}
    settings = load_settings().with_overrides({"retrieve": {"mode": args.mode}})
    embedder = make_embedder(settings.embed)
    rows = {}
    for name in args.sets:
        folder = Path(args.data) / name
        qfile = folder / SETS[name]
        if not (folder / "corpus.jsonl").is_file() or not qfile.is_file():
            print(f"skipped {name}: {folder} not found", file=sys.stderr)
            continue
        index = bench_index(
            folder / "corpus.jsonl",
            name,
            args.index_root,
            settings,
            embedder,
            f"benchmarks/eval_shared_data.py ({name})",
        )
        out = Path(args.out) / f"{name}-{args.mode}"
        result = run_evaluation(
            qfile,
            index,
            out,
            settings,
            limit=limits.get(name),
            progress=TqdmProgress(),
            command=f"benchmarks/eval_shared_data.py --sets {name} --mode {args.mode}",
        )
        rows[name] = result.metrics
    header = "| set | n | " + " | ".join(f"{g} {m}" for g, m in COLUMNS) + " | p50 ms | p95 ms |"
    print(header)
    print("|" + "---|" * (len(COLUMNS) + 4))
    for name, m in rows.items():
        cells = []
        for g, k in COLUMNS:
            e = m.get(g, {}).get(k)
            cells.append(
                "–" if not e or e["mean"] is None else f"{e['mean']:.3f} [{e['ci95'][0]:.3f}, {e['ci95'][1]:.3f}]"
            )
        lat = m["latency"]["total"]
        print(
            f"| {name} | {m['counts']['questions']} | "
            + " | ".join(cells)
            + f" | {lat['p50']:.0f} | {lat['p95']:.0f} |"
        )
    Path(args.out).mkdir(parents=True, exist_ok=True)
    (Path(args.out) / f"summary-{args.mode}.json").write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
