"""ONNX Runtime embedder vs sentence-transformers on real texts: vectors, retrieval quality and speed, in one run.

    python benchmarks/onnx_parity.py --data ../shared/data/scifact            # the full corpus, ~20 min on 2 busy cores
    python benchmarks/onnx_parity.py --data ../shared/data/scifact --limit-docs 1000 --questions 200   # quick

For the default model it embeds the same texts three ways: sentence-transformers (torch, the reference),
the ONNX Runtime embedder (fp32) and its int8 model (`embed.quantize`). It reports

- cosine similarity of every ONNX vector with the reference vector of the same text (the first
  `--cosine-texts` documents, 1,000 by default): min, 0.1th percentile and mean;
- document-level nDCG@10 and recall@100 of dense retrieval (exact inner product over whole documents,
  `embedding_text(title, text)` as the index embeds a chunk, truncated at the model's window) for the data
  set's questions, with each embedder embedding both the documents and the questions;
- encode time per backend on the same texts (same thread count), and the ratio to the reference.

Threads: `--threads N` for every backend (default: compute.threads, i.e. every CPU). A missing --data
folder prints `skipped: ...` and exits 0. Nothing is written outside a temporary directory.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np


def load(data: Path, limit_docs: int | None, questions: int | None):
    docs = []
    with open(data / "corpus.jsonl", encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                docs.append(json.loads(line))
            if limit_docs and len(docs) >= limit_docs:
                break
    ids = {d["id"] for d in docs}
    qfile = next((p for p in sorted(data.glob("questions*.jsonl"))), None)
    qs = []
    if qfile is not None:
        with open(qfile, encoding="utf-8") as fh:
            for line in fh:
                q = json.loads(line)
                rel = [r for r in q.get("relevant_ids", []) if r in ids]
                if rel:
                    qs.append((q["question"], set(rel)))
                if questions and len(qs) >= questions:
                    break
    return docs, qs, qfile


def ndcg_recall(doc_vecs, query_vecs, doc_ids, qs, k=10, deep=100):
    scores = query_vecs @ doc_vecs.T
    ndcgs, recalls = [], []
    for row, (_, rel) in zip(scores, qs, strict=True):
        order = np.argsort(-row, kind="stable")[:deep]
        ranked = [doc_ids[i] for i in order]
        dcg = sum(1 / np.log2(i + 2) for i, d in enumerate(ranked[:k]) if d in rel)
        ideal = sum(1 / np.log2(i + 2) for i in range(min(len(rel), k)))
        ndcgs.append(dcg / ideal)
        recalls.append(len(rel & set(ranked)) / len(rel))
    return float(np.mean(ndcgs)), float(np.mean(recalls))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="../shared/data/scifact", help="Folder with corpus.jsonl + questions*.jsonl.")
    parser.add_argument("--limit-docs", type=int, help="Only the first N documents (quality then covers fewer).")
    parser.add_argument("--questions", type=int, help="At most N questions.")
    parser.add_argument("--cosine-texts", type=int, default=1000, help="Texts whose vectors are compared (1000).")
    parser.add_argument("--threads", type=int, help="Threads for every backend (default: compute.threads).")
    parser.add_argument("--no-int8", action="store_true", help="Skip the int8 model.")
    args = parser.parse_args()

    data = Path(args.data)
    if not (data / "corpus.jsonl").is_file():
        print(f"skipped: {data}/corpus.jsonl not found (pass --data FOLDER)")
        return 0
    from rag_oracle.embed.onnx import OnnxEmbedder
    from rag_oracle.embed.sentence_transformer import SentenceTransformerEmbedder
    from rag_oracle.settings import ComputeSettings
    from rag_oracle.text.passage import embedding_text

    threads = args.threads or ComputeSettings().resolved_threads()
    docs, qs, qfile = load(data, args.limit_docs, args.questions)
    texts = [embedding_text(d.get("title") or "", d.get("text") or "") for d in docs]
    doc_ids = [d["id"] for d in docs]
    questions = [q for q, _ in qs]
    print("== ONNX Runtime embedder vs sentence-transformers ==")
    print(
        f"date: {time.strftime('%Y-%m-%d %H:%M:%S %Z')}; data: {data} ({len(docs)} documents, {len(qs)} questions "
        f"from {qfile.name if qfile else '-'}); threads: {threads}"
    )
    backends = [
        ("sentence-transformers", lambda: SentenceTransformerEmbedder(torch_threads=threads)),
        ("onnx fp32", lambda: OnnxEmbedder(threads=threads)),
    ]
    if not args.no_int8:
        backends.append(("onnx int8", lambda: OnnxEmbedder(threads=threads, quantize=True)))
    results = {}
    for name, make in backends:
        emb = make()
        emb.embed_documents(["warm up the model with a sentence about warfarin"] * 4)
        t = time.perf_counter()
        dv = emb.embed_documents(texts)
        doc_s = time.perf_counter() - t
        t = time.perf_counter()
        qv = np.stack([emb.embed_query(q) for q in questions]) if questions else np.zeros((0, dv.shape[1]))
        query_ms = (time.perf_counter() - t) / max(1, len(questions)) * 1000
        quality = ndcg_recall(dv, qv, doc_ids, qs) if qs else (float("nan"), float("nan"))
        results[name] = (dv, doc_s, query_ms, quality)
        print(
            f"  {name:22s} encode {len(texts)} documents {doc_s:7.1f} s ({len(texts) / doc_s:5.1f}/s); "
            f"query {query_ms:5.1f} ms; nDCG@10 {quality[0]:.4f}; recall@100 {quality[1]:.4f}",
            flush=True,
        )
        del emb
    ref_vecs, ref_s, _, ref_q = results["sentence-transformers"]
    print()
    n = min(args.cosine_texts, len(texts))
    for name in [b for b, _ in backends][1:]:
        vecs, secs, _, quality = results[name]
        cos = np.sum(vecs[:n] * ref_vecs[:n], axis=1)
        print(
            f"{name}: cosine with the reference on {n} texts: min {cos.min():.6f}, 0.1th percentile "
            f"{np.percentile(cos, 0.1):.6f}, mean {cos.mean():.6f}"
        )
        print(
            f"  nDCG@10 {quality[0]:.4f} vs {ref_q[0]:.4f} (difference {quality[0] - ref_q[0]:+.4f}); "
            f"recall@100 {quality[1]:.4f} vs {ref_q[1]:.4f}"
        )
        print(f"  encode speed vs sentence-transformers, same texts and threads: {ref_s / secs:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
