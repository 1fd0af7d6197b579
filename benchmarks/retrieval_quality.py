"""Document-level retrieval quality of BM25, dense and hybrid retrieval, measured in one run.

Reads interchange-format data sets (corpus.jsonl + questions*.jsonl) from --data, builds an
index per data set under indexes/ (reused when it exists), and prints nDCG@10, recall@10,
recall@100 and MRR@10 per retriever. Skips a data set whose folder is absent.

    python benchmarks/retrieval_quality.py --data ../shared/data --datasets scifact bioasq
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from _synthetic import bench_index  # benchmarks/ is on sys.path when a script runs
from tqdm import tqdm

from rag_oracle import RagOracle, load_settings
from rag_oracle.embed import make_embedder
from rag_oracle.evaluation.retrieval_metrics import mrr_at_k, ndcg_at_k, recall_at_k

QUESTION_FILES = {
    "scifact": "questions.train.jsonl",
    "bioasq": "questions.dev.jsonl",
    "pubmedqa": "questions.dev.jsonl",
    "medquad": "questions.sample.jsonl",
}


def load_questions(path: Path, limit: int | None) -> list[dict]:
    out = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            q = json.loads(line)
            if q.get("relevant_ids"):
                out.append(q)
            if limit and len(out) >= limit:
                break
    return out


def mean(values: list[float | None]) -> float:
    vals = [v for v in values if v is not None]
    return sum(vals) / len(vals) if vals else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="../shared/data", help="Folder holding one sub-folder per data set.")
    parser.add_argument("--datasets", nargs="+", default=["scifact", "bioasq"])
    parser.add_argument("--modes", nargs="+", default=["bm25", "dense", "hybrid"])
    parser.add_argument("--limit", type=int, help="Use only the first N questions of each set.")
    parser.add_argument("--index-root", default="indexes")
    parser.add_argument("--out", help="Also write the results as JSON here.")
    args = parser.parse_args()

    settings = load_settings()
    embedder = make_embedder(settings.embed)
    results: dict[str, dict] = {}
    for name in args.datasets:
        folder = Path(args.data) / name
        qfile = folder / QUESTION_FILES.get(name, "questions.jsonl")
        if not (folder / "corpus.jsonl").is_file() or not qfile.is_file():
            print(f"skipped {name}: {folder} has no corpus.jsonl / {qfile.name}", file=sys.stderr)
            continue
        index_dir = bench_index(
            folder / "corpus.jsonl",
            name,
            args.index_root,
            settings,
            embedder,
            f"benchmarks/retrieval_quality.py ({name})",
        )
        questions = load_questions(qfile, args.limit)
        results[name] = {"questions": len(questions), "index": str(index_dir)}
        for mode in args.modes:
            oracle = RagOracle(index_dir, settings.with_overrides({"retrieve": {"mode": mode}}), embedder=embedder)
            rows = {"ndcg@10": [], "recall@10": [], "recall@100": [], "mrr@10": []}
            t = time.perf_counter()
            for q in tqdm(questions, desc=f"{name} {mode}", unit=" q", file=sys.stderr):
                ranked = oracle.search_documents(q["question"], k=100)
                rel = q["relevant_ids"]
                rows["ndcg@10"].append(ndcg_at_k(ranked, rel, 10))
                rows["recall@10"].append(recall_at_k(ranked, rel, 10))
                rows["recall@100"].append(recall_at_k(ranked, rel, 100))
                rows["mrr@10"].append(mrr_at_k(ranked, rel, 10))
            elapsed = time.perf_counter() - t
            results[name][mode] = {m: round(mean(v), 4) for m, v in rows.items()}
            results[name][mode]["ms_per_query"] = round(1000 * elapsed / max(1, len(questions)), 1)

    print(f"\n{'data set':<10} {'retriever':<8} {'nDCG@10':>8} {'R@10':>7} {'R@100':>7} {'MRR@10':>7} {'ms/q':>7}")
    for name, res in results.items():
        for mode in args.modes:
            r = res[mode]
            print(
                f"{name:<10} {mode:<8} {r['ndcg@10']:>8.4f} {r['recall@10']:>7.4f} {r['recall@100']:>7.4f} "
                f"{r['mrr@10']:>7.4f} {r['ms_per_query']:>7.1f}"
            )
        print(f"{'':<10} ({res['questions']} questions)")
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
