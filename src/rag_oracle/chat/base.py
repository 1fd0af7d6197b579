"""The conversation stage's contract: how a follow-up becomes a question retrieval can answer.

A follow-up such as "and in the elderly?" means nothing to a retriever on its own. A
`QuestionRewriter` turns it into a standalone question using the earlier exchanges of the
conversation; a follow-up that already stands alone is returned unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from rag_oracle.types import Exchange


class QuestionRewriter(Protocol):
    """Turns the newest message into a standalone question, given the exchanges before it."""

    name: str

    def rewrite(self, history: Sequence[Exchange], message: str) -> str:
        """The standalone question for `message`; `message` itself when it needs no context."""
        ...
