"""Pseudo-relevance feedback: RM3 for BM25 and Rocchio for dense retrieval (retrieve/prf.py)."""

from __future__ import annotations

import numpy as np
import pytest

from rag_oracle.embed.hashing import HashEmbedder
from rag_oracle.index import lexical
from rag_oracle.retrieve import Bm25Retriever, DenseRetriever
from rag_oracle.retrieve.prf import rm3_weights, rocchio
from rag_oracle.text.analyzer import expand_query, tokenize_one
from rag_oracle.text.passage import embedding_text


def test_rm3_hand_computed() -> None:
    feedback = [(["warfarin", "inr", "inr", "bleed"], 3.0), (["warfarin", "vitamin"], 1.0)]
    weights = rm3_weights(["warfarin", "dose"], feedback, terms=2, original_weight=0.5)
    # P(t|R): warfarin 3/4*1/4 + 1/4*1/2 = 0.3125, inr 3/4*2/4 = 0.375, bleed 0.1875, vitamin 0.125
    top = {"inr": 0.375 / 0.6875, "warfarin": 0.3125 / 0.6875}
    assert weights == pytest.approx(
        {"warfarin": 0.5 * 0.5 + 0.5 * top["warfarin"], "dose": 0.5 * 0.5, "inr": 0.5 * top["inr"]}
    )
    assert sum(weights.values()) == pytest.approx(1.0)


def test_rm3_without_usable_feedback_is_the_question() -> None:
    assert rm3_weights(["a", "a", "b"], []) == pytest.approx({"a": 2 / 3, "b": 1 / 3})
    assert rm3_weights(["a"], [([], 2.0), (["x"], 0.0)]) == {"a": 1.0}
    assert rm3_weights(["a"], [(["x"], 1.0)], original_weight=1.0) == {"a": 1.0}  # all weight on the question


def test_rm3_ties_are_broken_by_token() -> None:
    weights = rm3_weights(["q"], [(["b", "a", "c"], 1.0)], terms=2, original_weight=0.0)
    assert weights == pytest.approx({"a": 0.5, "b": 0.5})


def test_rocchio_moves_the_query_toward_the_feedback() -> None:
    query = np.array([1.0, 0.0, 0.0], dtype=np.float32)
    feedback = np.array([[0.0, 1.0, 0.0], [0.0, 1.0, 0.0]], dtype=np.float32)
    moved = rocchio(query, feedback, 1.0)
    assert moved.dtype == np.float32 and np.linalg.norm(moved) == pytest.approx(1.0)
    assert moved.tolist() == pytest.approx([2**-0.5, 2**-0.5, 0.0])
    assert rocchio(query, None, 1.0) is not None and rocchio(query, feedback, 0.0).tolist() == query.tolist()


def test_bm25_with_rm3_searches_the_expanded_query(built_index) -> None:
    from rag_oracle.index.store import Index

    index = Index.open(built_index)
    plain, rm3 = Bm25Retriever(index), Bm25Retriever(index, rm3_docs=3, rm3_terms=5, rm3_weight=0.6)
    query = "warfarin before surgery"
    tokens = tokenize_one(expand_query(query))
    first, first_scores = plain.search_positions(query, 3)
    feedback = [
        (tokenize_one(embedding_text(info.title, chunk.text)), float(s))
        for (chunk, info), s in zip(index.chunks_and_infos(first.tolist()), first_scores, strict=True)
    ]
    weights = rm3_weights(tokens, feedback, 5, 0.6)
    assert len(weights) > len(set(tokens))  # it did expand
    want = lexical.search_tokens(index.bm25, list(weights), 20, None, list(weights.values()))
    got = rm3.search_positions(query, 20)
    assert got[0].tolist() == want[0].tolist() and np.array_equal(got[1], want[1])
    assert got[0].tolist() != plain.search_positions(query, 20)[0].tolist()


def test_weighted_bm25_scores_are_the_weighted_sum_of_columns(built_index) -> None:
    from rag_oracle.index.store import Index

    bm25 = Index.open(built_index).bm25
    a, b = bm25.scores(["warfarin"]), bm25.scores(["surgeri"])
    both = bm25.scores(["warfarin", "surgeri"], weights=[0.25, 2.0])
    assert np.allclose(both, 0.25 * a + 2.0 * b, rtol=1e-6)
    assert np.array_equal(
        bm25.scores(["warfarin", "surgeri"], weights=[1.0, 1.0]), bm25.scores(["warfarin", "surgeri"])
    )
    with pytest.raises(ValueError, match="2 tokens but 1 weights"):
        bm25.scores(["warfarin", "surgeri"], weights=[1.0])


def test_dense_with_prf_searches_the_moved_vector(built_index, settings) -> None:
    from rag_oracle.embed import make_embedder
    from rag_oracle.index import dense
    from rag_oracle.index.store import Index

    embedder = make_embedder(settings.embed)
    index = Index.open(built_index, embedder)
    plain = DenseRetriever(index, embedder)
    prf = DenseRetriever(index, embedder, prf_chunks=2, prf_weight=0.7)
    query = "warfarin before surgery"
    first, _ = plain.search_positions(query, 2)
    moved = rocchio(embedder.embed_query(query), dense.reconstruct(index.faiss_index, first), 0.7)
    want = dense.search(index.faiss_index, moved, 10)
    got = prf.search_positions(query, 10)
    assert got[0].tolist() == want[0].tolist() and np.allclose(got[1], want[1])


def test_settings_turn_feedback_on(built_index, settings) -> None:
    from rag_oracle.index.store import Index
    from rag_oracle.retrieve import make_retriever

    index = Index.open(built_index)
    on = settings.with_overrides({"retrieve": {"rm3_docs": 4, "dense_prf_chunks": 3, "dense_prf_weight": 0.2}})
    hybrid = make_retriever(index, HashEmbedder(dimension=512), on.retrieve)
    assert (hybrid.bm25.rm3_docs, hybrid.dense.prf_chunks, hybrid.dense.prf_weight) == (4, 3, 0.2)
    off = make_retriever(index, HashEmbedder(dimension=512), settings.retrieve)
    assert (off.bm25.rm3_docs, off.dense.prf_chunks) == (0, 0)  # off by default
