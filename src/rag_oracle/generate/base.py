"""The generator contract: a question and retrieved hits in, an Answer out.

Whatever the generator, every sentence of the answer carries the numbers of the references
that support it, and every reference is cited at least once.
"""

from __future__ import annotations

from typing import Protocol

from rag_oracle.types import Answer, Hit


class Generator(Protocol):
    name: str
    version: str

    def generate(self, question: str, hits: list[Hit]) -> Answer: ...
