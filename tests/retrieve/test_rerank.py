"""The second stage (retrieve/rerank.py): best-statement and subject-field rescoring of the best chunks."""

from __future__ import annotations

import numpy as np
import pytest

from rag_oracle.embed import make_embedder
from rag_oracle.generate.extractive import candidate_texts, statement_texts
from rag_oracle.index.store import Index
from rag_oracle.retrieve import HybridRetriever, make_retriever
from rag_oracle.retrieve.rerank import (
    RerankingRetriever,
    best_sentence_scores,
    rerank_scores,
    subject_scores,
    subject_terms,
)
from rag_oracle.types import Chunk, Document, DocumentMetadata


def _pair(title: str, text: str, *, section: str = "", mesh: list[str] | None = None, keywords=None):
    doc = Document(
        id="d",
        title=title,
        text=text,
        content_hash="x",
        metadata=DocumentMetadata(mesh_terms=mesh or [], extra={"keywords": keywords} if keywords else {}),
    )
    chunk = Chunk(
        id="d#0", doc_id="d", ordinal=0, text=text, section=section, char_start=0, char_end=len(text), token_count=5
    )
    return chunk, doc


def test_rerank_scores_hand_computed() -> None:
    first = np.array([3.0, 2.0, 1.0])
    sentence = np.array([0.2, np.nan, 0.6])  # the middle chunk has no statement: the list's lowest
    subject = np.array([0.0, 1.0, 0.5])
    # minmax(first) = 1, .5, 0; minmax(sentence with .2 for NaN) = 0, 0, 1
    assert rerank_scores(first, sentence, subject, 1.0, 0.0).tolist() == pytest.approx([1.0, 0.5, 1.0])
    assert rerank_scores(first, sentence, subject, 0.0, 0.4).tolist() == pytest.approx([1.0, 0.9, 0.2])
    assert rerank_scores(first, sentence, subject, 2.0, 0.4).tolist() == pytest.approx([1.0, 0.9, 2.2])
    assert rerank_scores(first, None, None, 1.0, 1.0).tolist() == pytest.approx([1.0, 0.5, 0.0])
    every_nan = rerank_scores(first, np.array([np.nan] * 3), None, 1.0, 0.0)
    assert np.isfinite(every_nan).all()


def test_subject_scores_read_title_mesh_keywords_and_section(built_index) -> None:
    index = Index.open(built_index)
    subject = subject_terms("What is the starting dose of sertraline?", index)
    assert [drug for _, drug in subject] == ["sertraline"]
    pairs = [
        _pair("Sertraline", "It is started at 50 mg."),
        _pair("Antidepressants", "Sertraline is started at 50 mg."),  # mentions it, is not about it
        _pair("Antidepressants", "x y z.", mesh=["Sertraline"]),
        _pair("Antidepressants", "x y z.", keywords=["sertraline"]),
        _pair("Antidepressants", "x y z.", section="Sertraline dosing"),
        _pair("Zoloft in practice", "x y z."),  # the brand names the same drug
    ]
    assert subject_scores(subject, pairs).tolist() == [1.0, 0.0, 1.0, 1.0, 1.0, 1.0]
    assert subject_scores((), pairs).tolist() == [0.0] * 6
    words = subject_terms("Does mirror therapy reduce phantom limb pain?", index)  # no drug: its rarest words
    assert words and all(not drug for _, drug in words)
    both = [_pair(" ".join(sorted(w for ws, _ in words for w in ws)), "x y z."), _pair("Unrelated", "x y z.")]
    assert subject_scores(words, both).tolist() == [1.0, 0.0]


def test_statement_texts_of_a_span_are_the_documents_candidates_inside_it(built_index) -> None:
    index = Index.open(built_index)
    for doc_id in list(index.documents):
        doc = index.documents[doc_id]
        whole = candidate_texts(doc)
        assert statement_texts(doc, 0, len(doc.text)) == whole
        assert statement_texts(doc, 0, 0) == []
    chunk = next(c for c in index.chunks if "Tapering" in c.section or "Taper" in c.text)
    doc = index.documents[chunk.doc_id]
    inside = statement_texts(doc, chunk.char_start, chunk.char_end)
    assert inside and set(inside) <= set(candidate_texts(doc))
    assert any("0.125 mg" in t for t in inside)


def test_best_sentence_scores_take_the_best_statement(settings, built_index) -> None:
    embedder = make_embedder(settings.embed)
    chunk, doc = _pair("Clonazepam", "Clonazepam is approved for panic disorder. Taper it by 0.125 mg every 3 days.")
    empty = _pair("", "Hi.")  # too short to quote: no statement
    question = "How do I taper clonazepam?"
    texts = statement_texts(doc, 0, len(doc.text))
    expected = max(float(v @ embedder.embed_query(question)) for v in embedder.embed_documents(texts))
    scores = best_sentence_scores(embedder.embed_query(question), [(chunk, doc), empty], embedder)
    assert scores[0] == pytest.approx(expected, abs=1e-6) and np.isnan(scores[1])


def test_reranking_retriever_reorders_only_its_depth(settings, built_index) -> None:
    index = Index.open(built_index)
    embedder = make_embedder(settings.embed)
    inner = make_retriever(index, embedder, settings.retrieve)
    assert isinstance(inner, HybridRetriever)  # both weights 0: no second stage
    query = "sertraline starting dose"
    first = inner.search(query, 8)
    reranker = RerankingRetriever(inner, index, embedder, depth=4, sentence_weight=1.0, subject_weight=0.5)
    hits = reranker.search(query, 8)
    assert [h.rank for h in hits] == list(range(1, 9))
    assert {h.chunk.id for h in hits[:4]} == {h.chunk.id for h in first[:4]}  # the head is the first stage's head
    assert [h.chunk.id for h in hits[4:]] == [h.chunk.id for h in first[4:8]]  # the tail keeps its order
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)  # the tail lies below every reranked score
    assert hits[0].chunk.doc_id == "doc-sertraline"  # the document about sertraline leads
    # k smaller than the depth: still the reranked order
    assert [h.chunk.id for h in reranker.search(query, 2)] == [h.chunk.id for h in hits[:2]]


def test_settings_turn_the_second_stage_on(settings, built_index) -> None:
    index = Index.open(built_index)
    embedder = make_embedder(settings.embed)
    on = settings.with_overrides({"retrieve": {"rerank_sentence": 1.0, "rerank_depth": 20}}).retrieve
    retriever = make_retriever(index, embedder, on)
    assert isinstance(retriever, RerankingRetriever) and retriever.depth == 20
    dense = make_retriever(index, embedder, on.model_copy(update={"mode": "dense"}))
    assert isinstance(dense, RerankingRetriever) and dense.inner.name == "dense"


def test_stored_chunk_statements_score_as_a_parse_does_without_one(settings, built_index, monkeypatch) -> None:
    from rag_oracle.index.sentences import stored_sentence_embedder
    from rag_oracle.retrieve import rerank

    index = Index.open(built_index)
    embedder = make_embedder(settings.embed)
    pairs = [(c, index.documents[c.doc_id]) for c in index.chunks]
    question = embedder.embed_query("How do I taper clonazepam?")
    parsed = best_sentence_scores(question, pairs, embedder)  # no store: every document's statements parsed
    assert np.isfinite(parsed).sum() > len(pairs) // 2
    stored = stored_sentence_embedder(embedder, index)
    assert all(v is not None for v in stored.chunk_vectors(pairs))  # ingest stored every chunk's statements

    def no_parse(*args):
        raise AssertionError("a stored chunk's document was parsed")

    monkeypatch.setattr(rerank, "statement_texts", no_parse)
    from_store = best_sentence_scores(question, pairs, stored)
    assert np.allclose(from_store, parsed, atol=1e-6, equal_nan=True)
    assert stored.stats["live"] == 0
