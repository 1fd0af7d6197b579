"""Second-stage reranking of the first stage's best chunks with what ships: no cross-encoder.

A chunk of 200 tokens is embedded as a whole, so one sentence that answers the question is diluted
by the background around it; the extractive generator already embeds every statement on its own (with
its antecedents and the document title: `statement_texts`) and ingest stores those vectors
(index/sentences.py). The reranker rescores the first stage's `depth` best chunks by

    score = minmax(first-stage score) + sentence_weight * minmax(best statement cosine)
                                      + subject_weight  * subject match

over those chunks, where the best statement cosine is the question's cosine with the chunk's most
similar statement (a chunk without a quotable statement gets the lowest of the list), and the subject
match is the share of the question's subject (answer/question.py: its drugs, else its most specific
words) that the chunk's document title, MeSH terms, keywords or section heading name: a passage *about*
the drug asked, not one that mentions it. Chunks below `depth` keep their order after the reranked ones.

Both weights are 0 (off) by default; benchmarks/retrieval_quality.py measures them on the
development sets. With the sentence store the cost is the store lookups (no model call but the
question's); without it the statements of the `depth` chunks are embedded live (seconds a question).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from rag_oracle.answer.question import analyse
from rag_oracle.embed.base import Embedder
from rag_oracle.generate.extractive import statement_texts
from rag_oracle.index.sentences import SentenceVectors, stored_sentence_embedder
from rag_oracle.retrieve.base import Retriever
from rag_oracle.retrieve.filters import Filters
from rag_oracle.retrieve.fusion import normalised
from rag_oracle.retrieve.lexical import check_query
from rag_oracle.text.analyzer import tokenize_one
from rag_oracle.text.lexicon import drug_mentions
from rag_oracle.types import Chunk, Document, Hit


def best_sentence_scores(
    question_vector: np.ndarray, pairs: Sequence[tuple[Chunk, Document]], embedder: Embedder
) -> np.ndarray:
    """Per (chunk, document): the highest cosine of the question with one of the chunk's statements,
    NaN for a chunk with none. A `SentenceVectors` embedder gives the statement vectors of the chunks
    its store holds without reading their documents' statements; the rest are embedded (or read from
    the store by text)."""
    question = np.asarray(question_vector, dtype=np.float32)
    stored = embedder.chunk_vectors(pairs) if isinstance(embedder, SentenceVectors) else [None] * len(pairs)
    out = np.full(len(pairs), np.nan, dtype=np.float32)
    texts = {
        i: statement_texts(doc, chunk.char_start, chunk.char_end)
        for i, ((chunk, doc), vectors) in enumerate(zip(pairs, stored, strict=True))
        if vectors is None
    }
    flat = list(dict.fromkeys(t for ts in texts.values() for t in ts))
    cosine = (
        dict(zip(flat, (np.asarray(embedder.embed_documents(flat), dtype=np.float32) @ question).tolist(), strict=True))
        if flat
        else {}
    )
    for i, vectors in enumerate(stored):
        if vectors is not None and len(vectors):
            out[i] = float((vectors @ question).max())
        elif texts.get(i):
            out[i] = max(cosine[t] for t in texts[i])
    return out


Subject = tuple[tuple[frozenset[str], str], ...]  # per subject: its analysed words, its drug name ("" if none)


def subject_terms(question: str, statistics) -> Subject:
    """The question's subject (answer/question.py): one entry per drug named (its words as written and
    its canonical name, so a brand matches its generic), else per most specific topic word."""
    analysis = analyse(question, statistics)
    if analysis.drugs:
        mentions = {m.name: m.surface for m in drug_mentions(question)}
        return tuple((frozenset(tokenize_one(mentions.get(d, d))), d) for d in analysis.drugs)
    return tuple((frozenset([w]), "") for w in tokenize_one(" ".join(analysis.subject)))


def subject_scores(subject: Subject, pairs: Sequence[tuple[Chunk, Document]]) -> np.ndarray:
    """Per (chunk, document): the share (0 to 1) of the subject's entries that the document's title,
    MeSH terms and keywords or the chunk's section heading name (a drug by any of its names)."""
    out = np.zeros(len(pairs), dtype=np.float32)
    if not subject:
        return out
    any_drug = any(drug for _, drug in subject)
    for i, (chunk, doc) in enumerate(pairs):
        keywords = doc.metadata.extra.get("keywords")
        fields = " ".join(
            [doc.title, chunk.section, *doc.metadata.mesh_terms, *(keywords if isinstance(keywords, list) else [])]
        )
        present = set(tokenize_one(fields))
        named = {m.name for m in drug_mentions(fields)} if any_drug else set()
        found = sum((bool(words) and words <= present) or (bool(drug) and drug in named) for words, drug in subject)
        out[i] = found / len(subject)
    return out


def rerank_scores(
    first: np.ndarray,
    sentence: np.ndarray | None,
    subject: np.ndarray | None,
    sentence_weight: float,
    subject_weight: float,
) -> np.ndarray:
    """The reranked score of each chunk (module docstring); `first` the first stage's scores."""
    score = normalised(np.asarray(first, dtype=np.float64), "minmax")
    if sentence is not None and sentence_weight:
        values = np.asarray(sentence, dtype=np.float64)
        floor = np.nanmin(values) if np.isfinite(values).any() else 0.0
        score = score + sentence_weight * normalised(np.where(np.isnan(values), floor, values), "minmax")
    if subject is not None and subject_weight:
        score = score + subject_weight * np.asarray(subject, dtype=np.float64)
    return score


def below(floor: float, n: int) -> np.ndarray:
    """Scores for the `n` chunks after the reranked ones: in their order, all below `floor` (the lowest
    reranked score), so a sum of scores over a document stays sane."""
    return floor - np.arange(1, n + 1) / (n + 1)


class RerankingRetriever:
    """A retriever whose `depth` best chunks are rescored (module docstring); the rest keep their order."""

    def __init__(
        self,
        inner: Retriever | None,  # None: only `features` is asked for (benchmarks/retrieval_quality.py)
        index,
        embedder: Embedder,
        *,
        depth: int = 50,
        sentence_weight: float = 0.0,
        subject_weight: float = 0.0,
    ) -> None:
        self.inner = inner
        self.index = index
        self.embedder = embedder
        self.sentences = stored_sentence_embedder(embedder, index)
        self.depth = depth
        self.sentence_weight = sentence_weight
        self.subject_weight = subject_weight
        self.name = f"{getattr(inner, 'name', 'retriever')}+rerank"

    def search(self, query: str, k: int = 10, filters: Filters | None = None) -> list[Hit]:
        query = check_query(query, k)
        hits = self.inner.search(query, max(k, self.depth), filters)
        head, tail = hits[: self.depth], hits[self.depth :]
        if len(head) < 2:
            return hits[:k]
        documents = self.index.documents
        sentence, subject = self.features(query, [(h.chunk, documents[h.chunk.doc_id]) for h in head])
        scores = rerank_scores(
            np.array([h.score for h in head]), sentence, subject, self.sentence_weight, self.subject_weight
        )
        order = sorted(range(len(head)), key=lambda i: (-scores[i], head[i].rank))
        ranked = [(head[i], float(scores[i])) for i in order]
        ranked += zip(tail, below(float(scores.min()), len(tail)).tolist(), strict=True)
        return [h.model_copy(update={"rank": rank, "score": score}) for rank, (h, score) in enumerate(ranked[:k], 1)]

    def features(
        self, query: str, pairs: Sequence[tuple[Chunk, Document]]
    ) -> tuple[np.ndarray | None, np.ndarray | None]:
        """(best statement cosines, subject matches) of these (chunk, document) pairs; None for a
        feature whose weight is 0."""
        sentence = (
            best_sentence_scores(self.embedder.embed_query(query), pairs, self.sentences)
            if self.sentence_weight
            else None
        )
        subject = subject_scores(subject_terms(query, self.index), pairs) if self.subject_weight else None
        return sentence, subject
