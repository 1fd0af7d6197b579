"""The BM25 part of an index: bm25s builds and saves it (sparse .npy arrays plus JSON, no pickle);
queries read those arrays directly, memory-mapped, with numpy.

Text goes through the shared analyzer (rag_oracle.text.analyzer), identically for chunks
and queries. bm25s cannot append, so the BM25 index is rebuilt from all chunks on each write
(seconds even for 100k chunks).

Why queries do not go through `bm25s.BM25.retrieve`: importing bm25s imports scipy, about 0.3 s
of every `rag-oracle ask` (a third of its wall time), while a query needs only bm25s' own scoring
of its eager "lucene" index: the sum, over the query's tokens, of the precomputed per-chunk scores
in the token's column of the CSC matrix (`bm25s.BM25._compute_relevance_from_scores`). `Bm25`
below does exactly that on the saved arrays, in the same order and dtype, so the scores are
bm25s' to the bit (tests/index/test_lexical.py compares them with `bm25s.BM25.retrieve`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rag_oracle.text.analyzer import STEMMER, STOPWORDS, expand_query, tokenize_ids, tokenize_one

BM25_DIR = "bm25"
PARAMS = {"method": "lucene", "k1": 1.5, "b": 0.75, "stopwords": STOPWORDS, "stemmer": STEMMER}
_ARRAYS = ("data", "indices", "indptr")


def build(texts: Sequence[str]):
    """A bm25s index of `texts` (one per chunk, in position order)."""
    import bm25s
    from bm25s.tokenization import Tokenized

    retriever = bm25s.BM25(method=PARAMS["method"], k1=PARAMS["k1"], b=PARAMS["b"])
    # Token ids, not strings: the same index, with less memory and time (~0.7 GB less at 1M chunks).
    ids, vocab = tokenize_ids(texts)
    retriever.index(Tokenized(ids=ids, vocab=vocab), show_progress=False)
    return retriever


def save(retriever, directory: Path) -> None:
    retriever.save(str(Path(directory) / BM25_DIR))


@dataclass(frozen=True, eq=False)
class Bm25:
    """A saved bm25s "lucene" index, read for queries: the vocabulary (token -> column) and the CSC
    arrays of precomputed per-chunk scores, memory-mapped."""

    vocab: dict[str, int]
    data: np.ndarray  # float32 score of (token, chunk), column by column
    indices: np.ndarray  # the chunk position of each score
    indptr: np.ndarray  # column t is data[indptr[t]:indptr[t + 1]]
    num_docs: int

    @property
    def num_tokens(self) -> int:
        return len(self.indptr) - 1

    def scores(self, tokens: Sequence[str], mask: np.ndarray | None = None) -> np.ndarray:
        """The BM25 score of every chunk for the query `tokens` (a repeated token counts again, as in
        bm25s), times `mask` when given."""
        ids = [self.vocab[t] for t in tokens if t in self.vocab]
        ids = [t for t in ids if t < self.num_tokens]  # bm25s' empty token "" has no column
        scores = np.zeros(self.num_docs, dtype=self.data.dtype)
        for t in ids:
            start, end = int(self.indptr[t]), int(self.indptr[t + 1])
            np.add.at(scores, self.indices[start:end], self.data[start:end])
        if mask is not None:
            scores *= mask
        return scores


def load(directory: Path) -> Bm25:
    """The BM25 index saved under `directory`; ValueError naming the problem if it is not one this
    project writes (bm25s "lucene" arrays that agree with each other)."""
    folder = Path(directory) / BM25_DIR
    params = json.loads((folder / "params.index.json").read_text(encoding="utf-8"))
    if params.get("method") != PARAMS["method"] or (folder / "nonoccurrence_array.index.npy").exists():
        raise ValueError(f"BM25 method {params.get('method')!r}, expected {PARAMS['method']!r}")
    vocab = json.loads((folder / "vocab.index.json").read_text(encoding="utf-8"))
    data, indices, indptr = (
        np.load(folder / f"{name}.csc.index.npy", mmap_mode="r", allow_pickle=False) for name in _ARRAYS
    )
    num_docs = int(params["num_docs"])
    if indptr.ndim != 1 or len(indptr) < 1 or len(data) != len(indices) or int(indptr[-1]) != len(data):
        raise ValueError("the BM25 arrays disagree in length (data, indices, indptr)")
    if len(vocab) not in (len(indptr) - 1, len(indptr)):  # bm25s may add the empty token ""
        raise ValueError(f"the BM25 vocabulary has {len(vocab)} tokens for {len(indptr) - 1} columns")
    return Bm25(vocab=vocab, data=data, indices=indices, indptr=indptr, num_docs=num_docs)


def search(index: Bm25, query: str, k: int, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(positions, scores) with score > 0, best first, ties by position; `mask` (0/1 per chunk)
    restricts the candidates."""
    tokens = tokenize_one(expand_query(query))
    k = min(k, index.num_docs)
    if not tokens or k <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    scores = index.scores(list(tokens), mask)
    n = len(scores)
    kth = np.partition(scores, n - k)[n - k] if k < n else 0.0
    if kth > 0:
        # The k best, ties at the boundary by position: every chunk scoring above the k-th best
        # score, then the lowest positions among those equal to it (one pass over the scores, not
        # a copy of every positive one: at 1M chunks most chunks share some query word).
        above = np.flatnonzero(scores > kth)
        positions = np.concatenate([above, np.flatnonzero(scores == kth)[: k - len(above)]])
    else:
        positions = np.flatnonzero(scores > 0)
    found = scores[positions]
    order = np.lexsort((positions, -found))
    return positions[order].astype(np.int64), found[order]


def document_frequency(index: Bm25, term: str) -> int:
    """How many chunks contain `term` (an already stemmed token); 0 when it is not in the vocabulary."""
    t = index.vocab.get(term)
    if t is None or t >= index.num_tokens:
        return 0
    return int(index.indptr[t + 1] - index.indptr[t])
