"""Peak memory of hostile and huge inputs (issue 11): a 200 MB text file and 2 MB gzip bombs.

Run from the repository root (prints figures, asserts nothing; about 5-8 minutes on 2 busy
cores, nearly all of it the hash-embedded ingest of the 200 MB file; --mib 50 for a quick run)::

    python benchmarks/ingest_memory.py
    python benchmarks/ingest_memory.py --mib 50 --skip-full

Each case runs in its own process (`python -c ...`), so its peak resident set size
(`ru_maxrss` of the child) is its own:

1. `bomb-jsonl`, `bomb-xml`: a 2 MB `.jsonl.gz` / `.xml.gz` that decompresses to far more,
   given to `rag_oracle.ingest` with a good file beside it. Reported: peak RSS, the bomb's
   status and reason, and whether the good file was still ingested.
2. `big-default`: the 200 MB text file with the default `[ingest]` limits: refused by size.
3. `chunk-minilm`: the 200 MB file read and chunked (`iter_chunks`) with the default model's
   tokenizer counting tokens (no embedding): the cost of chunking itself.
4. `big-full` (unless --skip-full): the whole `rag_oracle.ingest` of the 200 MB file with
   `--max-file-mib` raised and the hash embedder (the real model would take hours to embed
   ~190,000 chunks on 2 cores); chunking, embedding, BM25 and the write, end to end.

The text is generated (clinical-sounding words, 5-sentence paragraphs); nothing is downloaded.
Temporary files are deleted unless --keep.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

WORDS = (
    "the patient dose mg daily renal clearance older adults tablet taper week month evidence trial placebo "
    "risk bleeding surgery hold restart apixaban warfarin clonazepam infusion monitoring"
).split()


def write_text(path: Path, mib: int, seed: int = 1) -> Path:
    rng = random.Random(seed)
    target = mib * 1024 * 1024
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("A large clinical text\n\n")
        written = 0
        while written < target:
            sentences = [" ".join(rng.choice(WORDS) for _ in range(12)).capitalize() for _ in range(5)]
            paragraph = ". ".join(sentences) + ".\n\n"
            fh.write(paragraph)
            written += len(paragraph)
    return path


def write_bomb(path: Path, kind: str, compressed_mib: float = 2.0) -> Path:
    """A gzip file of about `compressed_mib` whose content is one repeated record (ratio ~1000:1)."""
    if kind == "jsonl":
        unit = (json.dumps({"id": "x", "text": "warfarin " * 50}) + "\n").encode()
        head = b""
    else:
        unit = b"<PubmedArticle><MedlineCitation><PMID>1</PMID></MedlineCitation></PubmedArticle>\n"
        head = b'<?xml version="1.0"?>\n<PubmedArticleSet>\n'
    with gzip.open(path, "wb", compresslevel=9) as fh:
        fh.write(head)
        block = unit * (1 << 20 // len(unit) + 1)
        while path.stat().st_size < compressed_mib * 1024 * 1024:
            for _ in range(64):
                fh.write(block)
            fh.flush()
    return path


def run_child(code: str, env: dict[str, str]) -> dict:
    """Run `code` in a fresh interpreter; it prints one JSON line. Adds the child's peak RSS."""
    wrapper = textwrap.dedent(
        """
        import json, resource, sys, time
        started = time.perf_counter()
        result = {}
        exec(compile(sys.argv[1], "case", "exec"))
        result["seconds"] = round(time.perf_counter() - started, 1)
        result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        print(json.dumps(result))
        """
    )
    out = subprocess.run([sys.executable, "-c", wrapper, code], env=env, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr.strip() else f"exit {out.returncode}"}
    return json.loads(out.stdout.strip().splitlines()[-1])


INGEST_CASE = """
from rag_oracle import ingest, load_settings
settings = load_settings().with_overrides({{"embed": {{"model": "hash:dim=256", "cache_dir": "off"}}, "ingest": {ingest}}})
report = ingest({paths!r}, {index!r}, settings)
result["files"] = [[f.path.rsplit("/", 1)[-1], f.status, f.reason[:110]] for f in report.files]
result["chunks"] = report.total_chunks
"""

CHUNK_CASE = """
from rag_oracle import load_settings
from rag_oracle.embed import make_embedder
from rag_oracle.ingest.chunking import iter_chunks
from rag_oracle.ingest.detect import loader_for
from rag_oracle.ingest.limits import Limits
from pathlib import Path
settings = load_settings()
embedder = make_embedder(settings.embed)
path = Path({path!r})
doc = loader_for(path).load(path, limits=Limits(max_file_bytes=1 << 40, seconds=1e9)).documents[0]
result["chunks"] = sum(1 for _ in iter_chunks(doc, settings.chunk, embedder.count_tokens))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--mib", type=int, default=200, help="size of the large text file (default 200)")
    parser.add_argument("--skip-full", action="store_true", help="skip the end-to-end ingest of the large file")
    parser.add_argument("--skip-chunk", action="store_true", help="skip chunking with the MiniLM tokenizer")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="rag-oracle-memory-"))
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE", "TOKENIZERS_PARALLELISM": "false"}
    env.pop("RAG_ORACLE_CONFIG", None)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, temp {work}")
    good = work / "good.jsonl"
    good.write_text(json.dumps({"id": "good", "text": "Hold apixaban 2 days before surgery."}) + "\n")
    rows = []
    try:
        for kind in ("jsonl", "xml"):
            bomb = write_bomb(work / f"bomb.{kind}.gz", kind)
            case = INGEST_CASE.format(ingest={}, paths=[str(bomb), str(good)], index=str(work / f"idx-{kind}"))
            result = run_child(case, env)
            rows.append((f"bomb-{kind} ({bomb.stat().st_size / 2**20:.1f} MB gz)", result))

        big = write_text(work / "big.txt", args.mib)
        size = f"{big.stat().st_size / 2**20:.0f} MiB"
        case = INGEST_CASE.format(ingest={}, paths=[str(big)], index=str(work / "idx-default"))
        rows.append((f"big-default ({size}, default limits)", run_child(case, env)))
        if not args.skip_chunk:
            rows.append((f"chunk-minilm ({size}, tokenizer counts)", run_child(CHUNK_CASE.format(path=str(big)), env)))
        if not args.skip_full:
            limits = {"max_file_mib": args.mib + 50, "file_seconds": 3600}
            case = INGEST_CASE.format(ingest=limits, paths=[str(big)], index=str(work / "idx-full"))
            started = time.perf_counter()
            result = run_child(case, env)
            result.setdefault("seconds", round(time.perf_counter() - started, 1))
            rows.append((f"big-full ({size}, hash embedder, limit raised)", result))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    print(f"\n{'case':<48} {'peak RSS MB':>12} {'seconds':>8}  outcome")
    for name, result in rows:
        if "error" in result:
            print(f"{name:<48} {'-':>12} {'-':>8}  error: {result['error']}")
            continue
        outcome = "; ".join(f"{f[0]}: {f[1]} {f[2]}".strip() for f in result.get("files", []))
        if "chunks" in result:
            outcome = f"{result['chunks']} chunks" + (f"; {outcome}" if outcome else "")
        print(f"{name:<48} {result['peak_rss_mb']:>12.1f} {result['seconds']:>8.1f}  {outcome}")


if __name__ == "__main__":
    main()
