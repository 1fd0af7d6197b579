"""Search and ask latency (p50/p95) at 10k and 100k chunks, FAISS Flat vs approximate indexes (HNSW32 at several
efSearch, IVF at several nprobe, with recall@10 against Flat), and the real query embedder.

Run from the repository root (prints figures, asserts nothing; about 6-8 minutes on 2 busy cores)::

    python benchmarks/search_latency.py --sizes 10000 100000

Quick check::

    python benchmarks/search_latency.py --sizes 2000 --queries 50 --real-queries 10

Approximate search (recall@10 vs Flat per efSearch / nprobe) on meaningful vectors, then on a real index's
MiniLM vectors (builds dominate: ~8 min each at 100k chunks on 2 busy cores with ingest's sentence stage)::

    python benchmarks/search_latency.py --sizes 10000 100000 --vectors bow --real-queries 0 --no-thread-compare
    python benchmarks/search_latency.py --sizes 1000 --ann-sizes 0 --no-ask --real-queries 0 --no-thread-compare \
        --real-index indexes/bench-bioasq-<fp> --real-questions ../shared/data/bioasq/questions.dev.jsonl

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
3. at each of --ann-sizes (default: every size) builds the same corpus with each of --factories
   (default `HNSW32` and `IVF{nlist},Flat`, {nlist} = `rag_oracle.index.dense.ivf_lists(N)`, about
   4*sqrt(N)) and reports its build time and size, then dense search latency and recall@10
   against Flat (the overlap with Flat's top 10 on the same queries and vectors) for each
   --ef-search value (HNSW) or --nprobe value (IVF), set through `{"retrieve": {"ef_search": v}}`
   / `{"retrieve": {"nprobe": v}}` as a user would, and hybrid latency at the settings' default.
   Independent random vectors are ANN's worst case (no neighbourhood structure): use --vectors bow.

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
    from rag_oracle.index.atomic import snapshot_dir

    gc.collect()
    t = time.perf_counter()
    report = ingest([corpus], index_dir, settings, embedder=embedder, progress=progress, command=label)
    build_s = time.perf_counter() - t
    if report.count("failed") or report.count("skipped") or not report.total_chunks:
        raise SystemExit(f"the {label} build indexed {report.total_chunks} chunks: {report.summary()}")
    snapshot = snapshot_dir(index_dir)  # the current generation (g000001/) holds the files
    files = {p.name: p.stat().st_size / 1e6 for p in snapshot.iterdir() if p.is_file()}
    files["bm25/"] = dir_size_mb(snapshot / "bm25")
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


def measure_flat(oracle, settings, embedder, warmup, timed_q, state: dict, ask: bool = True) -> list[list[str]]:
    """search (3 modes) and ask (2 thresholds; not with ask=False) on an opened Flat index; returns
    dense top-10 ids per query."""
    from rag_oracle import RagOracle

    flat_ids: list[list[str]] = []
    for mode in ("dense", "bm25", "hybrid"):
        o = RagOracle(oracle.index, settings.with_overrides({"retrieve": {"mode": mode}}), embedder=embedder)
        times, outs = timed(lambda q, o=o: [h.chunk.id for h in o.search(q, k=10)], warmup, timed_q)
        line(f"search {mode}", times)
        if mode == "dense":
            flat_ids = outs
    # the second stage (retrieve/rerank.py) on hybrid: its cost against the line above, in one run;
    # the statement vectors come from the sentence store this Flat build filled, as an ingest does
    for label, reranked in (
        ("search hybrid+rerank sent", {"rerank_sentence": 0.5}),
        ("search hybrid+rerank sent+subj", {"rerank_sentence": 0.5, "rerank_subject": 0.1}),
    ):
        over = {"retrieve": {"mode": "hybrid", **reranked}}
        o = RagOracle(oracle.index, settings.with_overrides(over), embedder=embedder)
        times, _ = timed(lambda q, o=o: [h.chunk.id for h in o.search(q, k=10)], warmup, timed_q)
        line(label, times)
    if not ask:
        return flat_ids

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


def ann_values(spec: str, args) -> tuple[str, list[int]]:
    """The search-time setting that tunes `spec` ("ef_search" for HNSW, "nprobe" for IVF) and the
    values to try, or ("", []) for a spec that has neither."""
    head = spec.split(",")[0].split("_")[0].upper()
    if "HNSW" in head:
        return "ef_search", args.ef_search
    if "IVF" in head:
        return "nprobe", args.nprobe
    return "", []


def measure_ann(oracle, settings, embedder, warmup, timed_q, flat_ids, spec: str, args) -> None:
    """Dense search latency and recall@10 vs Flat for each value of the spec's search-time setting,
    then hybrid latency at the default."""
    from rag_oracle import RagOracle

    def recall(outs: list[list[str]]) -> float:
        return float(np.mean([len(set(a) & set(b)) / max(len(b), 1) for a, b in zip(outs, flat_ids, strict=True)]))

    setting, values = ann_values(spec, args)
    default = getattr(settings.retrieve, setting) if setting else None
    for value in values or [None]:
        overrides = {"mode": "dense"} | ({setting: value} if setting else {})
        o = RagOracle(oracle.index, settings.with_overrides({"retrieve": overrides}), embedder=embedder)
        times, outs = timed(lambda q, o=o: [h.chunk.id for h in o.search(q, k=10)], warmup, timed_q)
        label = f"dense {spec}" + (f" {setting}={value}" if setting else "")
        mark = " (default)" if value is not None and value == default else ""
        line(label, times, f"   [recall@10 vs Flat {recall(outs):.3f}]{mark}")
    o = RagOracle(oracle.index, settings, embedder=embedder)
    times, _ = timed(lambda q: o.search(q, k=10), warmup, timed_q)
    line(f"hybrid {spec}" + (f" {setting}={default}" if setting else ""), times)


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
        "--ann-sizes",
        type=int,
        nargs="+",
        help="Sizes at which the --factories are compared with Flat (default: every size; 0: none).",
    )
    parser.add_argument(
        "--factories",
        nargs="+",
        default=["HNSW32", "IVF{nlist},Flat"],
        help="FAISS specs compared with Flat; {nlist} becomes ivf_lists(N), about 4*sqrt(N) "
        "(default: HNSW32 'IVF{nlist},Flat').",
    )
    parser.add_argument(
        "--ef-search",
        type=int,
        nargs="+",
        default=[16, 32, 64, 128, 256],
        help="retrieve.ef_search values tried on HNSW specs (default 16 32 64 128 256).",
    )
    parser.add_argument(
        "--nprobe",
        type=int,
        nargs="+",
        default=[1, 4, 16, 64, 128, 256],
        help="retrieve.nprobe values tried on IVF specs (default 1 4 16 64 128 256).",
    )
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
    parser.add_argument("--no-ask", action="store_true", help="Skip the ask timings (search and ANN figures only).")
    parser.add_argument(
        "--real-index",
        type=Path,
        help="An index built with the real default model and 'Flat' (e.g. indexes/bench-bioasq-<fp>): its "
        "stored vectors are rebuilt into each of --factories and searched with --real-questions embedded by "
        "that model, recall@10 against its exact search (real embeddings instead of synthetic ones).",
    )
    parser.add_argument(
        "--real-questions",
        type=Path,
        help="JSONL with a 'question' field per line (e.g. ../shared/data/bioasq/questions.dev.jsonl), for "
        "--real-index; the first --queries are used.",
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
    from rag_oracle.index.dense import ivf_lists, recommended_factory

    progress = None
    if not args.no_progress:
        from rag_oracle.cli import TqdmProgress

        progress = TqdmProgress()

    # the corpus is one JSONL file (~150 MB at 100k chunks): lift the per-file ingest limits
    # no sentence store but for the Flat build (the reranker's lines read it): elsewhere the synthetic
    # embedder's statement vectors would measure nothing and cost minutes
    base = load_settings().with_overrides(
        {"ingest": {"max_file_mib": 1e6, "file_seconds": 1e6}, "index": {"sentence_vectors": False}}
    )
    questions = make_questions(args.warmup + max(args.queries, args.real_queries) + 10, seed=args.seed + 1)
    warmup, timed_q = questions[: args.warmup], questions[args.warmup : args.warmup + args.queries]
    ann_sizes = set(args.sizes if args.ann_sizes is None else args.ann_sizes)
    embedder = RandomEmbedder(args.dim, kind=args.vectors)
    state: dict = {"generator_batches": [], "generator_asks": args.generator_asks}
    threads = thread_counts(args)

    work = Path(tempfile.mkdtemp(prefix="rag-oracle-perf-search-"))
    print("== search / ask latency ==")
    print(
        f"date: {time.strftime('%Y-%m-%d %H:%M:%S %Z')}; code: {code_version()}; cpus: {os.cpu_count()}; faiss default threads: "
        f"{faiss.omp_get_max_threads()}; measured with faiss threads: {threads}; vectors: {args.vectors} "
        f"{args.dim}-d; queries: {len(warmup)} warm-up + {len(timed_q)} timed (distinct); k=10; "
        f"retrieve.candidates={base.retrieve.candidates}; defaults retrieve.ef_search={base.retrieve.ef_search}, "
        f"retrieve.nprobe={base.retrieve.nprobe}"
    )
    try:
        for size in args.sizes:
            print()
            print(f"-- {size} chunks, FAISS Flat --")
            factory, reason = recommended_factory(size, args.dim)
            print(f"  recommended_factory({size}, {args.dim}): {factory} ({reason})")
            corpus = write_corpus(work / f"corpus-{size}" / "corpus.jsonl", size, seed=args.seed)
            flat_dir = work / f"index-{size}-flat"
            flat_settings = base.with_overrides({"index": {"faiss": "Flat", "sentence_vectors": True}})
            set_faiss_threads(threads[0])
            build(corpus, flat_dir, flat_settings, embedder, progress, "Flat")
            oracle = open_index(flat_dir, flat_settings, embedder)
            flat_ids = None
            for n in threads:
                set_faiss_threads(n)
                print(f"  [faiss threads: {n}]")
                ids = measure_flat(oracle, flat_settings, embedder, warmup, timed_q, state, ask=not args.no_ask)
                flat_ids = flat_ids or ids
            set_faiss_threads(threads[0])
            del oracle
            gc.collect()
            print(f"  peak RSS so far: {peak_rss_mb():.0f} MB")
            if not args.keep:
                shutil.rmtree(flat_dir, ignore_errors=True)

            for template in args.factories if size in ann_sizes else []:
                spec = template.replace("{nlist}", str(ivf_lists(size)))
                print()
                print(f"-- {size} chunks, FAISS {spec} (vs Flat, same vectors and queries) --")
                ann_settings = base.with_overrides({"index": {"faiss": spec}})
                ann_dir = work / f"index-{size}-{spec.replace(',', '_')}"
                set_faiss_threads(threads[0])
                build(corpus, ann_dir, ann_settings, embedder, progress, spec)
                oracle = open_index(ann_dir, ann_settings, embedder)
                for n in threads:
                    set_faiss_threads(n)
                    print(f"  [faiss threads: {n}]")
                    measure_ann(oracle, ann_settings, embedder, warmup, timed_q, flat_ids, spec, args)
                set_faiss_threads(threads[0])
                del oracle
                gc.collect()
                print(f"  peak RSS so far: {peak_rss_mb():.0f} MB")
                if not args.keep:
                    shutil.rmtree(ann_dir, ignore_errors=True)
            if not args.keep:
                shutil.rmtree(corpus.parent, ignore_errors=True)

        if args.real_index:
            real_vectors_part(base, args, threads[0])
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


def real_vectors_part(base, args, faiss_threads: int) -> None:
    """recall@10 and latency of --factories at each --ef-search / --nprobe on a real index's own vectors."""
    import json

    import faiss
    import torch

    from rag_oracle.embed import make_embedder
    from rag_oracle.index import dense
    from rag_oracle.index.atomic import snapshot_dir
    from rag_oracle.index.manifest import read_manifest

    if not args.real_questions:
        raise SystemExit("--real-index needs --real-questions")
    snapshot = snapshot_dir(args.real_index)
    manifest = read_manifest(snapshot)
    exact = dense.read(snapshot)
    vectors = exact.reconstruct_n(0, exact.ntotal)
    with open(args.real_questions, encoding="utf-8") as fh:
        questions = [json.loads(line)["question"] for line in fh if line.strip()][: args.warmup + args.queries]
    embedder = make_embedder(base.embed.model_copy(update={"cache_dir": "off"}))
    if embedder.model_id != manifest.embedder.get("id"):
        raise SystemExit(f"{args.real_index} was built with {manifest.embedder.get('id')}, not {embedder.model_id}")
    torch.set_num_threads(1)
    query_vectors = np.stack([embedder.embed_query(q) for q in questions]).astype(np.float32)
    warm, timed_vectors = query_vectors[: args.warmup], query_vectors[args.warmup :]
    faiss.omp_set_num_threads(faiss_threads)
    n, d = vectors.shape
    print()
    print(
        f"-- real vectors: {args.real_index} ({n} chunks, {d}-d, {manifest.embedder.get('id')}); "
        f"{len(timed_vectors)} questions from {args.real_questions}; faiss threads {faiss_threads} --"
    )
    print(f"  recommended_factory({n}, {d}): {' ('.join(dense.recommended_factory(n, d))})")

    def sweep(index, label: str, mark: str = "", **knobs) -> list[list[int]]:
        for q in warm:
            dense.search(index, q, 10, **knobs)
        times, outs = [], []
        for q in timed_vectors:
            t = time.perf_counter()
            positions, _ = dense.search(index, q, 10, **knobs)
            times.append(time.perf_counter() - t)
            outs.append(positions.tolist())
        extra = ""
        if truth:
            found = [len(set(a) & set(b)) / max(len(b), 1) for a, b in zip(outs, truth, strict=True)]
            extra = f"   [recall@10 vs Flat {np.mean(found):.3f}]{mark}"
        line(label, times, extra)
        return outs

    truth: list[list[int]] = []
    truth = sweep(exact, "dense Flat")
    for template in args.factories:
        spec = template.replace("{nlist}", str(dense.ivf_lists(n)))
        t = time.perf_counter()
        index = dense.new_faiss_index(spec, d)
        dense.add_vectors(index, vectors, spec)
        print(f"  build {spec}: {time.perf_counter() - t:.1f}s (FAISS train + add only)")
        setting, values = ann_values(spec, args)
        default = getattr(base.retrieve, setting) if setting else None
        for value in values or [None]:
            knobs = {setting: value} if setting else {}
            label = f"dense {spec}" + (f" {setting}={value}" if setting else "")
            sweep(index, label, " (default)" if value is not None and value == default else "", **knobs)


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
