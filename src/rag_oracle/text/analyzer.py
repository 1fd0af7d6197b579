"""The lexical analyzer: one definition of a "word" for BM25, support checks, subjects and rewrites.

Text is lower-cased, English stopwords are removed and the rest Snowball-stemmed (bm25s' analysis
with PyStemmer, without importing bm25s), identically for chunks and questions. `expand_query` adds the
clinical words for lay ones ("elderly" -> "older adults aged 65") for lexical matching only.

The subject of a question is its most specific content word: the stemmed word found in the
fewest indexed chunks. How many chunks hold a word comes from the index through the small
`TermStatistics` protocol, so no caller reads the BM25 index's arrays.

Example::

    tokenize_one("Stopping warfarin before surgery")   # ('stop', 'warfarin', 'surgeri')
    subject_term("What is the dose of clonazepam?", index)   # 'clonazepam'
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Protocol, runtime_checkable

STOPWORDS = "en"
STEMMER = "english"

# The analysis of bm25s.tokenize(text, stopwords="en", stemmer=PyStemmer("english")), done here so
# that a question is analysed without importing bm25s (which imports scipy: about 0.3 s of every CLI
# question). The pattern is bm25s' (scikit-learn's CountVectorizer's) and the words are bm25s'
# English stopwords ("en"); tests/text/test_analyzer.py checks both against the installed bm25s.
TOKEN_PATTERN = r"(?u)\b\w\w+\b"
ENGLISH_STOPWORDS = frozenset(
    "a an and are as at be but by for if in into is it no not of on or such that the their then "
    "there these they this to was will with".split()
)
_split = re.compile(TOKEN_PATTERN).findall
_stemmers = threading.local()  # PyStemmer's stemmers are not thread-safe: one per thread


@runtime_checkable
class TermStatistics(Protocol):
    """What an index tells the text layer about its vocabulary."""

    def document_frequency(self, term: str) -> int:
        """How many chunks contain `term` (an already analysed token); 0 when it is not in the vocabulary."""
        ...


class UniformStatistics:
    """Term statistics for when there is no index: every word is equally specific (df 1)."""

    def document_frequency(self, term: str) -> int:
        return 1


def _stem_words():
    stem = getattr(_stemmers, "stem_words", None)
    if stem is None:
        import Stemmer

        stem = _stemmers.stem_words = Stemmer.Stemmer(STEMMER).stemWords
    return stem


def analyse(text: str) -> list[str]:
    """The analysed tokens of one text: lower-cased, split into words of two or more word
    characters, stopwords out, Snowball-stemmed."""
    words = [w for w in _split(text.lower()) if w not in ENGLISH_STOPWORDS]
    return _stem_words()(words) if words else []


def tokenize(texts: Sequence[str]) -> list[list[str]]:
    """Analysed tokens of each text (lower-cased, stopwords out, stemmed)."""
    return [analyse(text) for text in texts]


def tokenize_ids(texts: Iterable[str]) -> tuple[list[list[int]], dict[str, int]]:
    """`tokenize`'s tokens as token ids per text and the vocabulary (token -> id, numbered in order
    of first appearance, so the same texts always give the same ids), which is what
    `bm25s.BM25.index` takes; no list of strings per text is kept."""
    vocab: dict[str, int] = {}
    ids = []
    for text in texts:
        ids.append([vocab.setdefault(token, len(vocab)) for token in analyse(text)])
    return ids, vocab


@lru_cache(maxsize=8192)
def tokenize_one(text: str) -> tuple[str, ...]:
    """Tokens of one text, memoised: verification and conflict checks look at the same passages
    and sentences many times per answer."""
    return tuple(analyse(text))


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
    "spinal": "neuraxial",
    "epidural": "neuraxial",
    "neuraxial": "spinal epidural",
}


def expand_query(query: str) -> str:
    """`query` with the synonyms of its words appended (see SYNONYMS)."""
    extra = [SYNONYMS[w] for w in re.findall(r"[a-z]+", query.lower()) if w in SYNONYMS]
    return f"{query} {' '.join(extra)}" if extra else query


# Analysed words too general to be a question's subject ("dose", "patient", "treatment").
GENERIC = frozenset(
    {
        "dose",
        "dosag",
        "dosing",
        "treat",
        "treatment",
        "use",
        "patient",
        "adult",
        "day",
        "daili",
        "mg",
        "what",
        "which",
        "how",
        "when",
        "should",
        "can",
        "recommend",
        "usual",
        "typic",
        "give",
        "given",
        "take",
        "long",
        "mani",
        "much",
        "best",
        "first",
        "line",
        "manag",
        "therapi",
        "drug",
        "medic",
    }
)


def content_terms(text: str) -> set[str]:
    """The analysed words of `text` that could name a subject (GENERIC words and numbers left out)."""
    return {t for t in tokenize_one(text) if t not in GENERIC and not t.isdigit()}


def subject_term(question: str, statistics: TermStatistics) -> str | None:
    """The question's most specific content word (fewest chunks containing it; ties by the word)."""
    known = [(statistics.document_frequency(t), t) for t in content_terms(question)]
    known = [(df, t) for df, t in known if df > 0]
    return min(known)[1] if known else None


def surface_form(text: str, stem: str) -> str:
    """The word of `text` that analyses to `stem`, as written (lower-cased unless an acronym);
    `stem` itself when no word of `text` does."""
    for word in re.findall(r"[A-Za-z][A-Za-z0-9-]*", text):
        if tokenize_one(word) == (stem,):
            return word if word.isupper() else word.lower()
    return stem
