"""Hybrid retrieval fuses chunk positions and reads only the chunks that decide the result; the
result is the one fusing both lists of hits gives, ties (equal scores, equal fused scores) included."""

from __future__ import annotations

import itertools
import random
from pathlib import Path

import pytest

from rag_oracle.embed.hashing import HashEmbedder
from rag_oracle.index.store import Index
from rag_oracle.index.writer import IndexWriter
from rag_oracle.ingest.base import make_document
from rag_oracle.ingest.chunking import chunk_document
from rag_oracle.retrieve import Bm25Retriever, DenseRetriever, HybridRetriever, reciprocal_rank_fusion
from rag_oracle.text.passage import embedding_text
from rag_oracle.types import DocumentMetadata, Hit

WORDS = (
    "warfarin apixaban surgery bleeding dose daily renal elderly sinusitis amoxicillin heparin platelet "
    "infusion tablet weekly child pregnancy liver kidney stroke fracture fall delirium sodium potassium"
).split()
QUERIES = ["warfarin surgery", "dose", "daily dose renal", "bleeding elderly apixaban", "amoxicillin", "zzz"]


@pytest.fixture
def index(tmp_path: Path, settings) -> Index:
    """60 short documents over 25 words: many equal BM25 scores (few words, few lengths), and a few
    identical texts under different ids (equal dense scores); ids not in position order."""
    embedder = HashEmbedder(dimension=512)
    rng = random.Random(5)
    docs = []
    for i in range(60):
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 6))) + "."
        meta = DocumentMetadata(format="text")
        docs.append(make_document(text=text, title="Notes", metadata=meta, doc_id=f"d{(i * 37) % 60:02d}"))
        if i % 10 == 0:
            docs.append(make_document(text=text, title="Notes", metadata=meta, doc_id=f"copy{i:02d}"))
    chunks = [c for d in docs for c in chunk_document(d, settings.chunk, embedder.count_tokens)]
    vectors = embedder.embed_documents([embedding_text("Notes", c.text) for c in chunks])
    writer = IndexWriter.open(tmp_path / "idx", settings, embedder)
    writer.add(docs, chunks, vectors)
    writer.commit()
    return Index.open(tmp_path / "idx", embedder)


def by_score_then_id(index: Index, positions, scores) -> list[tuple[str, float]]:
    """A list's order as the contract states it, from every chunk read."""
    pairs = [(index.chunks[p].id, s) for p, s in zip(positions.tolist(), scores.tolist(), strict=True)]
    return sorted(pairs, key=lambda p: (-p[1], p[0]))


def fused_reference(hybrid: HybridRetriever, query: str, k: int) -> list[tuple]:
    """What fusing the two full lists by chunk id gives (the way it was done before positions)."""
    depth = max(k, hybrid.candidates)
    index = hybrid.dense.index
    dense = by_score_then_id(index, *hybrid.dense.search_positions(query, depth))
    bm25 = by_score_then_id(index, *hybrid.bm25.search_positions(query, depth))
    d_at = {c: (r, s) for r, (c, s) in enumerate(dense, 1)}
    b_at = {c: (r, s) for r, (c, s) in enumerate(bm25, 1)}
    fused = reciprocal_rank_fusion([[c for c, _ in dense], [c for c, _ in bm25]], k=hybrid.rrf_k)[:k]
    return [(c, score, d_at.get(c, (None, None)), b_at.get(c, (None, None))) for c, score in fused]


def as_tuples(hits: list[Hit]) -> list[tuple]:
    return [(h.chunk.id, h.score, (h.dense_rank, h.dense_score), (h.bm25_rank, h.bm25_score)) for h in hits]


@pytest.mark.parametrize("candidates", [5, 20, 100])
def test_hybrid_is_the_fusion_of_both_full_lists(index: Index, candidates: int) -> None:
    hybrid = HybridRetriever(
        DenseRetriever(index, HashEmbedder(dimension=512)), Bm25Retriever(index), candidates=candidates
    )
    ties = 0
    for query, k in itertools.product(QUERIES, (1, 3, 10, 40)):
        hits = hybrid.search(query, k)
        assert as_tuples(hits) == fused_reference(hybrid, query, k), (query, k)
        assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
        assert all(h.document.id == h.chunk.doc_id for h in hits)
        ties += sum(a.score == b.score for a, b in itertools.pairwise(hits))
    assert ties, "the data must exercise equal fused scores"


def test_single_lists_order_ties_by_chunk_id(index: Index) -> None:
    dense, bm25 = DenseRetriever(index, HashEmbedder(dimension=512)), Bm25Retriever(index)
    for query, retriever in itertools.product(QUERIES, (dense, bm25)):
        hits = retriever.search(query, 30)
        expected = by_score_then_id(index, *retriever.search_positions(query, 30))
        assert [(h.chunk.id, h.score) for h in hits] == expected
    dense_hits = dense.search("warfarin surgery", 61)
    assert any(a.score == b.score for a, b in itertools.pairwise(dense_hits)), "identical texts tie"


def test_hybrid_reads_only_the_chunks_that_decide(index: Index, monkeypatch: pytest.MonkeyPatch) -> None:
    read: list[int] = []
    original = index.chunks_and_infos

    def counting(positions):
        positions = list(positions)
        read.extend(positions)
        return original(positions)

    monkeypatch.setattr(index, "chunks_and_infos", counting)
    hybrid = HybridRetriever(DenseRetriever(index, HashEmbedder(dimension=512)), Bm25Retriever(index), candidates=40)
    dense_positions, dense_scores = hybrid.dense.search_positions("bleeding elderly apixaban", 40)
    assert len(dense_scores) == 40 and len(set(dense_scores.tolist())) < 40  # identical texts tie
    hits = hybrid.search("bleeding elderly apixaban", k=3)
    assert len(hits) == 3
    assert len(read) == len(set(read)), "no chunk is read twice"
    candidates = len(dense_positions) + len(hybrid.bm25.search_positions("bleeding elderly apixaban", 40)[0])
    assert len(read) < candidates / 2, f"read {len(read)} of {candidates} candidates"


def test_hybrid_needs_one_index(index: Index, tmp_path: Path, settings) -> None:
    other = Index.open(index.path)
    with pytest.raises(ValueError, match="same index"):
        HybridRetriever(DenseRetriever(index, HashEmbedder(dimension=512)), Bm25Retriever(other))


@pytest.mark.parametrize("fusion", ["minmax", "zscore"])
@pytest.mark.parametrize("weight", [0.0, 0.3, 1.0])
def test_score_fusion_is_the_weighted_sum_of_normalised_scores(index: Index, fusion: str, weight: float) -> None:
    from rag_oracle.retrieve.fusion import fuse_scores

    hybrid = HybridRetriever(
        DenseRetriever(index, HashEmbedder(dimension=512)),
        Bm25Retriever(index),
        candidates=20,
        fusion=fusion,
        dense_weight=weight,
    )
    for query in QUERIES:
        hits = hybrid.search(query, k=7)
        dense = hybrid.dense.search_positions(query, 20)
        bm25 = hybrid.bm25.search_positions(query, 20)
        positions, fused = fuse_scores([dense, bm25], [weight, 1 - weight], fusion)
        want = sorted(
            ((index.chunks[p].id, s) for p, s in zip(positions.tolist(), fused.tolist(), strict=True)),
            key=lambda cs: (-cs[1], cs[0]),
        )[:7]
        assert [(h.chunk.id, h.score) for h in hits] == want, query
        assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
        for h in hits:  # the components are shown as in the lists
            pos = index.position(h.chunk.id)
            if h.dense_rank is not None:
                assert dense[0][h.dense_rank - 1] == pos and h.dense_score == pytest.approx(
                    float(dense[1][h.dense_rank - 1])
                )


def test_an_unknown_fusion_is_refused(index: Index) -> None:
    with pytest.raises(ValueError, match="unknown fusion 'mean'"):
        HybridRetriever(DenseRetriever(index, HashEmbedder(dimension=512)), Bm25Retriever(index), fusion="mean")


def test_settings_choose_the_fusion(index: Index, settings) -> None:
    from rag_oracle.retrieve import make_retriever

    retrieve = settings.with_overrides({"retrieve": {"fusion": "zscore", "dense_weight": 0.8}}).retrieve
    retriever = make_retriever(index, HashEmbedder(dimension=512), retrieve)
    assert (retriever.fusion, retriever.dense_weight) == ("zscore", 0.8)
    assert make_retriever(index, HashEmbedder(dimension=512), settings.retrieve).fusion == "rrf"  # the default


def test_adaptive_weight_follows_bm25s_coverage_of_the_question(index: Index) -> None:
    from rag_oracle.index import lexical
    from rag_oracle.retrieve.fusion import adaptive_weight
    from rag_oracle.text.analyzer import expand_query, tokenize_one

    embedder = HashEmbedder(dimension=512)
    fixed = HybridRetriever(DenseRetriever(index, embedder), Bm25Retriever(index), fusion="zscore", dense_weight=0.3)
    adaptive = HybridRetriever(
        DenseRetriever(index, embedder), Bm25Retriever(index), fusion="zscore", dense_weight=0.3, adaptive=0.5
    )
    weights = set()
    for query in QUERIES[:-1]:
        bm25 = adaptive.bm25.search_positions(query, 100)
        coverage = lexical.coverage(index.bm25, tokenize_one(expand_query(query)), int(bm25[0][0]))
        assert adaptive.weight(query, bm25) == pytest.approx(adaptive_weight(0.3, coverage, 0.5))
        assert fixed.weight(query, bm25) == 0.3
        weights.add(round(adaptive.weight(query, bm25), 6))
        assert adaptive.search(query, 5)  # the weight reaches the fusion
    assert len(weights) > 1, "the queries must cover BM25 differently"
