"""Answer-text metrics for the direct answer and the whole answer, beside the lead baseline."""

from __future__ import annotations

import json

import pytest

from rag_oracle import RagOracle
from rag_oracle.evaluation.answer_metrics import token_f1
from rag_oracle.evaluation.runner import lead_baseline, run_evaluation

QUESTION = "How many days before surgery should warfarin be stopped?"


def test_lead_is_the_first_two_sentences_of_the_top_document(built_index, settings):
    oracle = RagOracle(built_index, settings)
    hits = oracle.search(QUESTION, k=5)
    lead = lead_baseline(oracle, hits)
    document = oracle.index.documents[hits[0].chunk.doc_id]
    assert lead and document.text.startswith(lead.split(" ")[0])
    assert lead.count(".") >= 1 and len(lead) < len(document.text)
    assert lead_baseline(oracle, []) == ""


def test_direct_whole_and_lead_are_scored_separately(built_index, settings, tmp_path):
    oracle = RagOracle(built_index, settings)
    lead = lead_baseline(oracle, oracle.search(QUESTION, k=300))
    path = tmp_path / "q.jsonl"
    # the reference is the lead itself: the lead scores 1.0, the system's answer less
    path.write_text(json.dumps({"id": "w", "question": QUESTION, "reference_answer": lead}) + "\n")
    result = run_evaluation(path, built_index, tmp_path / "run", settings)
    [prediction] = result.predictions
    scores = prediction["scores"]
    assert scores["rougeL_lead"] == pytest.approx(1.0) and scores["token_f1_lead"] == pytest.approx(1.0)
    assert scores["token_f1_direct"] == pytest.approx(token_f1(prediction["direct_answer"], lead))
    assert scores["token_f1"] == pytest.approx(token_f1(prediction["answer"], lead))
    assert prediction["direct_answer"] and prediction["direct_answer"] != prediction["answer"]
    assert result.metrics["answer"]["rougeL_lead"]["mean"] == pytest.approx(1.0)
