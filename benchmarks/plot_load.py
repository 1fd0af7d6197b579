"""Plot load-test results (the JSON files `load_test.py --json-out` writes) side by side.

    python benchmarks/plot_load.py benchmarks/results/issue8-load/{before,after}-{1,2}.json \
        --out docs/load_before_after.png

One group of bars per file: throughput per endpoint (left), and p50 / p95 / p99 / max latency per
endpoint (right, log scale) with the p95 target as a dashed line (--target-ms, 0 for none). Labels
are the file names without extension. Needs matplotlib (the `eval` extra).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, required=True, help="PNG (or SVG) to write.")
    parser.add_argument("--target-ms", type=float, default=300.0, help="The p95 latency target to draw (0: none).")
    args = parser.parse_args()

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = [(path.stem, json.loads(path.read_text(encoding="utf-8"))) for path in args.files]
    endpoints = sorted({e for _, run in runs for e in run["endpoints"]})
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    width = 0.8 / len(endpoints)
    for j, endpoint in enumerate(endpoints):
        xs = [i + j * width for i in range(len(runs))]
        left.bar(xs, [run["endpoints"][endpoint]["throughput_rps"] for _, run in runs], width, label=endpoint)
    left.set_xticks([i + 0.4 - width / 2 for i in range(len(runs))], [name for name, _ in runs], rotation=20)
    left.set_ylabel("successful requests / s")
    clients = sorted({run["clients"] for _, run in runs})
    unique = {run.get("unique_questions") for _, run in runs}
    what = f"{'/'.join(map(str, clients))} clients" + (", unique questions" if unique == {True} else "")
    left.set_title(f"Throughput ({what})")
    left.legend()

    stats = [("p50_ms", "p50"), ("p95_ms", "p95"), ("p99_ms", "p99"), ("max_ms", "max")]
    width = 0.8 / (len(endpoints) * len(stats))
    k = 0
    for endpoint in endpoints:
        for key, label in stats:
            xs = [i + k * width for i in range(len(runs))]
            right.bar(xs, [run["endpoints"][endpoint][key] for _, run in runs], width, label=f"{endpoint} {label}")
            k += 1
    right.set_yscale("log")
    if args.target_ms > 0:
        right.axhline(
            args.target_ms, color="black", linestyle="--", linewidth=1, label=f"p95 target {args.target_ms:g} ms"
        )
    right.set_xticks([i + 0.4 - width / 2 for i in range(len(runs))], [name for name, _ in runs], rotation=20)
    right.set_ylabel("latency, ms (log scale)")
    right.set_title("Latency")
    right.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
