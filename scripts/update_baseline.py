"""Write evals/sample/baseline.json from a finished run of the sample regression set.

    rag-oracle eval run --questions evals/sample/questions.jsonl --index indexes/sample-XXXX --out runs/sample
    python scripts/update_baseline.py runs/sample [--tolerance 0.05]

Only do this after a change that is meant to move the metrics; say why in the commit.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

TRACKED = {
    "retrieval": ["ndcg@10", "recall@10", "mrr@10"],
    "answer": ["rougeL", "token_f1", "semantic_similarity"],
    "citations": ["validity", "sentence_coverage", "support", "numeric_support"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run")
    parser.add_argument("--tolerance", type=float, default=0.05, help="Allowed drop below the baseline.")
    parser.add_argument("--out", default="evals/sample/baseline.json")
    args = parser.parse_args()
    run = Path(args.run)
    metrics = json.loads((run / "metrics.json").read_text())
    manifest = json.loads((run / "manifest.json").read_text())
    baseline = {
        "about": "Expected metrics of the sample regression set with default settings; "
        "tests/evaluation/test_regression.py fails if a metric falls below value - tolerance.",
        "tolerance": args.tolerance,
        "generator": manifest["identity"]["generator"],
        "git_commit": manifest["git"].get("commit"),
        "metrics": {f"{g}.{m}": round(metrics[g][m]["mean"], 4) for g, names in TRACKED.items() for m in names},
        "max_abstained": metrics["counts"]["abstained"],
    }
    Path(args.out).write_text(json.dumps(baseline, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
