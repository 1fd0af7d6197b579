"""The BM25 part of an index (bm25s): sparse matrices saved as .npy plus JSON params; no pickle.

Text goes through the shared analyzer (rag_oracle.text.analyzer), identically for chunks
and queries. bm25s cannot append, so the BM25 index is rebuilt from all chunks on each write
(seconds even for 100k chunks).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from rag_oracle.text.analyzer import STEMMER, STOPWORDS, expand_query, tokenize

BM25_DIR = "bm25"
PARAMS = {"method": "lucene", "k1": 1.5, "b": 0.75, "stopwords": STOPWORDS, "stemmer": STEMMER}


def build(texts: Sequence[str]):
    import bm25s

    retriever = bm25s.BM25(method=PARAMS["method"], k1=PARAMS["k1"], b=PARAMS["b"])
    retriever.index(tokenize(texts), show_progress=False)
    return retriever


def search(retriever, query: str, k: int, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(positions, scores) with score > 0, best first; `mask` (0/1 per chunk) restricts the candidates."""
    tokens = tokenize([expand_query(query)])
    if not tokens[0]:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    n = int(retriever.scores["num_docs"])
    k = min(k, n)
    if k <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    positions, scores = retriever.retrieve(tokens, k=k, show_progress=False, weight_mask=mask, n_threads=0)
    positions, scores = positions[0].astype(np.int64), scores[0]
    keep = scores > 0
    positions, scores = positions[keep], scores[keep]
    # bm25s breaks ties arbitrarily; order by (score desc, position asc) for determinism.
    order = np.lexsort((positions, -scores))
    return positions[order], scores[order]


def save(retriever, directory: Path) -> None:
    retriever.save(str(Path(directory) / BM25_DIR))


def load(directory: Path):
    import bm25s

    return bm25s.BM25.load(str(Path(directory) / BM25_DIR), mmap=True)


def document_frequency(retriever, term: str) -> int:
    """How many chunks contain `term` (an already stemmed token); 0 when it is not in the vocabulary."""
    vocab = retriever.vocab_dict
    if term not in vocab:
        return 0
    indptr = retriever.scores["indptr"]
    t = vocab[term]
    return int(indptr[t + 1] - indptr[t])
