"""Generation stage: compose a cited answer from retrieved passages, then verify it."""

from __future__ import annotations

from collections.abc import Callable

from rag_oracle.embed.base import Embedder
from rag_oracle.generate.base import Generator
from rag_oracle.generate.extractive import ExtractiveGenerator
from rag_oracle.settings import Settings


def make_generator(
    embedder: Embedder, settings: Settings, document_frequency: Callable[[str], int] | None = None
) -> Generator:
    """The generator the settings name: extractive (default) or an LLM through LangChain."""
    if settings.answer.generator == "llm":
        from rag_oracle.generate.llm import LlmGenerator

        return LlmGenerator(embedder, settings.answer, settings.llm, document_frequency)
    return ExtractiveGenerator(embedder, settings.answer, document_frequency)


__all__ = ["ExtractiveGenerator", "Generator", "make_generator"]
