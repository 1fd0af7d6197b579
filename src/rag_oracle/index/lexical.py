"""The BM25 part of an index: bm25s' "lucene" index (sparse .npy arrays plus JSON, no pickle, saved
by bm25s), its arrays computed here as the texts stream by (`build`: bm25s' own builder needs every
text's token list in memory); queries read those arrays directly, memory-mapped, with numpy.

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
import math
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rag_oracle.text.analyzer import STEMMER, STOPWORDS, analyse, expand_query, tokenize_one

BM25_DIR = "bm25"
PARAMS = {"method": "lucene", "k1": 1.5, "b": 0.75, "stopwords": STOPWORDS, "stemmer": STEMMER}
_ARRAYS = ("data", "indices", "indptr")


def build(texts: Iterable[str]):
    """A bm25s index of `texts` (one per chunk, in position order), saved by bm25s as usual.

    The arrays are bm25s' own (`BM25.build_index_from_ids`, method "lucene") to the bit, computed
    here while the texts stream by: bm25s' builder takes a Python list of token ids per text and
    holds several copies of every (token, chunk) pair, 7.3 GB at a million chunks, where this holds
    packed int32 arrays (tests/index/test_lexical.py compares the two builds array by array)."""
    import bm25s

    scores, vocab = _lucene_arrays(texts, PARAMS["k1"], PARAMS["b"])
    retriever = bm25s.BM25(method=PARAMS["method"], k1=PARAMS["k1"], b=PARAMS["b"])
    # what `bm25s.BM25.index` leaves on the object for this method
    retriever.scores = scores
    retriever.vocab_dict = {**vocab, "": len(vocab)}  # bm25s adds its empty token, without a column
    retriever.nonoccurrence_array = None  # "lucene" has none
    retriever.unique_token_ids_set = set(retriever.vocab_dict.values())
    return retriever


_SCORE_BLOCK = 1 << 22  # (token, chunk) pairs scored at a time: the float64 temporaries stay ~100 MB


def _lucene_arrays(texts: Iterable[str], k1: float, b: float) -> tuple[dict, dict[str, int]]:
    """bm25s' "lucene" CSC arrays (data, indices, indptr, num_docs) and vocabulary for `texts`, with
    its arithmetic in its order and dtypes (idf by `math.log` as bm25s does, term-frequency part in
    float64, stored as float32), so that the result is identical; token ids are numbered in order of
    first appearance, as `tokenize_ids` numbers them."""
    vocab: dict[str, int] = {}
    tokens = array("i")  # the distinct token ids of each text, text after text
    counts = array("i")  # how often each occurs in its text
    per_text = array("q")  # distinct tokens of each text
    lengths = array("q")  # tokens of each text
    for text in texts:
        ids = [vocab.setdefault(token, len(vocab)) for token in analyse(text)]
        distinct, tf = np.unique(np.asarray(ids, dtype=np.int32), return_counts=True)
        tokens.extend(distinct.tolist())
        counts.extend(tf.tolist())
        per_text.append(len(distinct))
        lengths.append(len(ids))
    num_docs = len(lengths)
    token_ids = np.frombuffer(tokens, dtype=np.int32) if tokens else np.zeros(0, dtype=np.int32)
    tf = np.frombuffer(counts, dtype=np.int32) if counts else np.zeros(0, dtype=np.int32)
    doc_lengths = np.frombuffer(lengths, dtype=np.int64) if lengths else np.zeros(0, dtype=np.int64)
    rows = np.repeat(np.arange(num_docs, dtype=np.int32), np.frombuffer(per_text, dtype=np.int64))
    del per_text

    frequencies = np.bincount(token_ids, minlength=len(vocab))  # texts holding each token
    idf_of = {int(df): math.log(1 + (num_docs - df + 0.5) / (df + 0.5)) for df in np.unique(frequencies)}
    idf = np.array([idf_of[int(df)] for df in frequencies], dtype=np.float32)
    average = doc_lengths.mean() if num_docs else np.float64(0.0)
    data = np.empty(len(token_ids), dtype=np.float32)
    for lo in range(0, len(token_ids), _SCORE_BLOCK):
        hi = lo + _SCORE_BLOCK
        term = tf[lo:hi].astype(np.float32).astype(np.float64)
        norm = k1 * ((1 - b) + b * doc_lengths[rows[lo:hi]] / average)
        data[lo:hi] = idf[token_ids[lo:hi]].astype(np.float64) * (term / (norm + term))
    del tf, doc_lengths

    # Column by column (token), chunks in increasing order within a column: a stable sort by token of
    # pairs that are already in chunk order, as bm25s' sort by (token, chunk) gives.
    order = np.argsort(token_ids, kind="stable")
    indptr = np.zeros(len(vocab) + 1, dtype=np.int64)
    np.cumsum(frequencies, out=indptr[1:])
    data = data[order]
    rows = rows[order]
    return {"data": data, "indices": rows, "indptr": indptr, "num_docs": num_docs}, vocab


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

    def scores(
        self, tokens: Sequence[str], mask: np.ndarray | None = None, weights: Sequence[float] | None = None
    ) -> np.ndarray:
        """The BM25 score of every chunk for the query `tokens` (a repeated token counts again, as in
        bm25s), times `mask` when given. `weights` (one per token) weigh each token's scores: an
        expanded query (pseudo-relevance feedback); without them every token weighs 1, bm25s' sum."""
        weights = [1.0] * len(tokens) if weights is None else list(weights)
        if len(weights) != len(tokens):
            raise ValueError(f"{len(tokens)} tokens but {len(weights)} weights")
        pairs = [(self.vocab[t], w) for t, w in zip(tokens, weights, strict=True) if t in self.vocab]
        pairs = [(t, w) for t, w in pairs if t < self.num_tokens]  # bm25s' empty token "" has no column
        scores = np.zeros(self.num_docs, dtype=self.data.dtype)
        for t, w in pairs:
            start, end = int(self.indptr[t]), int(self.indptr[t + 1])
            column = self.data[start:end]
            np.add.at(scores, self.indices[start:end], column if w == 1.0 else column * np.float32(w))
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
    return search_tokens(index, tokenize_one(expand_query(query)), k, mask)


def search_tokens(
    index: Bm25,
    tokens: Sequence[str],
    k: int,
    mask: np.ndarray | None = None,
    weights: Sequence[float] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """`search` for analysed `tokens`, each weighing its `weights` entry (default 1)."""
    k = min(k, index.num_docs)
    if not tokens or k <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    scores = index.scores(list(tokens), mask, weights)
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


def coverage(index: Bm25, tokens: Sequence[str], position: int) -> float:
    """The share of the query's distinct `tokens` (weighed by idf, bm25s' "lucene" formula) that chunk
    `position` contains: 1.0 when it holds every query word the index knows, near 0 when it matches
    only common ones; 0.0 for a query with no known word. How well BM25's best hit matches the
    question's words, which says how far BM25 can be trusted for it (retrieve/fusion.py)."""
    total = found = 0.0
    for token in dict.fromkeys(tokens):
        t = index.vocab.get(token)
        if t is None or t >= index.num_tokens:
            continue
        start, end = int(index.indptr[t]), int(index.indptr[t + 1])
        df = end - start
        idf = math.log(1 + (index.num_docs - df + 0.5) / (df + 0.5))
        total += idf
        column = index.indices[start:end]  # ascending chunk positions
        i = int(np.searchsorted(column, position))
        if i < len(column) and int(column[i]) == position:
            found += idf
    return found / total if total > 0 else 0.0


def document_frequency(index: Bm25, term: str) -> int:
    """How many chunks contain `term` (an already stemmed token); 0 when it is not in the vocabulary."""
    t = index.vocab.get(term)
    if t is None or t >= index.num_tokens:
        return 0
    return int(index.indptr[t + 1] - index.indptr[t])
