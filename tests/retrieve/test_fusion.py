import pytest

from rag_oracle.retrieve.fusion import reciprocal_rank_fusion


def test_rrf_hand_computed() -> None:
    fused = dict(reciprocal_rank_fusion([["a", "b", "c"], ["c", "a"]], k=60))
    assert fused["a"] == pytest.approx(1 / 61 + 1 / 62)
    assert fused["b"] == pytest.approx(1 / 62)
    assert fused["c"] == pytest.approx(1 / 63 + 1 / 61)


def test_rrf_order_and_tie_break_by_id() -> None:
    # x and y both appear once at rank 1: equal scores, so the id decides, whatever the input order.
    assert [i for i, _ in reciprocal_rank_fusion([["y"], ["x"]])] == ["x", "y"]
    assert [i for i, _ in reciprocal_rank_fusion([["x"], ["y"]])] == ["x", "y"]
    ranked = reciprocal_rank_fusion([["a", "b", "c"], ["c", "b", "a"]], k=1)
    assert ranked[0][0] == "b" or ranked[0][1] == ranked[1][1]


def test_rrf_empty_and_single_list() -> None:
    assert reciprocal_rank_fusion([]) == []
    assert [i for i, _ in reciprocal_rank_fusion([["p", "q"]])] == ["p", "q"]


def test_rrf_rewards_agreement() -> None:
    # d is second in both lists; a and z are first in one list only and absent from the other.
    ranked = [i for i, _ in reciprocal_rank_fusion([["a", "d"], ["z", "d"]], k=60)]
    assert ranked[0] == "d"


# --- score fusion and document scores ----------------------------------------------------------------

import numpy as np  # noqa: E402

from rag_oracle.retrieve.fusion import document_scores, fuse_scores, normalised, rrf_scores  # noqa: E402


def test_normalisations_hand_computed() -> None:
    scores = np.array([3.0, 1.0, 2.0])
    assert normalised(scores, "minmax").tolist() == [1.0, 0.0, 0.5]
    z = normalised(scores, "zscore")
    assert z.mean() == pytest.approx(0.0) and z.std() == pytest.approx(1.0) and z[0] > z[2] > z[1]
    assert normalised(np.array([2.0, 2.0]), "minmax").tolist() == [1.0, 1.0]  # one score: all best
    assert normalised(np.array([2.0, 2.0]), "zscore").tolist() == [0.0, 0.0]
    with pytest.raises(ValueError, match="unknown normalisation 'l2'"):
        normalised(scores, "l2")


def test_score_fusion_weights_lists_and_gives_a_missing_chunk_the_lists_lowest_score() -> None:
    dense = (np.array([7, 3, 5]), np.array([0.9, 0.6, 0.3]))  # minmax: 1, 0.5, 0
    bm25 = (np.array([3, 9]), np.array([12.0, 4.0]))  # minmax: 1, 0
    positions, fused = fuse_scores([dense, bm25], [0.7, 0.3], "minmax")
    assert positions.tolist() == [3, 5, 7, 9]
    assert fused.tolist() == pytest.approx([0.7 * 0.5 + 0.3 * 1, 0.0, 0.7 * 1, 0.3 * 0])
    # all weight on one list is that list's order
    positions, fused = fuse_scores([dense, bm25], [1.0, 0.0], "zscore")
    assert positions[np.argsort(-fused, kind="stable")][:3].tolist() == [7, 3, 5]
    with pytest.raises(ValueError, match="2 lists but 1 weights"):
        fuse_scores([dense, bm25], [1.0], "minmax")


def test_rrf_scores_agree_with_reciprocal_rank_fusion() -> None:
    lists = [(np.array([4, 2, 8]), np.array([3.0, 2.0, 1.0])), (np.array([8, 4]), np.array([5.0, 1.0]))]
    positions, fused = rrf_scores(lists, 60)
    want = dict(reciprocal_rank_fusion([["4", "2", "8"], ["8", "4"]], k=60))
    assert {str(p): s for p, s in zip(positions.tolist(), fused.tolist(), strict=True)} == pytest.approx(want)


def test_document_scores_max_and_sum_of_the_best_chunks() -> None:
    doc_of = np.array([0, 0, 0, 1, 2])  # chunk -> document
    positions = np.array([0, 1, 2, 3, 4])
    scores = np.array([0.5, 0.4, 0.3, 0.8, 0.5])
    docs, totals = document_scores(doc_of, positions, scores, "max")
    assert docs.tolist() == [1, 0, 2] and totals.tolist() == [0.8, 0.5, 0.5]  # a tie goes by document
    docs, totals = document_scores(doc_of, positions, scores, "sum", 2)
    assert docs.tolist() == [0, 1, 2] and totals.tolist() == pytest.approx([0.9, 0.8, 0.5])
    docs, _ = document_scores(doc_of, positions[:0], scores[:0], "sum", 2)
    assert docs.tolist() == []
    with pytest.raises(ValueError, match="unknown document aggregation"):
        document_scores(doc_of, positions, scores, "mean")


def test_adaptive_weight_leans_on_dense_when_bm25_misses_the_words() -> None:
    from rag_oracle.retrieve.fusion import adaptive_weight

    assert adaptive_weight(0.4, 1.0, 0.4) == pytest.approx(0.4)  # BM25's best hit holds every word
    assert adaptive_weight(0.4, 0.0, 0.4) == pytest.approx(0.8)
    assert adaptive_weight(0.4, 0.5, 0.4) == pytest.approx(0.6)
    assert adaptive_weight(0.9, 0.0, 0.4) == 1.0  # within [0, 1]
    assert adaptive_weight(0.4, 0.0, 0.0) == pytest.approx(0.4)  # off
