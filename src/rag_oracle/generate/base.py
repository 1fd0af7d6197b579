"""The generator contract: a question and the passages judged relevant in, a `Draft` out.

A generator only drafts. It sees the passages numbered 1..n in the order given and cites them
by those numbers; it never builds an `Answer`. The answer builder (rag_oracle/answer/builder.py)
verifies every sentence of every draft against the passages it cites, renumbers the citations,
reports conflicts, suggests related questions, decides yes/no questions and stamps provenance,
so no generator can skip verification.

`on_token` receives the draft's text as it is written, by generators that write text token by
token (the LLM generator; the extractive one quotes and never calls it). What it receives is
unverified; the verified answer is what to show.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

from rag_oracle.types import Draft, Hit

OnToken = Callable[[str], None]


@runtime_checkable
class Generator(Protocol):
    name: str

    @property
    def version(self) -> str:
        """Changes whenever what the generator writes for the same passages may change."""
        ...

    @property
    def label(self) -> str:
        """How answers name their writer, e.g. 'extractive@2' or 'llm:answer@2'."""
        ...

    @property
    def identity(self) -> dict[str, object]:
        """What a run must record to be reproduced: name, version and, for an LLM, prompt and model."""
        ...

    def draft(self, question: str, passages: list[Hit], on_token: OnToken | None = None) -> Draft:
        """Sections of sentences citing `passages` by 1-based number; `passages` is never empty."""
        ...
