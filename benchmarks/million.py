"""A million chunks on this machine (issue 13, item 6): build, open, search, ask, ANN recall, size on disk.

Run from the repository root (prints figures, asserts nothing; ~30-40 minutes at 1M on 2 busy cores)::

    python benchmarks/million.py --work /tmp/million --keep      # build once into /tmp/million, keep it
    python benchmarks/million.py --work /tmp/million             # re-measure the kept index (no rebuild)
    python benchmarks/million.py --chunks 50000                  # a quick check (~2 min), then extrapolate

What it does, in one run:

1. **Corpus.** `--chunks` seeded synthetic clinical-ish documents (benchmarks/_synthetic.py,
   60-120 words each, so one chunk each at the default chunking with a word-count tokenizer),
   written as `--files` JSONL files. BM25 is real, over this text.
2. **Build**, in a child process: the public `rag_oracle.ingest(...)` with a `RandomEmbedder(kind="bow")`
   (a random projection of the bag of words: vectors with neighbourhood structure, which ANN recall
   needs), `index.faiss` = `--faiss` (default: `rag_oracle.index.dense.recommended_factory(N, 384)`,
   HNSW32 at 1M), `index.sentence_vectors` off, `embed.cache_dir` "off". Reported: wall time,
   `report.seconds`, the child's peak RSS (VmHWM of /proc/self/status, and the parent's
   `getrusage(RUSAGE_CHILDREN).ru_maxrss`), and the peak RSS and seconds of each stage, sampled
   every 0.2 s; the `write` stage is split by wrapping the writer's steps (FAISS add, a batch at a
   time, summed; store.sqlite; BM25 build and save; FAISS save) in the child, without changing them.
3. **Open**, in `--open-repeats` fresh processes (median; the page cache is warm): `Index.open(dir,
   embedder)` and `RagOracle(index, settings, embedder=...)` times, VmRSS after (and its delta over
   the imports), and the first hybrid search (VmRSS split into anonymous memory and file-backed
   pages: FAISS's vectors are memory-mapped, so pages a search touched are the shared page cache).
4. **Search / ask**, in this process with the index open: `--warmup` then `--queries` distinct
   questions, `oracle.search(q, k=10)` in retrieve.mode dense, bm25 and hybrid, and `oracle.ask(q)`
   with `answer.min_passage_similarity` -1.0 (the extractive generator runs in full, no abstention);
   p50/p95/mean in ms.
5. **ANN recall@10** against exact search over the very same stored vectors (a FAISS IndexFlatIP:
   the HNSW index's own Flat storage, or the vectors reconstructed or re-embedded into one), for the
   questions' query vectors and for held-out documents used as queries, at each `--ef-search`
   (HNSW) or `--nprobe` (IVF) value, with the dense search latency at each.
6. **Size on disk**, by file.

With `--work DIR` the corpus and the index stay in DIR and are reused by the next run with the same
--chunks, --faiss and --seed (pass --rebuild to build again); without it they go to a temporary
folder deleted at the end unless --keep.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from _synthetic import (
    RandomEmbedder,
    _Vocab,
    code_version,
    dir_size_mb,
    make_document,
    make_questions,
    percentiles_ms,
)

DIM = 384
MIN_WORDS, MAX_WORDS = 60, 120


def status_mb(field: str, pid: int | str = "self") -> float:
    """A VmRSS / VmHWM line of /proc/<pid>/status, in MB (MiB)."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def default_factory(n: int) -> tuple[str, str]:
    try:
        from rag_oracle.index.dense import recommended_factory
    except ImportError:
        return "HNSW32", "rag_oracle.index.dense.recommended_factory does not exist (yet): HNSW32"
    return recommended_factory(n, DIM)


def base_settings(spec: str):
    from rag_oracle import load_settings

    return load_settings().with_overrides(
        {
            "embed": {"cache_dir": "off"},
            "index": {"faiss": spec, "sentence_vectors": False},
            "ingest": {"max_file_mib": 1e6, "file_seconds": 1e6},
        }
    )


# --- corpus ---------------------------------------------------------------------------------------


def write_corpus(folder: Path, n: int, files: int, seed: int) -> list[Path]:
    """`n` documents (ids syn-0000000 …, one rng and vocabulary for all) spread over `files` JSONL files."""
    marker = folder / "corpus.json"
    want = {"chunks": n, "files": files, "seed": seed, "words": [MIN_WORDS, MAX_WORDS]}
    paths = [folder / f"part-{i:03d}.jsonl" for i in range(files)]
    if marker.is_file() and json.loads(marker.read_text()) == want and all(p.is_file() for p in paths):
        return paths
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    import random

    rng = random.Random(seed)
    vocab = _Vocab(seed)
    per_file = -(-n // files)
    for f, path in enumerate(paths):
        with open(path, "w", encoding="utf-8") as fh:
            for i in range(f * per_file, min((f + 1) * per_file, n)):
                fh.write(json.dumps(make_document(i, rng, vocab, MIN_WORDS, MAX_WORDS)))
                fh.write("\n")
    marker.write_text(json.dumps(want))
    return paths


def held_out_documents(n: int, seed: int) -> list[str]:
    """Texts of `n` documents drawn like the corpus's but not in it (another seed), as the pipeline embeds them."""
    import random

    from rag_oracle.text.passage import embedding_text

    rng = random.Random(seed + 10_007)
    vocab = _Vocab(seed)  # the corpus's vocabulary, another draw
    vocab.np_rng = np.random.default_rng(seed + 10_007)
    docs = [make_document(i, rng, vocab, MIN_WORDS, MAX_WORDS) for i in range(n)]
    return [embedding_text(d["title"], d["text"]) for d in docs]


# --- build (child process) ------------------------------------------------------------------------


class _Stages:
    """The current stage, and each stage's seconds and peak VmRSS, sampled by a thread every 0.2 s."""

    def __init__(self, heartbeat: float = 30.0) -> None:
        self.stage = "start"
        self.started = time.perf_counter()
        self.stage_started = self.started
        self.peak: dict[str, float] = {}
        self.seconds: dict[str, float] = {}
        self.done = 0
        self.total: int | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._heartbeat = heartbeat
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def enter(self, stage: str) -> str:
        with self._lock:
            self._sample()
            now = time.perf_counter()
            self.seconds[self.stage] = self.seconds.get(self.stage, 0.0) + now - self.stage_started
            previous, self.stage, self.stage_started = self.stage, stage, now
            self.done, self.total = 0, None
            self._sample()
        return previous

    def _sample(self) -> None:
        rss = status_mb("VmRSS")
        self.peak[self.stage] = max(self.peak.get(self.stage, 0.0), rss)

    def _run(self) -> None:
        last = time.perf_counter()
        while not self._stop.wait(0.2):
            with self._lock:
                self._sample()
            if time.perf_counter() - last >= self._heartbeat:
                last = time.perf_counter()
                print(
                    f"  [{last - self.started:7.0f}s] {self.stage}: {self.done}/{self.total or '?'}; "
                    f"RSS {status_mb('VmRSS'):.0f} MB, peak {status_mb('VmHWM'):.0f} MB",
                    file=sys.stderr,
                    flush=True,
                )

    def stop(self) -> None:
        self.enter("end")
        self._stop.set()
        self._thread.join()

    # the ingest Progress protocol: its phases (read, embed, ...) become stages; after embed comes write
    def start(self, phase: str, total: int | None, unit: str) -> None:
        self.enter(phase)
        self.total = total

    def advance(self, n: int = 1, **info: object) -> None:
        self.done += n

    def finish(self) -> None:
        if self.stage == "embed":
            self.enter("write:add")  # the writer.add calls; then commit's steps (wrapped), between them write:other


def _wrap_writer_steps(stages: _Stages) -> None:
    """Label the steps of IndexWriter.commit as stages, by wrapping the functions it calls (no change to them)."""
    from rag_oracle.index import dense, lexical, writer

    def wrap(owner, name: str, stage: str) -> None:
        original = getattr(owner, name)

        def wrapped(*args, **kwargs):
            stages.enter(stage)
            try:
                return original(*args, **kwargs)
            finally:
                stages.enter("write:other")

        setattr(owner, name, wrapped)

    wrap(dense, "add_vectors", "write:faiss_add")
    wrap(writer.IndexWriter, "_write_store", "write:store_sqlite")
    wrap(lexical, "build", "write:bm25_build")
    wrap(lexical, "save", "write:bm25_save")
    wrap(dense, "write", "write:faiss_save")


def child_build(args) -> None:
    import faiss  # noqa: F401  (imported first so its threads exist before the sampler)

    from rag_oracle import ingest

    stages = _Stages()
    _wrap_writer_steps(stages)
    spec = args.faiss
    settings = base_settings(spec)
    paths = sorted(Path(args.corpus).glob("part-*.jsonl"))
    embedder = RandomEmbedder(DIM, kind="bow")
    t = time.perf_counter()
    report = ingest(
        paths, Path(args.index), settings, embedder=embedder, progress=stages, command=f"benchmarks/million.py {spec}"
    )
    wall = time.perf_counter() - t
    stages.stop()
    bad = [f"{f.path}: {f.status} {f.reason}" for f in report.files if f.status != "ingested"]
    print(
        json.dumps(
            {
                "wall_s": wall,
                "seconds": report.seconds,
                "chunks": report.total_chunks,
                "documents": report.total_documents,
                "tokens": report.tokens_added,
                "bad_files": bad,
                "stage_peak_mb": stages.peak,
                "stage_seconds": stages.seconds,
                "vmhwm_mb": status_mb("VmHWM"),
                "ru_maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
    )


def run_child(argv: list[str]) -> dict:
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE"}
    proc = subprocess.run(
        [sys.executable, __file__, *argv], env=env, stdout=subprocess.PIPE, stderr=None, text=True, check=False
    )
    if proc.returncode != 0:
        raise SystemExit(f"child {argv[:2]} failed with exit {proc.returncode}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# --- open (child process) -------------------------------------------------------------------------


def child_open(args) -> None:
    import bm25s  # noqa: F401
    import faiss  # noqa: F401  (the libraries are imported before the baseline: they are not the index's cost)

    from rag_oracle import RagOracle
    from rag_oracle.index.store import Index

    embedder = RandomEmbedder(DIM, kind="bow")
    settings = base_settings(args.faiss)
    out = {"rss_before_mb": status_mb("VmRSS")}
    t = time.perf_counter()
    index = Index.open(Path(args.index), embedder)
    out["index_open_s"] = time.perf_counter() - t
    out["rss_after_open_mb"] = status_mb("VmRSS")
    t = time.perf_counter()
    oracle = RagOracle(index, settings, embedder=embedder)
    out["oracle_s"] = time.perf_counter() - t
    out["rss_after_oracle_mb"] = status_mb("VmRSS")
    t = time.perf_counter()
    oracle.search(make_questions(1, seed=99)[0], k=10)
    out["first_search_ms"] = (time.perf_counter() - t) * 1000
    out["rss_after_search_mb"] = status_mb("VmRSS")
    # The vectors are memory-mapped: pages of the file a search touched count in VmRSS (RssFile) but
    # are the page cache, shared by every process that opened the index and reclaimable.
    out["rss_anon_after_search_mb"] = status_mb("RssAnon")
    out["rss_file_after_search_mb"] = status_mb("RssFile")
    out["vmhwm_mb"] = status_mb("VmHWM")
    print(json.dumps(out))


# --- measurements in this process -----------------------------------------------------------------


def timed(fn, warmup: list[str], queries: list[str]) -> tuple[list[float], list]:
    for q in warmup:
        fn(q)
    gc.collect()
    times, outs = [], []
    for q in queries:
        t = time.perf_counter()
        outs.append(fn(q))
        times.append(time.perf_counter() - t)
    return times, outs


def line(label: str, times: list[float], extra: str = "") -> tuple[float, float]:
    p50, p95, mean = percentiles_ms(times)
    print(f"  {label:<34} p50 {p50:8.2f} ms   p95 {p95:8.2f} ms   mean {mean:8.2f} ms{extra}")
    return p50, p95


def exact_index(faiss_index, index, embedder):
    """(an exact inner-product index over the same vectors, how it was obtained)."""
    import faiss

    from rag_oracle.text.passage import embedding_text

    base = faiss.downcast_index(faiss_index)
    if isinstance(base, faiss.IndexHNSW):
        storage = faiss.downcast_index(base.storage)
        if isinstance(storage, faiss.IndexFlat) and storage.metric_type == faiss.METRIC_INNER_PRODUCT:
            return storage, "the HNSW index's own IndexFlatIP storage (the same vectors, searched exactly)"
    flat = faiss.IndexFlatIP(faiss_index.d)
    n, block = faiss_index.ntotal, 100_000
    try:
        for start in range(0, n, block):
            flat.add(faiss_index.reconstruct_n(start, min(block, n - start)))
        return flat, "an IndexFlatIP of the vectors reconstructed from the index"
    except RuntimeError:
        flat.reset()
    batch: list[str] = []
    for _, chunk, title in index.store.chunk_records():
        batch.append(embedding_text(title, chunk.text))
        if len(batch) == 4096:
            flat.add(embedder.embed_documents(batch))
            batch = []
    if batch:
        flat.add(embedder.embed_documents(batch))
    return flat, "an IndexFlatIP of the vectors embedded again from the stored chunks (lossy index codes)"


def measure_recall(oracle, settings, embedder, questions: list[str], held_out: list[str], args) -> dict:
    from rag_oracle.index import dense

    faiss_index = oracle.index.faiss_index
    spec = settings.index.faiss
    flat, how = exact_index(faiss_index, oracle.index, embedder)
    sets = {
        "questions": np.stack([embedder.embed_query(q) for q in questions]).astype(np.float32),
        "held-out documents": embedder.embed_documents(held_out).astype(np.float32),
    }
    t = time.perf_counter()
    exact = {name: flat.search(q, 10)[1] for name, q in sets.items()}
    print(f"  exact top-10: {how}; {time.perf_counter() - t:.1f}s for {sum(len(q) for q in sets.values())} queries")
    head = spec.split(",")[0].upper()
    if "HNSW" in head and hasattr(settings.retrieve, "ef_search"):
        knob, values, default = "ef_search", args.ef_search, settings.retrieve.ef_search
    elif "IVF" in head and hasattr(settings.retrieve, "nprobe"):
        knob, values, default = "nprobe", args.nprobe, settings.retrieve.nprobe
    else:
        knob, values, default = "", [None], None
        if "HNSW" in head:
            print("  (no retrieve.ef_search setting: faiss's default efSearch)")
    values = sorted(set(values) | ({default} if default is not None else set()), key=lambda v: v or 0)
    results: dict = {}
    for value in values:
        kwargs = {knob: value} if knob else {}
        parts = []
        for name, queries in sets.items():
            found, times = [], []
            for qv in queries:
                t0 = time.perf_counter()
                positions, _ = dense.search(faiss_index, qv, 10, **kwargs)
                times.append(time.perf_counter() - t0)
                found.append(positions)
            recall = float(np.mean([len(set(f) & set(e)) / 10 for f, e in zip(found, exact[name], strict=True)]))
            p50, _, _ = percentiles_ms(times)
            results.setdefault(value, {})[name] = recall
            parts.append(f"{name} {recall:.3f} ({p50:.2f} ms p50)")
        mark = "  <- the settings' default" if value == default and knob else ""
        print(f"  recall@10 {spec}{f' {knob}={value}' if knob else ''}: " + "; ".join(parts) + mark)
    return {"knob": knob, "default": default, "results": results}


def size_report(index_dir: Path) -> float:
    from rag_oracle.index.atomic import snapshot_dir

    snapshot = snapshot_dir(index_dir)
    files = {p.name: p.stat().st_size / 1e6 for p in snapshot.iterdir() if p.is_file()}
    files["bm25/"] = dir_size_mb(snapshot / "bm25")
    total = dir_size_mb(index_dir)
    print(
        f"  size on disk: {total:.0f} MB ("
        + ", ".join(f"{k} {v:.0f}" for k, v in sorted(files.items(), key=lambda kv: -kv[1]) if v >= 0.5)
        + ")"
    )
    return total


def index_matches(index_dir: Path, n: int, spec: str) -> bool:
    from rag_oracle.index.manifest import read_manifest

    try:
        m = read_manifest(index_dir)
    except Exception:
        return False
    return m.counts.get("chunks") == n and m.faiss.get("spec") == spec


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chunks", type=int, default=1_000_000, help="Documents = chunks (default 1000000).")
    parser.add_argument("--files", type=int, help="JSONL files of the corpus (default: one per 50k documents).")
    parser.add_argument("--faiss", help="index.faiss spec (default: recommended_factory(N, 384); HNSW32 at 1M).")
    parser.add_argument("--work", type=Path, help="Folder for the corpus and index, kept and reused (default: temp).")
    parser.add_argument("--keep", action="store_true", help="Keep the temporary folder (implied by --work).")
    parser.add_argument("--rebuild", action="store_true", help="Build again even if --work holds a matching index.")
    parser.add_argument("--queries", type=int, default=200, help="Timed distinct queries (default 200).")
    parser.add_argument("--warmup", type=int, default=10, help="Warm-up queries before each measurement (default 10).")
    parser.add_argument("--open-repeats", type=int, default=3, help="Fresh processes timing the open (default 3).")
    parser.add_argument("--recall-queries", type=int, default=200, help="Query vectors of each kind (default 200).")
    parser.add_argument(
        "--ef-search", type=int, nargs="+", default=[16, 32, 64, 128, 256], help="HNSW efSearch values for recall."
    )
    parser.add_argument("--nprobe", type=int, nargs="+", default=[8, 32, 128], help="IVF nprobe values for recall.")
    parser.add_argument("--build-only", action="store_true", help="Stop after the build and the size on disk.")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--child", choices=("build", "open"), help=argparse.SUPPRESS)
    parser.add_argument("--corpus", help=argparse.SUPPRESS)
    parser.add_argument("--index", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child == "build":
        child_build(args)
        return 0
    if args.child == "open":
        child_open(args)
        return 0

    import faiss

    from rag_oracle import RagOracle

    n = args.chunks
    files = args.files or max(1, -(-n // 50_000))
    spec, reason = (args.faiss, "--faiss") if args.faiss else default_factory(n)
    settings = base_settings(spec)
    work = args.work or Path(tempfile.mkdtemp(prefix="rag-oracle-million-"))
    keep = args.keep or args.work is not None
    work.mkdir(parents=True, exist_ok=True)
    corpus_dir = work / f"corpus-{n}-s{args.seed}"
    index_dir = work / f"index-{n}-s{args.seed}-{spec.replace(',', '_')}"

    print(f"== a million chunks: {n} chunks, FAISS {spec} ==")
    print(
        f"date: {time.strftime('%Y-%m-%d %H:%M:%S %Z')}; code: {code_version()}; cpus: {os.cpu_count()}; "
        f"RAM {os.sysconf('SC_PHYS_PAGES') * os.sysconf('SC_PAGE_SIZE') / 2**30:.0f} GiB; faiss threads "
        f"{faiss.omp_get_max_threads()}; OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', '(unset)')}"
    )
    print(f"factory: {spec} ({reason})")
    print(
        f"settings: index.sentence_vectors=False, embed.cache_dir=off, vectors: RandomEmbedder bow {DIM}-d, "
        f"retrieve.candidates={settings.retrieve.candidates}, retrieve.ef_search="
        f"{getattr(settings.retrieve, 'ef_search', 'n/a')}, retrieve.nprobe={getattr(settings.retrieve, 'nprobe', 'n/a')}"
    )
    print(f"work: {work}")
    try:
        print()
        print("-- corpus --")
        t = time.perf_counter()
        paths = write_corpus(corpus_dir, n, files, args.seed)
        print(
            f"  {n} documents of {MIN_WORDS}-{MAX_WORDS} words in {len(paths)} JSONL files, "
            f"{dir_size_mb(corpus_dir):.0f} MB ({time.perf_counter() - t:.0f}s, 0 if reused)"
        )

        print()
        print("-- build (child process) --")
        if index_matches(index_dir, n, spec) and not args.rebuild:
            print(f"  reused {index_dir} (pass --rebuild to build again)")
        else:
            shutil.rmtree(index_dir, ignore_errors=True)
            t = time.perf_counter()
            b = run_child(["--child", "build", "--corpus", str(corpus_dir), "--index", str(index_dir), "--faiss", spec])
            outer = time.perf_counter() - t
            children_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
            if b["bad_files"] or b["chunks"] != n:
                print(f"  WARNING: {b['chunks']} chunks; {b['bad_files'][:3]}")
            print(
                f"  build: {b['wall_s']:.0f}s ingest wall ({b['wall_s'] / 60:.1f} min; {outer:.0f}s with the child's "
                f"start-up) for {b['chunks']} chunks ({b['chunks'] / b['wall_s']:.0f} chunks/s), "
                f"{b['tokens']} tokens"
            )
            print("  report.seconds: " + ", ".join(f"{k} {v:.0f}s" for k, v in b["seconds"].items()))
            print(
                f"  peak RSS of the build: VmHWM {b['vmhwm_mb']:.0f} MB ({b['vmhwm_mb'] / 1024:.2f} GiB); "
                f"ru_maxrss(children) {children_peak:.0f} MB"
            )
            print("  stages (seconds, peak VmRSS sampled every 0.2 s):")
            for stage, peak in b["stage_peak_mb"].items():
                if stage != "end":
                    print(f"    {stage:<20} {b['stage_seconds'].get(stage, 0):7.1f}s  peak {peak:7.0f} MB")
        disk = size_report(index_dir)
        if args.build_only:
            return 0

        print()
        print(f"-- open ({args.open_repeats} fresh processes, median; warm page cache) --")
        opens = [
            run_child(["--child", "open", "--index", str(index_dir), "--faiss", spec]) for _ in range(args.open_repeats)
        ]

        def med(key: str) -> float:
            return statistics.median(o[key] for o in opens)

        runs = ", ".join(f"{o['index_open_s']:.2f}" for o in opens)
        print(
            f"  Index.open {med('index_open_s'):.2f}s (runs: {runs}); "
            f"RagOracle(index) {med('oracle_s') * 1000:.0f} ms; open total {med('index_open_s') + med('oracle_s'):.2f}s"
        )
        print(
            f"  VmRSS after imports {med('rss_before_mb'):.0f} MB, after open {med('rss_after_open_mb'):.0f} MB "
            f"(+{med('rss_after_open_mb') - med('rss_before_mb'):.0f}), after RagOracle "
            f"{med('rss_after_oracle_mb'):.0f} MB, after a first hybrid search ({med('first_search_ms'):.0f} ms) "
            f"{med('rss_after_search_mb'):.0f} MB (anonymous {med('rss_anon_after_search_mb'):.0f}, file-backed "
            f"{med('rss_file_after_search_mb'):.0f}: mapped pages of the index's files); VmHWM {med('vmhwm_mb'):.0f} MB"
        )

        print()
        print("-- search / ask (this process) --")
        embedder = RandomEmbedder(DIM, kind="bow")
        t = time.perf_counter()
        oracle = RagOracle(index_dir, settings, embedder=embedder)
        print(f"  RagOracle(index_dir) here: {time.perf_counter() - t:.2f}s; VmRSS {status_mb('VmRSS'):.0f} MB")
        questions = make_questions(args.warmup + args.queries, seed=args.seed + 1)
        warmup, timed_q = questions[: args.warmup], questions[args.warmup :]
        figures: dict[str, tuple[float, float]] = {}
        for mode in ("dense", "bm25", "hybrid"):
            o = RagOracle(oracle.index, settings.with_overrides({"retrieve": {"mode": mode}}), embedder=embedder)
            times, _ = timed(lambda q, o=o: o.search(q, k=10), warmup, timed_q)
            figures[mode] = line(f"search {mode} (k=10)", times)
        o = RagOracle(
            oracle.index,
            settings.with_overrides({"retrieve": {"mode": "hybrid"}, "answer": {"min_passage_similarity": -1.0}}),
            embedder=embedder,
        )
        times, answers = timed(o.ask, warmup, timed_q)
        figures["ask"] = line(
            "ask (hybrid, threshold -1.0)",
            times,
            f"   [median retrieve {np.median([a.timings_ms['retrieve'] for a in answers]):.1f} + generate "
            f"{np.median([a.timings_ms['generate'] for a in answers]):.1f} ms; "
            f"{sum(a.abstained for a in answers)} abstained]",
        )
        print(f"  VmRSS now {status_mb('VmRSS'):.0f} MB, peak {status_mb('VmHWM'):.0f} MB")

        print()
        print(f"-- ANN recall@10 vs exact ({args.recall_queries} query vectors of each kind) --")
        recall_q = make_questions(args.recall_queries, seed=args.seed + 2)
        held_out = held_out_documents(args.recall_queries, args.seed)
        recall = measure_recall(oracle, settings, embedder, recall_q, held_out, args)

        print()
        print("-- summary --")
        if "b" in locals():
            print(f"  build wall {b['wall_s'] / 60:.1f} min; peak RSS {b['vmhwm_mb'] / 1024:.2f} GiB")
        print(
            f"  open (Index.open + RagOracle) {med('index_open_s') + med('oracle_s'):.2f}s; "
            f"RSS after open {med('rss_after_oracle_mb'):.0f} MB"
        )
        print(f"  hybrid search p50/p95 {figures['hybrid'][0]:.1f}/{figures['hybrid'][1]:.1f} ms")
        print(f"  ask p50/p95 {figures['ask'][0]:.1f}/{figures['ask'][1]:.1f} ms")
        if recall["default"] is not None or not recall["knob"]:
            r = recall["results"][recall["default"]]
            label = f" at {recall['knob']}={recall['default']}" if recall["knob"] else ""
            print(f"  ANN recall@10{label}: " + ", ".join(f"{k} {v:.3f}" for k, v in r.items()))
        print(f"  size on disk {disk / 1000:.2f} GB")
        del oracle, o
    finally:
        if keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
