"""A test kit shipped with rag-oracle: deterministic fakes and the contract every backend must meet.

- `HashEmbedder`: a deterministic, dependency-free embedder (feature hashing of words and word
  pairs), fast enough for unit tests; select it in settings with `embed.model = "hash:dim=256"`.
- `ScriptedChatModel`: a real LangChain chat model that answers from a queue of replies and
  records what it was sent, for testing the LLM generator and the LLM rewriter without a model.
- `rag_oracle.testing.contracts`: `EmbedderContract`, `LoaderContract`, `RetrieverContract` and
  `GeneratorContract`, pytest base classes that test a backend against its stage's documented
  contract. They need pytest (`pip install 'rag-oracle[dev]'` or just `pip install pytest`),
  which the rest of the package never imports.

Example::

    from rag_oracle.generate.llm import LlmGenerator
    from rag_oracle.testing import ScriptedChatModel

    model = ScriptedChatModel(["## Answer\\nStop warfarin 5 days before surgery [1].\\n"])
    generator = LlmGenerator(settings.answer, settings.llm, chat_model=model)
    oracle = RagOracle("indexes/sample", settings, generator=generator)
    oracle.ask("How long before surgery should warfarin be stopped?")
    model.history[0]  # the messages the generator sent
"""

from __future__ import annotations

from rag_oracle.embed.hashing import HashEmbedder
from rag_oracle.testing.chat_model import ScriptedChatModel, ScriptExhaustedError

__all__ = ["HashEmbedder", "ScriptExhaustedError", "ScriptedChatModel"]
