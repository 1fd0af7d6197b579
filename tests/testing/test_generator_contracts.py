"""Both generators pass the generator contract: the extractive one, and the LLM one over a scripted model."""

from __future__ import annotations

import pytest

from rag_oracle.generate.extractive import ExtractiveGenerator
from rag_oracle.generate.llm import LlmGenerator
from rag_oracle.settings import AnswerSettings, LlmSettings
from rag_oracle.testing import HashEmbedder, ScriptedChatModel
from rag_oracle.testing.contracts import GeneratorContract

# What a faithful model writes for the contract's passages ([1] the guideline, [2] the trial).
REPLY = """## Answer
Stop warfarin 5 days before elective surgery [1]. Check the INR on the day before surgery [1].
## Safety and monitoring
- Bridging with heparin increased major bleeding without preventing thromboembolism [2].
## Related questions
- When should warfarin be resumed after surgery?
"""


class TestExtractiveGenerator(GeneratorContract):
    @pytest.fixture
    def generator(self) -> ExtractiveGenerator:
        return ExtractiveGenerator(HashEmbedder(dimension=256), AnswerSettings())

    @pytest.fixture
    def streams_tokens(self) -> bool:
        return False


class TestLlmGenerator(GeneratorContract):
    @pytest.fixture
    def chat_model(self) -> ScriptedChatModel:
        return ScriptedChatModel([REPLY, REPLY])

    @pytest.fixture
    def generator(self, chat_model: ScriptedChatModel) -> LlmGenerator:
        return LlmGenerator(AnswerSettings(prompt="answer@2"), LlmSettings(model="scripted"), chat_model=chat_model)

    @pytest.fixture
    def streams_tokens(self) -> bool:
        return True

    def test_the_model_sees_the_numbered_passages(self, generator, chat_model, contract_question, contract_passages):
        generator.draft(contract_question, contract_passages)
        [messages] = chat_model.history
        shown = messages[-1].content
        assert contract_question in shown
        for number, hit in enumerate(contract_passages, 1):
            assert f"[{number}] {hit.document.title}" in shown and hit.chunk.text in shown
