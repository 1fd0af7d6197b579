"""Which retrieved passages a generator reads: source diversity, then the relevance gate.

The gate compares the question's embedding with each passage's *stored* embedding (the vector
the index holds for title + passage), so nothing is embedded twice. An index whose FAISS type
keeps no exact vectors (PQ and other quantised codes) falls back to embedding the passages
again, as indexed (title + text), through the embedding cache.
"""

from __future__ import annotations

import numpy as np

from rag_oracle.text.passage import embedding_text
from rag_oracle.types import Hit


def diversify(hits: list[Hit], k: int, per_document: int) -> list[Hit]:
    """The best `k` hits with at most `per_document` chunks from any one document, in rank order,
    so one long document cannot crowd every other source out of the answer."""
    out: list[Hit] = []
    counts: dict[str, int] = {}
    for hit in hits:
        if counts.get(hit.chunk.doc_id, 0) < per_document:
            out.append(hit)
            counts[hit.chunk.doc_id] = counts.get(hit.chunk.doc_id, 0) + 1
            if len(out) >= k:
                break
    return out


def passage_similarities(embedder, index, question: str, passages: list[Hit]) -> np.ndarray:
    """Cosine similarity of each passage to the question (vectors are normalised)."""
    query = embedder.embed_query(question)
    vectors = index.vectors([h.chunk.id for h in passages]) if index is not None else None
    if vectors is None:
        vectors = embedder.embed_documents([embedding_text(h.document.title, h.chunk.text) for h in passages])
    return vectors @ query


def not_relevant_reason(best: float, threshold: float) -> str:
    return f"no passage is relevant enough (best similarity {best:.2f}, threshold {threshold:.2f})"
