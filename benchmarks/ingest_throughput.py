"""Ingest throughput: the full `rag_oracle.ingest` pipeline vs the bare encoder, in one run.

Run from the repository root (prints figures, asserts nothing; about 6-7 minutes on 2 busy
cores, nearly all of it the model encoding the texts twice; --limit 300 for a quick run)::

    python benchmarks/ingest_throughput.py --corpus ../shared/data/scifact/corpus.jsonl --limit 1000

Without shared data, on generated clinical-ish documents::

    python benchmarks/ingest_throughput.py --synthetic 1000

What it does, with the real default embedder (settings from `load_settings()`):

1. Copies the first `--limit` records of the corpus into a temporary folder (so the input is
   exactly that many documents), and loads the model once (load time reported apart).
2. COLD: `rag_oracle.ingest(...)` into a new index with a fresh, empty embedding cache
   (settings override `{"embed": {"cache_dir": <tmp>}}`): read + chunk + embed + write.
   Reports chunks/s, tokens/s (chunk tokens, as counted by the pipeline) and `report.seconds`.
3. BARE: the exact strings the pipeline embedded (`embedding_text(title, chunk.text)` for
   every chunk of the built index) through `SentenceTransformerEmbedder.model.encode(texts,
   batch_size=32, normalize_embeddings=True)` directly (torch, the same thread count), and the
   ratios pipeline/bare. The pipeline embeds with the configured backend (ONNX Runtime by default).
   With --quantize, the pipeline again with the int8 model. The sentence store is off unless
   --sentence-vectors, so the comparison is chunks against chunks.
4. WARM: the same input re-ingested into a second new index directory with the now-filled cache.
5. Peak RSS of the process.

A missing --corpus file is skipped with a message (exit 0). Temporary files are deleted
unless --keep.
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _synthetic import code_version, peak_rss_mb, write_corpus

DEFAULT_CORPUS = "../shared/data/scifact/corpus.jsonl"


def copy_first(src: Path, dst: Path, limit: int) -> int:
    """Copy the first `limit` non-blank lines of `src` to `dst`; returns how many were copied."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with open(src, encoding="utf-8") as fin, open(dst, "w", encoding="utf-8") as fout:
        for line in fin:
            if not line.strip():
                continue
            if n >= limit:
                break
            fout.write(line if line.endswith("\n") else line + "\n")
            n += 1
    return n


def fmt_seconds(seconds: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.2f}s" for k, v in seconds.items())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", default=DEFAULT_CORPUS, help=f"corpus.jsonl to ingest (default {DEFAULT_CORPUS}).")
    parser.add_argument(
        "--synthetic", type=int, metavar="N", help="Ingest N generated documents instead of --corpus (no data needed)."
    )
    parser.add_argument(
        "--limit", type=int, help="Documents to ingest (default 1000 from --corpus; with --synthetic N, N)."
    )
    parser.add_argument("--seed", type=int, default=0, help="Seed of the synthetic corpus.")
    parser.add_argument("--batch-size", type=int, default=32, help="Batch size of the bare encode (default 32).")
    parser.add_argument("--threads", type=int, help="compute.threads for every backend (default: every CPU).")
    parser.add_argument("--quantize", action="store_true", help="Also ingest with the int8 model (embed.quantize).")
    parser.add_argument(
        "--sentence-vectors", action="store_true", help="Embed the sentence store too (index.sentence_vectors)."
    )
    parser.add_argument("--no-progress", action="store_true", help="No progress bars on stderr.")
    parser.add_argument("--keep", action="store_true", help="Keep the temporary folder (indexes, cache).")
    args = parser.parse_args()

    from rag_oracle import ingest, load_settings
    from rag_oracle.embed import make_embedder
    from rag_oracle.embed.cache import CachedEmbedder
    from rag_oracle.embed.sentence_transformer import SentenceTransformerEmbedder
    from rag_oracle.index.store import Index
    from rag_oracle.text.passage import embedding_text

    progress = None
    if not args.no_progress:
        from rag_oracle.cli import TqdmProgress

        progress = TqdmProgress()

    if args.synthetic is None and not Path(args.corpus).is_file():
        print(f"skipped: corpus {args.corpus} not found (pass --corpus PATH, or --synthetic N to generate one)")
        return 0

    work = Path(tempfile.mkdtemp(prefix="rag-oracle-perf-ingest-"))
    try:
        input_file = work / "input" / "corpus.jsonl"
        if args.synthetic is not None:
            n = min(args.synthetic, args.limit) if args.limit else args.synthetic
            # Abstract-sized documents (scifact's median abstract is ~200 words): several chunks each.
            write_corpus(input_file, n, seed=args.seed, min_words=120, max_words=450)
            source = f"synthetic ({n} documents, seed {args.seed})"
        else:
            docs = copy_first(Path(args.corpus), input_file, args.limit or 1000)
            source = f"{args.corpus} (first {docs} records)"

        cache_dir = work / "embed-cache"
        overrides = {"embed": {"cache_dir": str(cache_dir)}, "index": {"sentence_vectors": args.sentence_vectors}}
        if args.threads:
            overrides["compute"] = {"threads": args.threads}
        settings = load_settings().with_overrides(overrides)
        embedder = make_embedder(settings.embed, settings.compute)
        if not isinstance(embedder, CachedEmbedder) or embedder.inner.model_id.startswith("hash"):
            print(f"skipped: embed.model={settings.embed.model!r} is not a real model")
            return 0
        threads = settings.compute.resolved_threads()
        st = SentenceTransformerEmbedder(settings.embed.model, torch_threads=threads)  # the bare reference

        print("== ingest throughput ==")
        print(f"date: {time.strftime('%Y-%m-%d %H:%M:%S %Z')}; code: {code_version()}; input: {source}")
        print(
            f"embedder: {type(embedder.inner).__name__} {embedder.model_id}; chunk: {settings.chunk.model_dump()}; "
            f"batch_size: {settings.embed.batch_size}; threads: {threads} of {os.cpu_count()} cpus "
            f"(OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', '')}); sentence vectors: {args.sentence_vectors}"
        )

        t = time.perf_counter()
        model = st.model
        embedder.warm_up()
        load_s = time.perf_counter() - t
        t = time.perf_counter()
        model.encode(["warm-up sentence about warfarin dosing"] * 8, batch_size=8, show_progress_bar=False)
        embedder.inner.embed_documents(["warm-up sentence about warfarin dosing"] * 8)
        warm_s = time.perf_counter() - t
        print(f"model loads: {load_s:.2f}s; first encodes (warm-up, 8 texts): {warm_s:.2f}s (both excluded below)")
        print()

        # COLD: fresh, empty embedding cache, new index directory.
        cold_dir = work / "index-cold"
        gc.collect()
        t = time.perf_counter()
        cold = ingest(
            [input_file], cold_dir, settings, embedder=embedder, progress=progress, command="ingest_throughput cold"
        )
        cold_s = time.perf_counter() - t
        print(f"COLD pipeline (read + chunk + embed + write, empty cache): {cold_s:.2f}s wall")
        print(f"  {cold.summary()}")
        print(
            f"  {cold.chunks_added} chunks, {cold.tokens_added} chunk tokens -> "
            f"{cold.chunks_added / cold_s:.1f} chunks/s, {cold.tokens_added / cold_s:.0f} tokens/s, "
            f"{cold.documents_added / cold_s:.1f} docs/s"
        )
        print(f"  report.seconds: {fmt_seconds(cold.seconds)} (sum {sum(cold.seconds.values()):.2f}s)")
        print(f"  embed cache: {cold.embed_cache}")
        print(f"  peak RSS so far: {peak_rss_mb():.0f} MB")
        print()

        # BARE: the same strings, straight through the model.
        index = Index.open(cold_dir)
        texts = [embedding_text(index.documents[c.doc_id].title, c.text) for c in index.chunks]
        embedded_tokens = sum(min(n, st.max_tokens - 2) for n in embedder.count_tokens(texts))
        gc.collect()
        t = time.perf_counter()
        bare = model.encode(texts, batch_size=args.batch_size, normalize_embeddings=True, show_progress_bar=False)
        bare_s = time.perf_counter() - t
        stored = index.faiss_index.reconstruct_n(0, index.faiss_index.ntotal)
        max_diff = float(np.abs(np.asarray(bare, dtype=np.float32) - stored).max())
        embed_s = cold.seconds.get("embed", float("nan"))
        print(f"BARE encoder (model.encode, batch_size={args.batch_size}, same {len(texts)} texts): {bare_s:.2f}s")
        print(
            f"  {len(texts) / bare_s:.1f} chunks/s, {cold.tokens_added / bare_s:.0f} tokens/s "
            f"(chunk tokens; {embedded_tokens} tokens actually fed incl. titles, after truncation: "
            f"{embedded_tokens / bare_s:.0f}/s)"
        )
        print(f"  max |bare - indexed vector| = {max_diff:.2e}")
        print(
            f"  RATIO pipeline/bare (wall): {cold_s / bare_s:.2f}x (speed-up over the bare encoder: {bare_s / cold_s:.2f}x)"
        )
        print(f"  RATIO embed stage/bare:     {embed_s / bare_s:.2f}x")
        print(f"  non-embedding share of the pipeline: {(cold_s - embed_s) / cold_s:.0%}")
        print()
        del index, stored, bare
        if args.quantize:
            # the same pipeline with the int8 model: fresh cache, new index directory
            q_settings = settings.with_overrides(
                {"embed": {"quantize": True, "cache_dir": str(work / "embed-cache-int8")}}
            )
            q_embedder = make_embedder(q_settings.embed, q_settings.compute)
            q_embedder.warm_up()
            gc.collect()
            t = time.perf_counter()
            q = ingest([input_file], work / "index-int8", q_settings, embedder=q_embedder, progress=progress)
            q_s = time.perf_counter() - t
            print(f"COLD pipeline, int8 model (embed.quantize): {q_s:.2f}s wall, {q.chunks_added / q_s:.1f} chunks/s")
            print(f"  report.seconds: {fmt_seconds(q.seconds)}")
            print(f"  RATIO bare/pipeline-int8 (speed-up over the bare encoder): {bare_s / q_s:.2f}x")
            print()

        # WARM: re-ingest into a new index directory; every vector should come from the cache.
        embedder.stats = {"hits": 0, "misses": 0}
        warm_dir = work / "index-warm"
        gc.collect()
        t = time.perf_counter()
        warm = ingest(
            [input_file], warm_dir, settings, embedder=embedder, progress=progress, command="ingest_throughput warm"
        )
        warm_s = time.perf_counter() - t
        print(f"WARM pipeline (same input, new index dir, filled cache): {warm_s:.2f}s wall")
        print(f"  {warm.chunks_added / warm_s:.1f} chunks/s, {warm.tokens_added / warm_s:.0f} tokens/s")
        print(f"  report.seconds: {fmt_seconds(warm.seconds)} (sum {sum(warm.seconds.values()):.2f}s)")
        print(f"  embed cache: {warm.embed_cache}")
        print(f"  speed-up cold/warm: {cold_s / warm_s:.1f}x")
        print()
        cache_mb = sum(p.stat().st_size for p in cache_dir.rglob("*") if p.is_file()) / 1e6
        print(f"embedding cache on disk: {cache_mb:.1f} MB; peak RSS: {peak_rss_mb():.0f} MB")
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
