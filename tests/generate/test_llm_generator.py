"""The LLM generator with a scripted chat model: parsing, verification, streaming, errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from rag_oracle import RagOracle
from rag_oracle.generate.llm import LlmError, LlmGenerator, parse_draft

DRAFT = """## Answer
Stop warfarin 5 days before surgery [1]. Warfarin is safe to continue through any surgery [1].
## Dosing and administration
- Sertraline is started at 50 mg daily for depression [2].
- Sertraline is started at 200 mg daily for depression [2].
## Key points
- Resume warfarin the evening after surgery if bleeding is controlled [9].
## Related questions
- How is the INR checked before surgery?
- Which patients need bridging?
"""


@pytest.fixture
def oracle(built_index: Path, settings) -> RagOracle:
    return RagOracle(built_index, settings.with_overrides({"answer": {"generator": "llm", "top_k": 4}}))


def scripted(oracle: RagOracle, *replies: str) -> LlmGenerator:
    gen = oracle.generator
    gen._chat_model = FakeListChatModel(responses=list(replies))
    return gen


def test_parse_draft_sections_markers_and_related() -> None:
    sections, related = parse_draft(DRAFT)
    assert [s.kind for s in sections] == ["direct", "dosing", "key_points"]
    assert sections[0].sentences[0].text == "Stop warfarin 5 days before surgery." and sections[0].sentences[
        0
    ].citations == [1]
    assert sections[2].sentences[0].citations == [9]
    assert related == ["How is the INR checked before surgery?", "Which patients need bridging?"]
    sections, _ = parse_draft("Plain text with no headings [2]. Another claim.")
    assert sections[0].kind == "direct" and [s.citations for s in sections[0].sentences] == [[2], []]


def test_verification_catches_what_the_model_made_up(oracle: RagOracle) -> None:
    # The passages the model sees are fixed by retrieval; write a draft against them.
    hits = oracle.search("warfarin surgery sertraline dose", k=10)
    gen = oracle.generator
    from rag_oracle.generate.compose import diversify

    shown = [h for h in diversify(hits, 4, 3)]
    warfarin = next(i for i, h in enumerate(shown, 1) if "Stop warfarin 5 days" in h.chunk.text)
    sertraline = next(i for i, h in enumerate(shown, 1) if "50 mg daily" in h.chunk.text)
    draft = (
        f"## Answer\nStop warfarin 5 days before surgery [{warfarin}]. Aspirin cures migraine in runners [{warfarin}].\n"
        f"## Dosing and administration\n- Sertraline is started at 200 mg daily for depression [{sertraline}].\n"
        f"- Sertraline is started at 50 mg daily for depression [{sertraline}, 9].\n"
    )
    gen._chat_model = FakeListChatModel(responses=[draft])
    gen.settings = gen.settings.model_copy(update={"min_passage_similarity": -1.0})
    answer = gen.generate("warfarin surgery sertraline dose", hits)
    statuses = {c.text: c for c in answer.verification}
    assert statuses["Stop warfarin 5 days before surgery."].status == "supported"
    assert statuses["Aspirin cures migraine in runners."].status == "removed"  # unsupported sentence
    assert statuses["Sertraline is started at 200 mg daily for depression."].unsupported_numbers == [
        "200 mg"
    ]  # invented dose
    assert statuses["Sertraline is started at 50 mg daily for depression."].invalid_markers == [9]  # fabricated marker
    kept = [s.text for sec in answer.sections for s in sec.sentences]
    assert kept == ["Stop warfarin 5 days before surgery.", "Sertraline is started at 50 mg daily for depression."]
    assert [r.number for r in answer.references] == [1, 2]
    assert "[9]" not in answer.text and "200 mg" not in answer.text
    assert 3 <= len(answer.related_questions) <= 5
    assert answer.generator == "llm:answer@1"


def test_streaming_delivers_the_draft(oracle: RagOracle) -> None:
    scripted(oracle, DRAFT)
    pieces: list[str] = []
    answer = oracle.ask("How many days before surgery should warfarin be stopped?", on_token=pieces.append)
    assert "".join(pieces) == DRAFT
    assert answer.verification


def test_model_saying_it_cannot_answer_abstains(oracle: RagOracle) -> None:
    scripted(oracle, "The passages do not answer this question.")
    answer = oracle.ask("How many days before surgery should warfarin be stopped?")
    assert answer.abstained and answer.references == []


def test_unreachable_endpoint_is_a_clear_error(built_index: Path, settings) -> None:
    s = settings.with_overrides(
        {
            "answer": {"generator": "llm"},
            "llm": {"base_url": "http://127.0.0.1:9/v1", "model": "m", "timeout": 2, "max_retries": 0},
        }
    )
    with pytest.raises(LlmError, match=r"cannot reach the LLM endpoint http://127\.0\.0\.1:9/v1"):
        RagOracle(built_index, s).ask("How many days before surgery should warfarin be stopped?")


def test_missing_model_name_is_a_clear_error(built_index: Path, settings) -> None:
    s = settings.with_overrides({"answer": {"generator": "llm"}, "llm": {"model": ""}})
    with pytest.raises(LlmError, match=r"llm\.model is empty"):
        RagOracle(built_index, s).ask("How many days before surgery should warfarin be stopped?")


def test_openai_compatible_request_carries_plain_max_tokens() -> None:
    from rag_oracle.generate.llm import make_chat_model
    from rag_oracle.generate.prompts import load_prompt
    from rag_oracle.settings import LlmSettings

    model = make_chat_model(LlmSettings(model="m", max_tokens=77), load_prompt("answer@1"))
    payload = model._get_request_payload([("user", "hi")])
    # llama.cpp's server, vLLM and Ollama honour max_tokens, not max_completion_tokens
    assert payload["extra_body"] == {"max_tokens": 77} and "max_completion_tokens" not in payload
