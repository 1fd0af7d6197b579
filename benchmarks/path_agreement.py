"""Does a finished `eval run` answer what `rag-oracle ask` answers? Re-asks every question of a run.

    python benchmarks/path_agreement.py runs/issue8/pubmedqa --index indexes/bench-pubmedqa-59b93b7e

For each prediction of the run (errors skipped) it calls `RagOracle.ask` with the run's own
settings (read from the run's manifest) and compares the answer text, the abstention, the
decision and the reference list (number and chunk id). Prints how many agree and the first
disagreements; exit code 1 when any disagree. Prints figures, asserts nothing else.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from rag_oracle import RagOracle, Settings
from rag_oracle.evaluation.runner import load_run


def _record(answer) -> dict:
    return {
        "answer": answer.text,
        "abstained": answer.abstained,
        "decision": answer.decision,
        "references": [[r.number, r.chunk_id] for r in answer.references],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="A finished run directory (manifest.json, predictions.jsonl).")
    parser.add_argument("--index", required=True, help="The index the run used.")
    parser.add_argument("--limit", type=int, help="Only the first N predictions.")
    parser.add_argument("--show", type=int, default=5, help="Disagreements to print.")
    args = parser.parse_args()

    manifest, _, predictions = load_run(args.run)
    settings = Settings.model_validate(manifest["identity"]["settings"])
    oracle = RagOracle(args.index, settings)
    predictions = [p for p in predictions if "error" not in p][: args.limit]
    differ = []
    start = time.perf_counter()
    for p in predictions:
        mine = _record(oracle.ask(p["question"]))
        theirs = {
            "answer": p["answer"],
            "abstained": p["abstained"],
            "decision": p["decision"],
            "references": [[c["number"], c["chunk_id"]] for c in p["citations"]],
        }
        if mine != theirs:
            differ.append((p["id"], mine, theirs))
    seconds = time.perf_counter() - start
    same = len(predictions) - len(differ)
    print(f"{args.run}: {same} of {len(predictions)} answers identical to `ask` ({seconds:.0f} s)")
    for qid, mine, theirs in differ[: args.show]:
        print(f"- {qid}: ask {json.dumps(mine)[:300]}\n  eval {json.dumps(theirs)[:300]}")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
