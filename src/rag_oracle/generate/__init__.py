"""Generation stage: generators draft cited answers from the passages judged relevant.

Generators only draft (`Generator.draft -> Draft`); the answer builder (rag_oracle/answer/)
verifies and finishes every draft.
"""

from __future__ import annotations

from rag_oracle.embed.base import Embedder
from rag_oracle.generate.base import Generator, OnToken
from rag_oracle.generate.extractive import ExtractiveGenerator
from rag_oracle.settings import Settings


def make_generator(embedder: Embedder, settings: Settings, index=None) -> Generator:
    """The generator the settings name: extractive (default) or an LLM through LangChain. `index`
    (an opened Index) gives the extractive generator each statement's scope in its document."""
    if settings.answer.generator == "llm":
        from rag_oracle.generate.llm import LlmGenerator

        return LlmGenerator(settings.answer, settings.llm)
    return ExtractiveGenerator(embedder, settings.answer, index)


__all__ = ["ExtractiveGenerator", "Generator", "OnToken", "make_generator"]
