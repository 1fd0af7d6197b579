"""The answer stage: selects the passages a generator reads and finishes every draft into an `Answer`
(verification, conflicts, related questions, decision, provenance). See builder.py."""

from rag_oracle.answer.builder import DISCLAIMER, AnswerBuilder, Selection

__all__ = ["DISCLAIMER", "AnswerBuilder", "Selection"]
