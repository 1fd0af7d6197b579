"""The LLM generator with a scripted chat model: parsing, verification, streaming, errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag_oracle import RagOracle
from rag_oracle.errors import LlmError
from rag_oracle.generate.llm import LlmGenerator, parse_draft
from rag_oracle.testing import ScriptedChatModel

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
CANNOT = "The passages do not answer this question."
QUESTION = "How many days before surgery should warfarin be stopped?"


def scripted(built_index: Path, settings, *replies: str | Exception, **answer) -> tuple[RagOracle, ScriptedChatModel]:
    """An oracle whose LLM generator talks to a scripted model, and the model."""
    s = settings.with_overrides({"answer": {"generator": "llm", "top_k": 4, **answer}})
    model = ScriptedChatModel(replies)
    return RagOracle(built_index, s, generator=LlmGenerator(s.answer, s.llm, chat_model=model)), model


def test_parse_draft_sections_markers_and_related() -> None:
    draft = parse_draft(DRAFT)
    sections = draft.sections
    assert [s.kind for s in sections] == ["direct", "dosing", "key_points"]
    assert sections[0].sentences[0].text == "Stop warfarin 5 days before surgery."
    assert sections[0].sentences[0].citations == [1]
    assert sections[2].sentences[0].citations == [9]
    assert draft.related_questions == ["How is the INR checked before surgery?", "Which patients need bridging?"]
    assert draft.raw_text == DRAFT
    sections = parse_draft("Plain text with no headings [2]. Another claim.").sections
    assert sections[0].kind == "direct" and [s.citations for s in sections[0].sentences] == [[2], []]


def test_verification_catches_what_the_model_made_up(built_index: Path, settings) -> None:
    question = "warfarin surgery sertraline dose"
    # The passages the model sees are fixed by retrieval: an answer the model declines to write
    # still lists them, numbered as the model saw them. Write a draft against them.
    probe, _ = scripted(built_index, settings, CANNOT, min_passage_similarity=-1.0)
    shown = probe.ask(question).hits
    warfarin = next(i for i, h in enumerate(shown, 1) if "Stop warfarin 5 days" in h.chunk.text)
    sertraline = next(i for i, h in enumerate(shown, 1) if "50 mg daily" in h.chunk.text)
    draft = (
        f"## Answer\nStop warfarin 5 days before surgery [{warfarin}]. Aspirin cures migraine in runners [{warfarin}].\n"
        f"## Dosing and administration\n- Sertraline is started at 200 mg daily for depression [{sertraline}].\n"
        f"- Sertraline is started at 50 mg daily for depression [{sertraline}, 9].\n"
    )
    oracle, model = scripted(built_index, settings, draft, min_passage_similarity=-1.0)
    answer = oracle.ask(question)
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
    assert len(answer.related_questions) <= 5
    assert answer.generator == "llm:answer@1"
    # the model was shown the passages numbered as the draft cites them
    [messages] = model.history
    assert f"[{warfarin}] " in messages[-1].content and shown[warfarin - 1].chunk.text in messages[-1].content


def test_streaming_delivers_the_draft(built_index: Path, settings) -> None:
    oracle, _ = scripted(built_index, settings, DRAFT)
    pieces: list[str] = []
    answer = oracle.ask(QUESTION, on_token=pieces.append)
    assert len(pieces) > 1 and "".join(pieces) == DRAFT
    assert answer.verification


def test_model_saying_it_cannot_answer_abstains(built_index: Path, settings) -> None:
    oracle, model = scripted(built_index, settings, CANNOT)
    answer = oracle.ask(QUESTION)
    assert answer.abstained and answer.references == []
    assert model.remaining == 0  # the model was asked: the passages were relevant


def test_model_failure_is_a_clear_error(built_index: Path, settings) -> None:
    oracle, _ = scripted(built_index, settings, ConnectionError("connection refused"))
    with pytest.raises(LlmError, match="cannot reach the LLM endpoint"):
        oracle.ask(QUESTION)


def test_unreachable_endpoint_is_a_clear_error(built_index: Path, settings) -> None:
    s = settings.with_overrides(
        {
            "answer": {"generator": "llm"},
            "llm": {"base_url": "http://127.0.0.1:9/v1", "model": "m", "timeout": 2, "max_retries": 0},
        }
    )
    with pytest.raises(LlmError, match=r"cannot reach the LLM endpoint http://127\.0\.0\.1:9/v1"):
        RagOracle(built_index, s).ask(QUESTION)


def test_missing_model_name_is_a_clear_error(built_index: Path, settings) -> None:
    s = settings.with_overrides({"answer": {"generator": "llm"}, "llm": {"model": ""}})
    with pytest.raises(LlmError, match=r"llm\.model is empty"):
        RagOracle(built_index, s).ask(QUESTION)


def test_openai_compatible_request_carries_plain_max_tokens() -> None:
    from rag_oracle.generate.llm import make_chat_model
    from rag_oracle.generate.prompts import load_prompt
    from rag_oracle.settings import LlmSettings

    model = make_chat_model(LlmSettings(model="m", max_tokens=77), load_prompt("answer@1"))
    payload = model._get_request_payload([("user", "hi")])
    # llama.cpp's server, vLLM and Ollama honour max_tokens, not max_completion_tokens
    assert payload["extra_body"] == {"max_tokens": 77} and "max_completion_tokens" not in payload
