"""The BM25 part of an index (bm25s): sparse matrices saved as .npy plus JSON params; no pickle.

Text is lower-cased, English stopwords removed and Snowball-stemmed, identically for chunks
and queries. bm25s cannot append, so the BM25 index is rebuilt from all chunks on each write
(seconds even for 100k chunks).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

BM25_DIR = "bm25"
PARAMS = {"method": "lucene", "k1": 1.5, "b": 0.75, "stopwords": "en", "stemmer": "english"}


def _stemmer():
    import Stemmer

    return Stemmer.Stemmer(PARAMS["stemmer"])


def tokenize(texts: Sequence[str]) -> list[list[str]]:
    import bm25s

    return bm25s.tokenize(
        list(texts), stopwords=PARAMS["stopwords"], stemmer=_stemmer(), return_ids=False, show_progress=False
    )


@lru_cache(maxsize=8192)
def tokenize_one(text: str) -> tuple[str, ...]:
    """Tokens of one text, memoised: verification and conflict checks look at the same passages
    and sentences many times per answer."""
    return tuple(tokenize([text])[0])


def build(texts: Sequence[str]):
    import bm25s

    retriever = bm25s.BM25(method=PARAMS["method"], k1=PARAMS["k1"], b=PARAMS["b"])
    retriever.index(tokenize(texts), show_progress=False)
    return retriever


# Lay and clinical words for the same population or organ: a question about "the elderly" must
# find passages that say "older adults" or "aged 65". Applied to lexical matching only (BM25 and
# the extractive generator's word overlap); dense retrieval handles paraphrase by itself.
SYNONYMS = {
    "elderly": "older adults aged 65",
    "geriatric": "older adults",
    "senior": "older adults",
    "seniors": "older adults",
    "kids": "children",
    "pediatric": "children",
    "paediatric": "children",
    "renal": "kidney",
    "kidney": "renal",
    "hepatic": "liver",
    "liver": "hepatic",
    "pregnant": "pregnancy",
    "breastfeeding": "lactation",
}


def expand_query(query: str) -> str:
    """`query` with the synonyms of its words appended (see SYNONYMS)."""
    extra = [SYNONYMS[w] for w in re.findall(r"[a-z]+", query.lower()) if w in SYNONYMS]
    return f"{query} {' '.join(extra)}" if extra else query


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
