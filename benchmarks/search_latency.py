"""Search and ask latency (p50/p95) at 10k and 100k chunks, FAISS Flat vs HNSW32, and the real query embedder.

Run from the repository root (prints figures, asserts nothing; about 6-8 minutes on 2 busy cores)::

    python benchmarks/search_latency.py --sizes 10000 100000

Quick check::

    python benchmarks/search_latency.py --sizes 2000 --queries 50 --real-queries 10

For each size N it:

1. writes N synthetic clinical-ish documents (seeded; 90-180 words, so exactly one chunk each
   at the default chunk.max_tokens=200 with a word-count tokenizer) and builds an index with the
   public `rag_oracle.ingest(...)`, passing a `RandomEmbedder` (Embedder protocol; unit vectors
   from a hash of the text, or with --vectors bow of its words; dimension 384, count_tokens = words). Reports build time, `report.seconds`,
   size on disk, `Index.open` time and `RagOracle(index_dir)` time.
2. times `oracle.search(q, k=10)` for retrieve.mode dense, bm25 and hybrid, and `oracle.ask(q)`
   (hybrid + extractive generator) with `answer.min_passage_similarity=-1.0` so the generator
   runs in full instead of abstaining, and also with the default threshold (abstention path):
   --warmup distinct queries first, then --queries distinct queries, p50/p95/mean in ms.
3. at --hnsw-size (default: the largest size) builds the same corpus with
   `{"index": {"faiss": "HNSW32"}}` and compares its dense search latency, build time and
   recall@10 against Flat (independent random vectors are HNSW's worst case; use --vectors bow).

Then, with the real default model (`make_embedder(load_settings().embed)`, cache_dir "off"):
query embedding latency over --real-queries distinct queries, the same through the embedding
cache (a new query: miss + SQLite write; a repeated query: hit), and the cost of the generator's
`embed_documents` calls recorded from synthetic asks (passages + candidate sentences), since a
real ask = query embedding (twice, see README) + search + generator embeddings + the rest.
Random vectors make the dense *quality* meaningless; Flat latency does not depend on the data.
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from _synthetic import (
    RandomEmbedder,
    code_version,
    dir_size_mb,
    make_questions,
    peak_rss_mb,
    percentiles_ms,
    write_corpus,
)


def rss_mb() -> float:
    """Current resident set size (MB)."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def timed(fn: Callable[[str], object], warmup: list[str], queries: list[str]) -> tuple[list[float], list[object]]:
    for q in warmup:
        fn(q)
    gc.collect()
    times, outputs = [], []
    for q in queries:
        t = time.perf_counter()
        out = fn(q)
        times.append(time.perf_counter() - t)
        outputs.append(out)
    return times, outputs


def line(label: str, times: list[float], extra: str = "") -> None:
    p50, p95, mean = percentiles_ms(times)
    print(f"  {label:<34} p50 {p50:8.2f} ms   p95 {p95:8.2f} ms   mean {mean:8.2f} ms{extra}")


def build(corpus: Path, index_dir: Path, settings, embedder, progress, label: str):
    from rag_oracle import ingest

    gc.collect()
    t = time.perf_counter()
    report = ingest([corpus], index_dir, settings, embedder=embedder, progress=progress, command=label)
    build_s = time.perf_counter() - t
    files = {p.name: p.stat().st_size / 1e6 for p in index_dir.iterdir() if p.is_file()}
    files["bm25/"] = dir_size_mb(index_dir / "bm25")
    print(
        f"  build ({label}): {build_s:.1f}s wall for {report.total_chunks} chunks "
        f"({report.total_chunks / build_s:.0f} chunks/s); report.seconds: "
        + ", ".join(f"{k} {v:.1f}s" for k, v in report.seconds.items())
    )
    print(
        f"  size on disk: {dir_size_mb(index_dir):.1f} MB ("
        + ", ".join(f"{k} {v:.1f}" for k, v in sorted(files.items(), key=lambda kv: -kv[1]) if v >= 0.05)
        + ")"
    )
    return report, build_s


def open_index(index_dir: Path, settings, embedder):
    from rag_oracle import RagOracle
    from rag_oracle.index.store import Index

    gc.collect()
    t = time.perf_counter()
    Index.open(index_dir, embedder)
    open_s = time.perf_counter() - t
    gc.collect()
    t = time.perf_counter()
    oracle = RagOracle(index_dir, settings, embedder=embedder)
    oracle_s = time.perf_counter() - t
    print(
        f"  Index.open: {open_s:.2f}s; RagOracle(index_dir) (a second open): {oracle_s:.2f}s; "
        f"RSS now {rss_mb():.0f} MB, peak {peak_rss_mb():.0f} MB"
    )
    return oracle


def measure_flat(oracle, settings, embedder, warmup, timed_q, state: dict) -> list[list[str]]:
    """search (3 modes) and ask (2 thresholds) on an opened Flat index; returns dense top-10 ids per query."""
    from rag_oracle import RagOracle

    flat_ids: list[list[str]] = []
    for mode in ("dense", "bm25", "hybrid"):
        o = RagOracle(oracle.index, settings.with_overrides({"retrieve": {"mode": mode}}), embedder=embedder)
        times, outs = timed(lambda q, o=o: [h.chunk.id for h in o.search(q, k=10)], warmup, timed_q)
        line(f"search {mode}", times)
        if mode == "dense":
            flat_ids = outs

    o = RagOracle(
        oracle.index, settings.with_overrides({"answer": {"min_passage_similarity": -1.0}}), embedder=embedder
    )
    batches = state["generator_batches"]
    record = not batches

    def ask(q: str):
        start = len(embedder.calls)
        embedder.record = record and len(batches) < state["generator_asks"]
        answer = o.ask(q)
        if embedder.record:
            batches.append(embedder.calls[start:])
        embedder.record = False
        return answer

    times, answers = timed(ask, warmup, timed_q)
    retrieve_ms = np.median([a.timings_ms["retrieve"] for a in answers])
    generate_ms = np.median([a.timings_ms["generate"] for a in answers])
    sentences = np.mean([sum(len(s.sentences) for s in a.sections) for a in answers])
    line(
        "ask (hybrid, threshold -1.0)",
        times,
        f"   [median retrieve {retrieve_ms:.1f} + generate {generate_ms:.1f} ms; "
        f"{sum(a.abstained for a in answers)} abstained; {sentences:.1f} sentences/answer]",
    )
    o2 = RagOracle(oracle.index, settings, embedder=embedder)
    times, answers = timed(o2.ask, warmup, timed_q)
    line(
        f"ask (default threshold {settings.answer.min_passage_similarity})",
        times,
        f"   [{sum(a.abstained for a in answers)}/{len(answers)} abstained]",
    )
    return flat_ids


def measure_other_spec(oracle, settings, embedder, warmup, timed_q, flat_ids, spec: str) -> None:
    from rag_oracle import RagOracle

    o = RagOracle(oracle.index, settings.with_overrides({"retrieve": {"mode": "dense"}}), embedder=embedder)
    times, outs = timed(lambda q: [h.chunk.id for h in o.search(q, k=10)], warmup, timed_q)
    recall = np.mean([len(set(a) & set(b)) / max(len(b), 1) for a, b in zip(outs, flat_ids, strict=True)])
    line(f"search dense ({spec})", times, f"   [recall@10 vs Flat {recall:.3f}]")
    o = RagOracle(oracle.index, settings, embedder=embedder)
    times, _ = timed(lambda q: o.search(q, k=10), warmup, timed_q)
    line(f"search hybrid ({spec})", times)


def thread_counts(args) -> list[int]:
    import faiss

    default = args.faiss_threads or faiss.omp_get_max_threads()
    return list(dict.fromkeys([default, 1] if args.compare_threads else [default]))


def set_faiss_threads(n: int) -> None:
    import faiss

    faiss.omp_set_num_threads(n)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=[10_000, 100_000], help="Chunk counts (default 10000 100000)."
    )
    parser.add_argument("--queries", type=int, default=200, help="Timed queries per measurement (default 200).")
    parser.add_argument("--warmup", type=int, default=10, help="Warm-up queries before each measurement (default 10).")
    parser.add_argument(
        "--hnsw-size", type=int, help="Size at which HNSW is compared with Flat (default: largest; 0: skip)."
    )
    parser.add_argument("--hnsw-spec", default="HNSW32", help="FAISS spec compared with Flat (default HNSW32).")
    parser.add_argument(
        "--vectors",
        choices=("random", "bow"),
        default="random",
        help="Synthetic vectors: independent random (default) or random projection of the bag of words "
        "(neighbourhood structure like real embeddings; makes HNSW recall meaningful).",
    )
    parser.add_argument(
        "--dim", type=int, default=384, help="Vector dimension of the synthetic embedder (default 384)."
    )
    parser.add_argument(
        "--faiss-threads", type=int, help="faiss.omp_set_num_threads(N) for the main measurement (default: faiss's)."
    )
    parser.add_argument(
        "--no-thread-compare",
        dest="compare_threads",
        action="store_false",
        help="Do not repeat the measurements with 1 FAISS/torch thread.",
    )
    parser.add_argument("--real-queries", type=int, default=50, help="Queries for the real-model part (0: skip).")
    parser.add_argument(
        "--generator-asks",
        type=int,
        default=10,
        help="Synthetic asks whose generator embeddings are replayed through the real model (default 10).",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-progress", action="store_true", help="No progress bars on stderr.")
    parser.add_argument("--keep", action="store_true", help="Keep the temporary folder with corpora and indexes.")
    args = parser.parse_args()

    import faiss

    from rag_oracle import load_settings

    progress = None
    if not args.no_progress:
        from rag_oracle.cli import TqdmProgress

        progress = TqdmProgress()

    base = load_settings()
    questions = make_questions(args.warmup + max(args.queries, args.real_queries) + 10, seed=args.seed + 1)
    warmup, timed_q = questions[: args.warmup], questions[args.warmup : args.warmup + args.queries]
    hnsw_size = max(args.sizes) if args.hnsw_size is None else args.hnsw_size
    embedder = RandomEmbedder(args.dim, kind=args.vectors)
    state: dict = {"generator_batches": [], "generator_asks": args.generator_asks}
    threads = thread_counts(args)

    work = Path(tempfile.mkdtemp(prefix="rag-oracle-perf-search-"))
    print("== search / ask latency ==")
    print(
        f"date: {time.strftime('%Y-%m-%d %H:%M:%S %Z')}; code: {code_version()}; cpus: {os.cpu_count()}; faiss default threads: "
        f"{faiss.omp_get_max_threads()}; measured with faiss threads: {threads}; vectors: {args.vectors} "
        f"{args.dim}-d; queries: {len(warmup)} warm-up + {len(timed_q)} timed (distinct); k=10; "
        f"retrieve.candidates={base.retrieve.candidates}"
    )
    try:
        for size in args.sizes:
            print()
            print(f"-- {size} chunks, FAISS Flat --")
            corpus = write_corpus(work / f"corpus-{size}" / "corpus.jsonl", size, seed=args.seed)
            flat_dir = work / f"index-{size}-flat"
            flat_settings = base.with_overrides({"index": {"faiss": "Flat"}})
            set_faiss_threads(threads[0])
            build(corpus, flat_dir, flat_settings, embedder, progress, "Flat")
            oracle = open_index(flat_dir, flat_settings, embedder)
            flat_ids = None
            for n in threads:
                set_faiss_threads(n)
                print(f"  [faiss threads: {n}]")
                ids = measure_flat(oracle, flat_settings, embedder, warmup, timed_q, state)
                flat_ids = flat_ids or ids
            set_faiss_threads(threads[0])
            del oracle
            gc.collect()
            print(f"  peak RSS so far: {peak_rss_mb():.0f} MB")
            if not args.keep:
                shutil.rmtree(flat_dir, ignore_errors=True)

            if size == hnsw_size:
                print()
                print(f"-- {size} chunks, FAISS {args.hnsw_spec} (vs Flat, same vectors and queries) --")
                hnsw_settings = base.with_overrides({"index": {"faiss": args.hnsw_spec}})
                hnsw_dir = work / f"index-{size}-{args.hnsw_spec.replace(',', '_')}"
                build(corpus, hnsw_dir, hnsw_settings, embedder, progress, args.hnsw_spec)
                oracle = open_index(hnsw_dir, hnsw_settings, embedder)
                for n in threads:
                    set_faiss_threads(n)
                    print(f"  [faiss threads: {n}]")
                    measure_other_spec(oracle, hnsw_settings, embedder, warmup, timed_q, flat_ids, args.hnsw_spec)
                set_faiss_threads(threads[0])
                del oracle
                gc.collect()
                print(f"  peak RSS so far: {peak_rss_mb():.0f} MB")
                if not args.keep:
                    shutil.rmtree(hnsw_dir, ignore_errors=True)
            if not args.keep:
                shutil.rmtree(corpus.parent, ignore_errors=True)

        if args.real_queries > 0:
            real_model_part(base, questions, args, state["generator_batches"], work)
        print()
        print(f"peak RSS: {peak_rss_mb():.0f} MB")
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


def real_model_part(base, questions: list[str], args, generator_batches: list[list[list[str]]], work: Path) -> None:
    import torch

    from rag_oracle.embed import make_embedder
    from rag_oracle.embed.cache import CachedEmbedder

    print()
    settings = base.with_overrides({"embed": {"cache_dir": "off"}})
    default_threads = torch.get_num_threads()
    print(f"-- real model: {settings.embed.model} (cache_dir 'off'; {settings.embed.device}) --")
    real = make_embedder(settings.embed)
    t = time.perf_counter()
    real.embed_query("warm-up: what is the dose of warfarin?")  # loads the model
    print(f"  model load + first query: {time.perf_counter() - t:.2f}s")
    warm = ["How long should apixaban be held before surgery?", "Is metformin safe in pregnancy?", "Dose of lithium?"]
    # distinct from the warm-up, and from the queries of the search part
    queries = questions[-args.real_queries :]
    sizes = [sum(len(b) for b in batches) for batches in generator_batches]
    for threads in dict.fromkeys([default_threads, 1] if args.compare_threads else [default_threads]):
        torch.set_num_threads(threads)
        print(f"  torch threads: {threads}{' (torch default)' if threads == default_threads else ''}")
        times, _ = timed(real.embed_query, warm, queries)
        line(f"embed_query ({len(queries)} distinct)", times)
        if threads == default_threads:
            cached = CachedEmbedder(real, work / "query-cache")
            times, _ = timed(cached.embed_query, warm, queries)
            line("embed_query via cache, miss+write", times)
            times, _ = timed(cached.embed_query, [], queries)
            line("embed_query via cache, hit", times)
            cached.close()
        if generator_batches:
            gen_times = []
            for batches in generator_batches:
                t = time.perf_counter()
                for batch in batches:
                    real.embed_documents(batch)
                gen_times.append(time.perf_counter() - t)
            line(
                "generator embed_documents / ask",
                gen_times,
                f"   [{len(gen_times)} recorded asks, {np.mean(sizes):.0f} texts/ask: "
                f"{np.mean([len(b[0]) for b in generator_batches if b]):.0f} passages + the rest sentences]",
            )
    torch.set_num_threads(default_threads)


if __name__ == "__main__":
    sys.exit(main())
