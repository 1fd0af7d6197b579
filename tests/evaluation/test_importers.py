"""Importers for PubMedQA, BioASQ and BEIR, on tiny files written here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag_oracle.evaluation.importers import ImportFormatError, import_dataset
from rag_oracle.evaluation.questions import QuestionFileError, load_questions


def read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_pubmedqa(tmp_path: Path) -> None:
    src = tmp_path / "ori_pqal.json"
    src.write_text(
        json.dumps(
            {
                "111": {
                    "QUESTION": "Does X help Y?",
                    "CONTEXTS": ["Ctx one.", "Ctx two."],
                    "LABELS": ["BACKGROUND", "RESULTS"],
                    "MESHES": ["Humans"],
                    "YEAR": "2001",
                    "final_decision": "yes",
                    "LONG_ANSWER": "X helps Y.",
                }
            }
        )
    )
    counts = import_dataset("pubmedqa", src, tmp_path / "out")
    assert counts == {"questions": 1, "documents": 1, "out": str(tmp_path / "out")}
    [q] = load_questions(tmp_path / "out" / "questions.jsonl")
    assert q.decision == "yes" and q.relevant_ids == ["111"] and q.reference_answer == "X helps Y."
    [doc] = read(tmp_path / "out" / "corpus.jsonl")
    assert doc["id"] == "111" and doc["text"] == "Ctx one.\n\nCtx two." and doc["year"] == 2001


def test_bioasq(tmp_path: Path) -> None:
    src = tmp_path / "golden.json"
    src.write_text(
        json.dumps(
            {
                "questions": [
                    {
                        "id": "q1",
                        "body": "Is A a kinase?",
                        "type": "yesno",
                        "exact_answer": "yes",
                        "ideal_answer": ["A is a kinase."],
                        "documents": [
                            "http://www.ncbi.nlm.nih.gov/pubmed/222",
                            "http://www.ncbi.nlm.nih.gov/pubmed/333",
                        ],
                        "snippets": [
                            {"document": "http://www.ncbi.nlm.nih.gov/pubmed/222", "text": "A phosphorylates B."},
                            {"document": "http://www.ncbi.nlm.nih.gov/pubmed/222", "text": "A is a kinase."},
                        ],
                    },
                    {
                        "id": "q2",
                        "body": "List B targets.",
                        "type": "list",
                        "exact_answer": [["C"]],
                        "ideal_answer": "B targets C.",
                        "documents": ["http://www.ncbi.nlm.nih.gov/pubmed/333"],
                        "snippets": [{"document": "http://www.ncbi.nlm.nih.gov/pubmed/333", "text": "B binds C."}],
                    },
                ]
            }
        )
    )
    import_dataset("bioasq", src, tmp_path / "out")
    q1, q2 = load_questions(tmp_path / "out" / "questions.jsonl")
    assert q1.decision == "yes" and q1.relevant_ids == ["222", "333"] and q1.reference_answer == "A is a kinase."
    assert q2.decision is None and q2.type == "list"
    docs = {d["id"]: d["text"] for d in read(tmp_path / "out" / "corpus.jsonl")}
    assert docs == {"222": "A phosphorylates B.\n\nA is a kinase.", "333": "B binds C."}


def test_beir(tmp_path: Path) -> None:
    src = tmp_path / "beir"
    (src / "qrels").mkdir(parents=True)
    (src / "corpus.jsonl").write_text(
        json.dumps({"_id": "d1", "title": "T1", "text": "Warfarin text."})
        + "\n"
        + json.dumps({"_id": "d2", "title": "T2", "text": "Other text."})
        + "\n"
    )
    (src / "queries.jsonl").write_text(
        json.dumps({"_id": "q1", "text": "warfarin?"}) + "\n" + json.dumps({"_id": "q9", "text": "unjudged"}) + "\n"
    )
    (src / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\nq1\td2\t0\n")
    import_dataset("beir", src, tmp_path / "out")
    [q] = load_questions(tmp_path / "out" / "questions.jsonl")
    assert q.id == "q1" and q.relevant_ids == ["d1"]
    assert [d["id"] for d in read(tmp_path / "out" / "corpus.jsonl")] == ["d1", "d2"]


def test_bad_inputs(tmp_path: Path) -> None:
    (tmp_path / "x.json").write_text("{not json")
    with pytest.raises(ImportFormatError, match="not readable JSON"):
        import_dataset("pubmedqa", tmp_path / "x.json", tmp_path / "o1")
    (tmp_path / "y.json").write_text(json.dumps({"foo": 1}))
    with pytest.raises(ImportFormatError, match="questions"):
        import_dataset("bioasq", tmp_path / "y.json", tmp_path / "o2")
    with pytest.raises(ImportFormatError, match="qrels"):
        (tmp_path / "beir").mkdir()
        (tmp_path / "beir" / "corpus.jsonl").write_text("")
        (tmp_path / "beir" / "queries.jsonl").write_text("")
        import_dataset("beir", tmp_path / "beir", tmp_path / "o3")


def test_question_file_errors_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    path.write_text(json.dumps({"id": "a", "question": "ok?"}) + "\n" + json.dumps({"id": "b", "question": ""}) + "\n")
    with pytest.raises(QuestionFileError, match=r"q.jsonl:2: question"):
        load_questions(path)
    path.write_text(json.dumps({"id": "a", "question": "x"}) + "\n" + json.dumps({"id": "a", "question": "y"}) + "\n")
    with pytest.raises(QuestionFileError, match="duplicate id"):
        load_questions(path)
    path.write_text(json.dumps({"id": "a", "question": "x", "decision": "perhaps"}) + "\n")
    with pytest.raises(QuestionFileError, match="decision"):
        load_questions(path)
