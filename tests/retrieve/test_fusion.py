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
