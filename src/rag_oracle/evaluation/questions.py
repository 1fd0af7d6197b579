"""Evaluation questions in the interchange format, one JSON object per line::

    {"id": "q1", "question": "...", "reference_answer": "...", "relevant_ids": ["doc-3"],
     "decision": "yes", "type": "yesno", ...any other labels}

`relevant_ids` are document ids of the index built from the matching corpus.jsonl, so retrieval
can be scored. BioASQ-style yes/no questions without a `decision` take it from `exact_answer`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from rag_oracle.errors import QuestionFileError
from rag_oracle.evaluation.nuggets import check_nugget
from rag_oracle.index.manifest import sha256_file

Decision = Literal["yes", "no", "maybe"]


class EvalQuestion(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    question: str = Field(min_length=1)
    reference_answer: str = ""
    relevant_ids: list[str] = Field(default_factory=list)
    decision: Decision | None = None
    type: str | None = None
    answerable: bool = Field(
        True, description="False: the indexed corpus cannot answer it, and a correct answer declines."
    )
    must_include: list[str] = Field(
        default_factory=list, description="Nuggets a correct answer states (evaluation/nuggets.py)."
    )
    must_not_include: list[str] = Field(
        default_factory=list, description="Nuggets a correct answer never states: wrong drug, population, danger."
    )
    labels: dict[str, Any] = Field(default_factory=dict, description="Every other key of the input line.")


def _from_record(record: dict[str, Any]) -> EvalQuestion:
    known = {
        k: record.pop(k)
        for k in list(record)
        if k
        in {
            "id",
            "question",
            "reference_answer",
            "relevant_ids",
            "decision",
            "type",
            "answerable",
            "must_include",
            "must_not_include",
        }
    }
    for key in ("must_include", "must_not_include"):
        if key in known:
            if not isinstance(known[key], list):
                raise ValueError(f"{key} must be a list of nuggets (phrases or re:<pattern>)")
            known[key] = [check_nugget(n) for n in known[key]]
    known["id"] = str(known.get("id", ""))
    if known.get("reference_answer") is None:
        known["reference_answer"] = ""
    decision = known.get("decision")
    if isinstance(decision, str):
        known["decision"] = decision.strip().lower() or None
    if known.get("decision") is None and known.get("type") == "yesno":
        exact = record.get("exact_answer")
        if isinstance(exact, str) and exact.strip().lower() in {"yes", "no"}:
            known["decision"] = exact.strip().lower()
    known["relevant_ids"] = [str(x) for x in known.get("relevant_ids") or []]
    return EvalQuestion(**known, labels=record)


def load_questions(path: str | Path, limit: int | None = None) -> list[EvalQuestion]:
    """Questions from a JSONL file; any invalid line is an error naming the line and the field."""
    path = Path(path)
    if not path.is_file():
        raise QuestionFileError(f"questions file {path} does not exist")
    questions: list[EvalQuestion] = []
    seen: set[str] = set()
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                if not isinstance(record, dict):
                    raise ValueError("a line must be a JSON object")
                question = _from_record(record)
            except (json.JSONDecodeError, ValueError, ValidationError, QuestionFileError) as exc:
                detail = exc.errors()[0] if isinstance(exc, ValidationError) else None
                msg = f"{detail['loc'][0]}: {detail['msg']}" if detail else str(exc)
                raise QuestionFileError(f"{path}:{lineno}: {msg}") from None
            if not question.id:
                raise QuestionFileError(f"{path}:{lineno}: missing 'id'")
            if question.id in seen:
                raise QuestionFileError(f"{path}:{lineno}: duplicate id {question.id!r}")
            seen.add(question.id)
            questions.append(question)
            if limit is not None and len(questions) >= limit:
                break
    if not questions:
        raise QuestionFileError(f"{path} holds no questions")
    return questions


def file_sha256(path: str | Path) -> str:
    """sha256 of a questions file (the dataset hash a run records)."""
    return sha256_file(Path(path))
