"""Generation stage: compose a cited answer from retrieved passages."""

from __future__ import annotations

from collections.abc import Callable

from rag_oracle.embed.base import Embedder
from rag_oracle.generate.base import Generator
from rag_oracle.generate.extractive import ExtractiveGenerator
from rag_oracle.settings import AnswerSettings


def make_generator(
    embedder: Embedder, settings: AnswerSettings, document_frequency: Callable[[str], int] | None = None
) -> Generator:
    return ExtractiveGenerator(embedder, settings, document_frequency)


__all__ = ["ExtractiveGenerator", "Generator", "make_generator"]
