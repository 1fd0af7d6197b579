"""The embedders that install offline, side by side: retrieval quality against ingest and query cost.

    python benchmarks/embedder_choice.py --data ../shared/data/scifact --limit-docs 800 --questions 300
    python benchmarks/embedder_choice.py ... --models sentence-transformers/all-MiniLM-L6-v2 --out /tmp/e.json

For each model (default: all-MiniLM-L6-v2, the default, and all-mpnet-base-v2, the `embed-mpnet`
extra) the script ingests the same sub-corpus through the library (`rag_oracle.ingest`, the
configured backend, no embedding cache, no sentence vectors, a temporary index) and times it, then
asks every question through `RagOracle.search_documents` in dense and in hybrid mode (the settings'
fusion) and reports document-level nDCG@10 and recall@100 with the query time (p50).

The sub-corpus: the first `--questions` questions that have relevant documents, all their relevant
documents, and the corpus's first other documents up to `--limit-docs` (so every question can be
answered and the rest are distractors). A model whose package is missing is reported and skipped; a
missing --data folder prints `skipped: ...` and exits 0. Prints figures, asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _synthetic import questions_with_relevant  # benchmarks/ is on sys.path when a script runs

from rag_oracle import RagOracle, ingest, load_settings
from rag_oracle.cli import TqdmProgress
from rag_oracle.embed import make_embedder
from rag_oracle.errors import RagOracleError
from rag_oracle.evaluation.retrieval_metrics import ndcg_at_k, recall_at_k

MODELS = ("sentence-transformers/all-MiniLM-L6-v2", "sentence-transformers/all-mpnet-base-v2")


def sub_corpus(data: Path, limit_docs: int, questions: int) -> tuple[list[dict], list[dict]]:
    qfile = next(iter(sorted(data.glob("questions.train.jsonl")) or sorted(data.glob("questions*.jsonl"))))
    qs = questions_with_relevant(qfile, questions)
    wanted = {str(d) for q in qs for d in q["relevant_ids"]}
    relevant, others = [], []
    with open(data / "corpus.jsonl", encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            doc = json.loads(line)
            if str(doc["id"]) in wanted:
                relevant.append(doc)
            elif len(others) < max(0, limit_docs - len(wanted)):
                others.append(doc)
    return relevant + others, qs


def measure(model: str, corpus: Path, qs: list[dict], work: Path) -> dict:
    settings = load_settings().with_overrides(
        {"embed": {"model": model, "cache_dir": "off"}, "index": {"sentence_vectors": False}}
    )
    embedder = make_embedder(settings.embed, settings.compute)
    started = time.perf_counter()
    embedder.warm_up() if hasattr(embedder, "warm_up") else embedder.embed_query("warm up")
    load_s = time.perf_counter() - started
    path = work / model.rsplit("/", 1)[-1]
    started = time.perf_counter()
    report = ingest([corpus], path, settings, embedder=embedder, progress=TqdmProgress(), command="embedder_choice")
    ingest_s = time.perf_counter() - started
    chunks = sum(f.chunks for f in report.files)
    row = {
        "model": model,
        "dimension": embedder.dimension,
        "load_s": round(load_s, 1),
        "chunks": chunks,
        "ingest_s": round(ingest_s, 1),
        "chunks_per_s": round(chunks / ingest_s, 2),
    }
    for mode in ("dense", "hybrid"):
        oracle = RagOracle(path, settings.with_overrides({"retrieve": {"mode": mode}}), embedder=embedder)
        ndcg, recall, times = [], [], []
        for q in qs:
            t = time.perf_counter()
            ranked = oracle.search_documents(q["question"], k=100)
            times.append(time.perf_counter() - t)
            relevant = [str(d) for d in q["relevant_ids"]]
            ndcg.append(ndcg_at_k(ranked, relevant, 10))
            recall.append(recall_at_k(ranked, relevant, 100))
        row[mode] = {
            "ndcg@10": round(statistics.fmean(ndcg), 4),
            "recall@100": round(statistics.fmean(recall), 4),
            "query_ms_p50": round(1000 * statistics.median(times), 1),
        }
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="../shared/data/scifact", help="A data set folder (corpus.jsonl, questions).")
    parser.add_argument("--limit-docs", type=int, default=800)
    parser.add_argument("--questions", type=int, default=300)
    parser.add_argument("--models", nargs="+", default=list(MODELS))
    parser.add_argument("--out", help="Also write the rows as JSON here.")
    args = parser.parse_args()
    data = Path(args.data)
    if not (data / "corpus.jsonl").is_file():
        print(f"skipped: {data} has no corpus.jsonl")
        return 0
    docs, qs = sub_corpus(data, args.limit_docs, args.questions)
    rows = []
    with tempfile.TemporaryDirectory(prefix="embedder-choice-") as tmp:
        work = Path(tmp)
        corpus = work / "corpus.jsonl"
        corpus.write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")
        print(f"{data.name}: {len(docs)} documents, {len(qs)} questions", file=sys.stderr)
        for model in args.models:
            try:
                rows.append(measure(model, corpus, qs, work))
            except RagOracleError as exc:
                print(f"skipped {model}: {exc}", file=sys.stderr)
    if not rows:
        return 0
    base = rows[0]
    print(f"\n{data.name}: {len(docs)} documents, {len(qs)} questions; document-level, one run")
    header = f"{'model':<42} {'dim':>4} {'chunks/s':>9} {'ingest s':>9} {'x time':>7}"
    header += f" {'dense nDCG':>10} {'R@100':>6} {'hybrid nDCG':>11} {'R@100':>6} {'query ms':>8}"
    print(header)
    for r in rows:
        print(
            f"{r['model']:<42} {r['dimension']:>4} {r['chunks_per_s']:>9.2f} {r['ingest_s']:>9.1f} "
            f"{r['ingest_s'] / base['ingest_s']:>7.1f} {r['dense']['ndcg@10']:>10.4f} {r['dense']['recall@100']:>6.3f} "
            f"{r['hybrid']['ndcg@10']:>11.4f} {r['hybrid']['recall@100']:>6.3f} {r['hybrid']['query_ms_p50']:>8.1f}"
        )
    if args.out:
        Path(args.out).write_text(
            json.dumps({"data": str(data), "documents": len(docs), "questions": len(qs), "rows": rows}, indent=2) + "\n"
        )
        print(f"results: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
