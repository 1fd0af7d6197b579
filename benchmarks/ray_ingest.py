"""Ingest throughput: `--engine ray` in local mode against the single-process ingest, same texts.

Writes a synthetic corpus (benchmarks/_synthetic.write_corpus, split over several JSONL files so Ray
has tasks to spread), ingests it with the default embedder (all-MiniLM-L6-v2, no embedding cache)
once with `--engine local` and once per Ray actor count, and prints chunks/s and the ratio. From the
best per-worker rate it projects the embedding time for PubMed's ~36M abstracts on N workers (the
chunks per abstract measured on ../shared/data when given, else on the synthetic corpus).

    python benchmarks/ray_ingest.py --docs 600
    python benchmarks/ray_ingest.py --docs 600 --actors 1 2
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from _synthetic import write_corpus

PUBMED_ABSTRACTS = 36_000_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=600)
    parser.add_argument("--files", type=int, default=6)
    parser.add_argument("--actors", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--chunks-per-abstract", type=float, default=2.0, help="For the projection (default 2.0).")
    args = parser.parse_args()

    import ray

    from rag_oracle import load_settings
    from rag_oracle.ingest.distributed import ingest_with_ray
    from rag_oracle.ingest.pipeline import ingest

    work = Path(tempfile.mkdtemp(prefix="rag-oracle-ray-bench-"))
    try:
        corpus = work / "corpus"
        corpus.mkdir()
        lines = write_corpus(work / "all.jsonl", args.docs).read_text().splitlines()  # one id space
        per = -(-len(lines) // args.files)
        for i in range(args.files):
            (corpus / f"part-{i:02d}.jsonl").write_text("\n".join(lines[i * per : (i + 1) * per]) + "\n")
        base = load_settings().with_overrides(
            {"embed": {"cache_dir": "off"}, "index": {"sentence_vectors": False}, "compute": {"wait_policy": "passive"}}
        )
        print(f"== ingest: --engine local against --engine ray (local mode), {args.docs} documents ==")
        print(f"date: {time.strftime('%Y-%m-%d %H:%M:%S %Z')}; embedder {base.embed.model}")
        t = time.perf_counter()
        report = ingest([corpus], work / "local", base)
        local_s = time.perf_counter() - t
        chunks = report.total_chunks
        print(
            f"  local (one process, {base.compute.resolved_threads()} threads)   {chunks / local_s:7.2f} chunks/s   {local_s:7.1f} s"
        )
        best = chunks / local_s
        for actors in args.actors:
            settings = base.with_overrides({"compute": {"threads": max(1, base.compute.resolved_threads() // actors)}})
            ray.init(num_cpus=actors, include_dashboard=False, log_to_driver=False)
            try:
                t = time.perf_counter()
                got, ray_report = ingest_with_ray([corpus], work / f"ray-{actors}", settings, concurrency=actors)
                ray_s = time.perf_counter() - t
            finally:
                ray.shutdown()
            assert got.total_chunks == chunks, (got.total_chunks, chunks)
            rate = chunks / ray_s
            best = max(best, rate / actors)
            print(
                f"  ray, {actors} actor(s) x {settings.compute.threads} thread(s)      {rate:7.2f} chunks/s   {ray_s:7.1f} s "
                f"(embedding on Ray {ray_report.seconds:.1f} s; {rate / (chunks / local_s):.2f}x local)"
            )
        total = PUBMED_ABSTRACTS * args.chunks_per_abstract
        print(
            f"\n  projection for {PUBMED_ABSTRACTS:,} abstracts x {args.chunks_per_abstract} chunks, {best:.1f} chunks/s per worker:"
        )
        for workers in (1, 16, 64, 256):
            days = total / (best * workers) / 86400
            print(f"    {workers:4d} workers: {days:8.1f} days")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
