"""The conversation stage's contract: how a follow-up becomes a question retrieval can answer.

A follow-up such as "and in the elderly?" means nothing to a retriever on its own. A
`QuestionRewriter` turns it into a standalone question using the earlier exchanges of the
conversation; a follow-up that already stands alone is returned unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Exchange:
    """One earlier turn of a conversation, as a rewriter sees it.

    `standalone` is the question retrieval actually ran for that turn (None when unknown, e.g.
    for a conversation replayed by an OpenAI-compatible client); `answer` is the answer body.
    """

    question: str
    standalone: str | None = None
    answer: str = ""

    @property
    def resolved(self) -> str:
        """The standalone question when known, else the question as asked."""
        return self.standalone or self.question


class QuestionRewriter(Protocol):
    """Turns the newest message into a standalone question, given the exchanges before it."""

    name: str

    def rewrite(self, history: Sequence[Exchange], message: str) -> str:
        """The standalone question for `message`; `message` itself when it needs no context."""
        ...
