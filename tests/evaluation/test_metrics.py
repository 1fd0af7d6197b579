"""Metric functions against hand-computed values, including the edge cases."""

from __future__ import annotations

import math

import pytest

from rag_oracle.evaluation.answer_metrics import (
    bootstrap_ci,
    decision_scores,
    paired_bootstrap,
    percentile,
    rouge,
    summarize,
    token_f1,
)
from rag_oracle.evaluation.retrieval_metrics import mrr_at_k, ndcg_at_k, recall_at_k


def test_ndcg_hand_computed() -> None:
    # relevant {a, c}; ranking a, b, c: DCG = 1/log2(2) + 1/log2(4) = 1.5; IDCG = 1 + 1/log2(3)
    assert ndcg_at_k(["a", "b", "c"], ["a", "c"], 10) == pytest.approx(1.5 / (1 + 1 / math.log2(3)))
    assert ndcg_at_k(["a", "c"], ["a", "c"], 10) == pytest.approx(1.0)
    assert ndcg_at_k(["x", "y"], ["a"], 10) == 0.0
    # beyond the cut-off nothing counts
    assert ndcg_at_k(["x", "a"], ["a"], 1) == 0.0


def test_recall_and_mrr() -> None:
    assert recall_at_k(["a", "b", "c"], ["a", "c", "z"], 2) == pytest.approx(1 / 3)
    assert recall_at_k(["a", "b", "c"], ["a", "c", "z"], 10) == pytest.approx(2 / 3)
    assert mrr_at_k(["x", "y", "a"], ["a"], 10) == pytest.approx(1 / 3)
    assert mrr_at_k(["x", "y", "a"], ["a"], 2) == 0.0


def test_duplicates_in_the_ranking_count_once() -> None:
    assert recall_at_k(["a", "a", "b"], ["a", "b"], 2) == 1.0


def test_no_relevant_documents_is_undefined() -> None:
    assert ndcg_at_k(["a"], [], 10) is None
    assert recall_at_k(["a"], [], 10) is None
    assert mrr_at_k(["a"], [], 10) is None


def test_token_f1() -> None:
    # pred tokens: cat sat mat (articles dropped); ref: cat is on mat -> common 2; P 2/3, R 2/4
    assert token_f1("The cat sat on a mat", "the cat is on the mat") == pytest.approx(
        2 * (3 / 4) * (3 / 4) / (3 / 4 + 3 / 4)
    )
    assert token_f1("", "a reference") == 0.0
    assert token_f1("anything", "") is None
    assert token_f1("0.5 mg", "0.5 mg daily") == pytest.approx(2 * 1 * (2 / 3) / (1 + 2 / 3))


def test_rouge() -> None:
    same = rouge("stop warfarin five days before surgery", "stop warfarin five days before surgery")
    assert same == {"rouge1": pytest.approx(1.0), "rouge2": pytest.approx(1.0), "rougeL": pytest.approx(1.0)}
    assert rouge("", "reference text") == {"rouge1": 0.0, "rouge2": 0.0, "rougeL": 0.0}
    assert rouge("answer", "  ") is None
    half = rouge("cat dog", "cat bird")
    assert half["rouge1"] == pytest.approx(0.5) and half["rouge2"] == 0.0


def test_answer_with_no_markers_scores_zero_coverage() -> None:
    from rag_oracle.evaluation.citation_metrics import citation_metrics
    from rag_oracle.types import Answer, AnswerSection, AnswerSentence

    answer = Answer(
        question="q",
        abstained=False,
        sections=[
            AnswerSection(kind="direct", title="Answer", sentences=[AnswerSentence(text="Take 5 mg.", citations=[])])
        ],
    )
    m = citation_metrics(answer)
    assert m["sentence_coverage"] == 0.0 and m["validity"] is None and m["support"] is None
    assert m["numeric_support"] == 0.0  # an uncited dose is an unsupported dose


def test_decision_scores() -> None:
    s = decision_scores(["yes", "no", "yes", "maybe"], ["yes", "yes", "yes", "maybe"])
    assert s["accuracy"] == pytest.approx(0.75)
    # F1: yes 2*2/(4+1+0)=0.8, no 0, maybe 1 -> mean 0.6
    assert s["macro_f1"] == pytest.approx(0.6)
    assert s["decided"] == 1.0
    assert decision_scores([None, ""], ["yes", "no"]) is None
    assert decision_scores(["yes"], [None]) == {"accuracy": 0.0, "macro_f1": 0.0, "decided": 0.0}


def test_no_verdict_counts_as_wrong_and_is_reported_as_undecided() -> None:
    gold = ["yes", "yes", "no", "no"]
    s = decision_scores(gold, ["yes", None, "no", None])
    assert s["accuracy"] == 0.5  # the two questions without a verdict are wrong, not left out
    # yes: tp 1, fp 0, fn 1 -> 2/3; no: the same -> macro 2/3. A missing verdict is a miss, never a false "yes".
    assert s["macro_f1"] == pytest.approx(2 / 3)
    assert s["decided"] == 0.5
    # deciding fewer questions, all rightly, still scores below deciding all of them rightly
    assert decision_scores(gold, gold)["macro_f1"] == 1.0 > s["macro_f1"]
    # unlabelled questions are left out of every figure, "decided" included
    assert decision_scores(["yes", None], ["yes", None])["decided"] == 1.0


def test_percentile_nearest_rank() -> None:
    assert percentile([5, 1, 3, 2, 4], 50) == 3
    assert percentile(list(range(1, 101)), 95) == 95
    assert percentile([], 50) is None


def test_bootstrap_interval_contains_the_mean_and_is_seeded() -> None:
    values = [0.0, 1.0] * 50
    low, high = bootstrap_ci(values)
    assert low < 0.5 < high and 0.35 < low and high < 0.65
    assert bootstrap_ci(values) == (low, high)
    assert bootstrap_ci([0.7]) == (0.7, 0.7)
    assert bootstrap_ci([]) is None
    s = summarize([1.0, None, 0.0])
    assert s["mean"] == 0.5 and s["n"] == 2 and s["n_undefined"] == 1


def test_paired_bootstrap_detects_a_real_difference() -> None:
    a = [0.2, 0.3, 0.25, 0.4, 0.3] * 10
    b = [x + 0.1 for x in a]
    out = paired_bootstrap(a, b)
    assert out["delta"] == pytest.approx(0.1) and out["ci95"][0] > 0 and out["p_value"] < 0.05
    same = paired_bootstrap(a, a)
    assert same["delta"] == 0 and same["ci95"] == [0.0, 0.0]
    with pytest.raises(ValueError):
        paired_bootstrap([1.0], [1.0, 2.0])


def test_report_cells_show_n_and_grey_small_intervals() -> None:
    from rag_oracle.evaluation.report import _fmt

    few = _fmt({"mean": 0.5, "ci95": [0.2, 0.8], "n": 4, "n_undefined": 2})
    assert "ci few" in few and "n=4, undefined 2" in few
    many = _fmt({"mean": 0.5, "ci95": [0.4, 0.6], "n": 40, "n_undefined": 0})
    assert "ci few" not in many and "n=40" in many and "undefined" not in many
    assert _fmt({"mean": None, "ci95": None, "n": 0, "n_undefined": 7}).startswith("–")


def test_report_links_markers_marks_cited_sentences_and_puts_the_worst_first() -> None:
    from rag_oracle.evaluation.report import _highlighted, _linked_answer, _question_rows, question_values

    assert _linked_answer("Stop it [1]. Both [1, 2].", "q0-a") == (
        "Stop it <a href='#q0-a-c1'>[1]</a>. Both <a href='#q0-a-c1'>[1]</a><a href='#q0-a-c2'>[2]</a>."
    )
    assert _highlighted("A <b>. Stop warfarin 5 days before.", ["Stop warfarin 5 days before."]) == (
        "A &lt;b&gt;. <mark>Stop warfarin 5 days before.</mark>"
    )
    good = {"id": "good", "question": "q", "answer": "a", "scores": {"nugget_recall": 1.0, "forbidden": 0.0}}
    bad = {"id": "bad", "question": "q", "answer": "a", "scores": {"nugget_recall": 1.0, "forbidden": 1.0}}
    blank = {"id": "blank", "question": "q", "answer": "a", "scores": {}}
    assert question_values(bad)["worst"] == 0.0 and question_values(good)["worst"] == 1.0
    html_rows = _question_rows([good, blank, bad], "q0")
    assert html_rows.index("id=q0-bad") < html_rows.index("id=q0-good") < html_rows.index("id=q0-blank")
