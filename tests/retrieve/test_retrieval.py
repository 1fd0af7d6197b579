"""Dense, BM25 and hybrid retrieval over a small index; filters; determinism; the LangChain adapter."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from rag_oracle import RagOracle
from rag_oracle.errors import QueryError
from rag_oracle.retrieve import Filters


@pytest.fixture
def oracle(built_index: Path, settings) -> RagOracle:
    return RagOracle(built_index, settings)


@pytest.mark.parametrize("mode", ["bm25", "dense", "hybrid"])
def test_each_mode_finds_the_topical_chunk(built_index: Path, settings, mode: str) -> None:
    oracle = RagOracle(built_index, settings.with_overrides({"retrieve": {"mode": mode}}))
    hits = oracle.search("amoxicillin sinusitis antibiotic", k=3)
    assert hits[0].chunk.doc_id == "doc-amox"
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
    assert all(a.score >= b.score for a, b in itertools.pairwise(hits))


def test_hybrid_hits_carry_both_components(oracle: RagOracle) -> None:
    hits = oracle.search("stop warfarin before surgery", k=5)
    top = hits[0]
    assert top.dense_score is not None and top.bm25_score is not None
    assert top.dense_rank >= 1 and top.bm25_rank >= 1
    assert top.score == pytest.approx(1 / (60 + top.dense_rank) + 1 / (60 + top.bm25_rank))


def test_results_are_deterministic(oracle: RagOracle) -> None:
    first = [(h.chunk.id, h.score) for h in oracle.search("platelet count", k=10)]
    for _ in range(3):
        assert [(h.chunk.id, h.score) for h in oracle.search("platelet count", k=10)] == first


def test_bm25_ties_break_by_chunk_id(built_index: Path, settings) -> None:
    oracle = RagOracle(built_index, settings.with_overrides({"retrieve": {"mode": "bm25"}}))
    hits = oracle.search("the", k=10)  # a stopword-only query matches nothing
    assert hits == []
    hits = oracle.search("daily", k=10)
    for a, b in itertools.pairwise(hits):
        assert a.score > b.score or (a.score == b.score and a.chunk.id < b.chunk.id)


def test_year_filter(oracle: RagOracle) -> None:
    hits = oracle.search("warfarin surgery", k=10, filters=Filters(year_min=2020))
    assert hits and all(h.document.year is not None and h.document.year >= 2020 for h in hits)
    assert "pmid:800000101" not in {h.chunk.doc_id for h in hits}  # 2018


def test_publication_type_filter(oracle: RagOracle) -> None:
    hits = oracle.search("warfarin surgery", k=10, filters=Filters(publication_types=["randomized controlled trial"]))
    assert {h.chunk.doc_id for h in hits} == {"pmid:800000101"}


def test_source_filter(oracle: RagOracle) -> None:
    hits = oracle.search("clonazepam", k=10, filters=Filters(sources=["pdf"]))
    assert hits and all(h.document.format == "pdf" for h in hits)


def test_filter_that_matches_nothing(oracle: RagOracle) -> None:
    assert oracle.search("warfarin", k=5, filters=Filters(year_min=2100)) == []


def test_filtered_search_still_fills_k(built_index: Path, settings) -> None:
    # The filter is applied inside FAISS, so k results come back even when the best are filtered out.
    oracle = RagOracle(built_index, settings.with_overrides({"retrieve": {"mode": "dense"}}))
    jsonl_only = Filters(sources=["jsonl"])
    hits = oracle.search("warfarin before surgery", k=3, filters=jsonl_only)
    assert len(hits) == 3 and all(h.document.format == "jsonl" for h in hits)


def test_bad_queries(oracle: RagOracle) -> None:
    with pytest.raises(QueryError, match="empty"):
        oracle.search("   ")
    with pytest.raises(QueryError, match="k must be"):
        oracle.search("warfarin", k=0)
    with pytest.raises(QueryError, match="year range"):
        Filters(year_min=2020, year_max=2010)


def test_search_documents_aggregates_chunks(oracle: RagOracle) -> None:
    docs = oracle.search_documents("warfarin surgery", k=3)
    assert len(docs) == len(set(docs)) == 3


def test_document_ranking_by_best_chunk_or_by_the_sum_of_the_best_chunks() -> None:
    from rag_oracle.api import document_ranking
    from rag_oracle.types import Chunk, DocumentInfo, Hit

    def hit(doc: str, rank: int, score: float) -> Hit:
        chunk = Chunk(id=f"{doc}#{rank}", doc_id=doc, ordinal=rank, text="t", char_start=0, char_end=1, token_count=1)
        return Hit(chunk=chunk, document=DocumentInfo(id=doc, title=doc), rank=rank, score=score)

    hits = [hit("a", 1, 0.9), hit("b", 2, 0.8), hit("b", 3, 0.7), hit("c", 4, 0.6), hit("b", 5, 0.5), hit("c", 6, 0.3)]
    assert document_ranking(hits) == ["a", "b", "c"]
    assert document_ranking(hits, "sum", 2) == ["b", "a", "c"]  # b: 0.8 + 0.7; c: 0.6 + 0.3 = a's 0.9, after a
    assert document_ranking(hits, "sum", 3) == ["b", "a", "c"]
    assert document_ranking(hits, "sum", 1) == document_ranking(hits)
    with pytest.raises(ValueError, match="unknown document aggregation"):
        document_ranking(hits, "mean")


def test_search_documents_follows_the_document_score_setting(built_index: Path, settings) -> None:
    by_sum = RagOracle(built_index, settings.with_overrides({"retrieve": {"document_score": "sum"}}))
    docs = by_sum.search_documents("warfarin surgery", k=3)
    assert len(docs) == len(set(docs)) == 3


def test_langchain_retriever(oracle: RagOracle) -> None:
    from langchain_core.retrievers import BaseRetriever

    from rag_oracle.retrieve.langchain import RagOracleRetriever

    retriever = RagOracleRetriever(oracle=oracle, k=2)
    assert isinstance(retriever, BaseRetriever)
    docs = retriever.invoke("amoxicillin for sinusitis")
    assert len(docs) == 2
    assert docs[0].metadata["doc_id"] == "doc-amox"
    assert docs[0].page_content == oracle.search("amoxicillin for sinusitis", k=1)[0].chunk.text
