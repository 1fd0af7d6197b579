"""Cost of opening an index: `Index.open` time and resident memory, and the first reads after it.

Run from the repository root (prints figures, asserts nothing)::

    python benchmarks/index_open.py --sizes 10000 100000            # ~2 min at 100k on 2 busy cores
    python benchmarks/index_open.py --sizes 1000000 --keep --root /data/bench   # build once, keep it
    python benchmarks/index_open.py --index /data/bench/index-1000000          # measure a kept index again

For each size N it writes N synthetic documents (benchmarks/_synthetic.py; 90-180 words, so one
chunk each at the default chunking with the word-count `RandomEmbedder`) and builds a FAISS
Flat index with the public `rag_oracle.ingest(...)`. `--index DIR` skips the build and measures
an existing index instead (any embedder: it is opened without one, and the search uses a
`RandomEmbedder` of the index's dimension).

Each measurement runs in a FRESH Python process (`--repeats`, default 3; the median is printed,
the page cache is warm after the first), which imports rag_oracle, faiss and bm25s first so that
the RSS delta is what opening adds, then reports:

- `Index.open` time, and VmRSS (/proc/self/status) before and after: delta and total;
- the first `index.chunks[N // 2]`, `index.documents[id]` and `index.info(id)`;
- building `RagOracle(index)` and its first hybrid search (`k=10`), and a first filtered search
  (`year_min=2010`: the filter mask over every document), with VmRSS and VmHWM (peak) after;
- the size on disk, by file.

Run it with the code of another commit (without touching git state) to compare::

    git archive HEAD src | tar -x -C /tmp/old && PYTHONPATH=/tmp/old/src python benchmarks/index_open.py ...
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _synthetic import RandomEmbedder, code_version, dir_size_mb, make_questions, write_corpus


def status_mb(field: str) -> float:
    """A VmRSS / VmHWM line of /proc/self/status, in MB."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


class _AsBuilt(RandomEmbedder):
    """A RandomEmbedder under the id of the embedder that built the index (so RagOracle accepts it)."""

    def __init__(self, dimension: int, model_id: str) -> None:
        super().__init__(dimension)
        self._model_id = model_id

    @property
    def model_id(self) -> str:
        return self._model_id


def child(index_dir: Path) -> dict:
    """One fresh process's measurements (printed as JSON by --child)."""
    import bm25s  # noqa: F401
    import faiss  # noqa: F401  (imported before the baseline: the libraries are not the index's cost)
    import numpy as np  # noqa: F401

    from rag_oracle import RagOracle, load_settings
    from rag_oracle.index.store import Index
    from rag_oracle.types import Filters

    out: dict = {"rss_before_mb": status_mb("VmRSS")}
    t = time.perf_counter()
    index = Index.open(index_dir)
    out["open_s"] = time.perf_counter() - t
    out["rss_after_open_mb"] = status_mb("VmRSS")
    n = len(index.chunks)
    out["chunks"] = n
    out["documents"] = len(index.documents)

    t = time.perf_counter()
    chunk = index.chunks[n // 2]
    out["first_chunk_ms"] = (time.perf_counter() - t) * 1000
    t = time.perf_counter()
    doc = index.documents[chunk.doc_id]
    out["first_document_ms"] = (time.perf_counter() - t) * 1000
    t = time.perf_counter()
    index.info(doc.id)
    out["first_info_ms"] = (time.perf_counter() - t) * 1000
    t = time.perf_counter()
    index.position(chunk.id)
    out["first_position_ms"] = (time.perf_counter() - t) * 1000

    embedder = _AsBuilt(int(index.manifest.embedder.get("dimension") or 384), str(index.manifest.embedder.get("id")))
    settings = load_settings().with_overrides({"embed": {"cache_dir": "off"}})
    t = time.perf_counter()
    oracle = RagOracle(index, settings, embedder=embedder)
    out["oracle_ms"] = (time.perf_counter() - t) * 1000
    question = make_questions(1)[0]
    t = time.perf_counter()
    hits = oracle.search(question, k=10)
    out["first_search_ms"] = (time.perf_counter() - t) * 1000
    t = time.perf_counter()
    oracle.search(make_questions(2)[1], k=10)
    out["second_search_ms"] = (time.perf_counter() - t) * 1000
    out["hits"] = len(hits)
    t = time.perf_counter()
    oracle.search(question, k=10, filters=Filters(year_min=2010))
    out["first_filtered_search_ms"] = (time.perf_counter() - t) * 1000
    out["rss_after_search_mb"] = status_mb("VmRSS")
    out["peak_rss_mb"] = status_mb("VmHWM")
    return out


def measure(index_dir: Path, repeats: int) -> list[dict]:
    runs = []
    for _ in range(repeats):
        proc = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--child", str(index_dir)],
            capture_output=True,
            text=True,
            env={**os.environ, "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "PASSIVE")},
        )
        if proc.returncode != 0:
            raise SystemExit(f"the measuring process failed:\n{proc.stderr[-3000:]}")
        runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    return runs


def files_mb(index_dir: Path) -> str:
    from rag_oracle.index.atomic import snapshot_dir

    generation = snapshot_dir(index_dir)
    sizes = {p.name: p.stat().st_size / 1e6 for p in generation.iterdir() if p.is_file()}
    if (generation / "bm25").is_dir():
        sizes["bm25/"] = dir_size_mb(generation / "bm25")
    shown = ", ".join(f"{k} {v:.1f}" for k, v in sorted(sizes.items(), key=lambda kv: -kv[1]) if v >= 0.05)
    return f"{dir_size_mb(generation):.1f} MB ({shown})"


def report(label: str, index_dir: Path, runs: list[dict]) -> None:
    def med(key: str) -> float:
        return statistics.median(r[key] for r in runs)

    first = runs[0]
    print(f"-- {label}: {first['chunks']} chunks, {first['documents']} documents ({index_dir}) --")
    print(f"  size on disk: {files_mb(index_dir)}")
    print(
        f"  Index.open: median {med('open_s'):.3f} s of {len(runs)} fresh processes "
        f"({', '.join(format(r['open_s'], '.3f') for r in runs)})"
    )
    print(
        f"  RSS: {med('rss_before_mb'):.0f} MB after imports -> {med('rss_after_open_mb'):.0f} MB after open "
        f"(+{med('rss_after_open_mb') - med('rss_before_mb'):.0f} MB); after searches "
        f"{med('rss_after_search_mb'):.0f} MB, peak {med('peak_rss_mb'):.0f} MB"
    )
    print(
        f"  first reads: chunks[N//2] {med('first_chunk_ms'):.2f} ms, documents[id] {med('first_document_ms'):.2f} ms, "
        f"info(id) {med('first_info_ms'):.2f} ms, position(id) {med('first_position_ms'):.2f} ms"
    )
    print(
        f"  RagOracle(index) {med('oracle_ms'):.1f} ms; first hybrid search {med('first_search_ms'):.1f} ms, "
        f"second {med('second_search_ms'):.1f} ms; first filtered search (year_min) "
        f"{med('first_filtered_search_ms'):.1f} ms"
    )


def build(size: int, root: Path, seed: int) -> Path:
    from rag_oracle import ingest, load_settings
    from rag_oracle.settings import IndexSettings

    index_dir = root / f"index-{size}"
    if (index_dir / "CURRENT").is_file() or (index_dir / "manifest.json").is_file():
        print(f"  reusing {index_dir}")
        return index_dir
    corpus = write_corpus(root / f"corpus-{size}" / "corpus.jsonl", size, seed=seed)
    index_overrides: dict = {"faiss": "Flat"}
    if "sentence_vectors" in IndexSettings.model_fields:  # not what is measured here
        index_overrides["sentence_vectors"] = False
    settings = load_settings().with_overrides(
        {
            "index": index_overrides,
            "embed": {"cache_dir": "off"},
            # the corpus is one JSONL file (~150 MB at 100k chunks): lift the per-file ingest limits
            "ingest": {"max_file_mib": 1e6, "file_seconds": 1e6},
        }
    )
    t = time.perf_counter()
    report_ = ingest([corpus], index_dir, settings, embedder=RandomEmbedder(384), command=f"index_open.py {size}")
    if report_.total_chunks == 0:
        raise SystemExit(f"nothing was indexed: {report_.files}")
    print(f"  built {index_dir} in {time.perf_counter() - t:.1f} s: {report_.total_chunks} chunks")
    return index_dir


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000], help="Chunk counts to build.")
    parser.add_argument("--index", type=Path, action="append", help="Measure this existing index (repeatable).")
    parser.add_argument("--repeats", type=int, default=3, help="Fresh processes per measurement (default 3).")
    parser.add_argument("--root", type=Path, help="Where to build (default: a temporary folder).")
    parser.add_argument("--keep", action="store_true", help="Keep the built corpora and indexes.")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        print(json.dumps(child(args.child)))
        return 0

    print("== index open ==")
    print(f"date: {time.strftime('%Y-%m-%d %H:%M:%S %Z')}; code: {code_version()}; cpus: {os.cpu_count()}")
    if args.index:
        for index_dir in args.index:
            report("existing index", index_dir, measure(index_dir, args.repeats))
        return 0
    root = args.root or Path(tempfile.mkdtemp(prefix="rag-oracle-perf-open-"))
    root.mkdir(parents=True, exist_ok=True)
    try:
        for size in args.sizes:
            print()
            index_dir = build(size, root, args.seed)
            report(f"{size}", index_dir, measure(index_dir, args.repeats))
    finally:
        if args.keep or args.root:
            print(f"\nkept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
