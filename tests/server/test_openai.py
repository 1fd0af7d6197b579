"""The OpenAI-compatible endpoint, used through the real `openai` client against a real uvicorn server."""

from __future__ import annotations

import pytest

from tests.server.conftest import require_extra

require_extra("openai")
import openai  # noqa: E402

from rag_oracle.server.config import ServerConfig  # noqa: E402
from tests.chat.chat_corpus import QUESTION  # noqa: E402
from tests.server.conftest import running  # noqa: E402


def _client(url: str, key: str = "unused") -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{url}/v1", api_key=key, max_retries=0, timeout=60)


def test_models_and_a_cited_completion(live_url: str) -> None:
    client = _client(live_url)
    assert [m.id for m in client.models.list()] == ["rag-oracle"]

    completion = client.chat.completions.create(
        model="rag-oracle",
        messages=[{"role": "system", "content": "ignored"}, {"role": "user", "content": QUESTION}],
        temperature=0.2,
    )
    content = completion.choices[0].message.content
    assert completion.choices[0].finish_reason == "stop" and completion.model == "rag-oracle"
    assert "[1]" in content
    body, references = content.split("\n\nReferences\n", 1)
    assert "clonazepam" in body.lower()
    assert references.startswith(
        "[1] Okafor A, Lindqvist M, Haddad R, et al. Clonazepam as an adjunct in depression. J Affect Disord. 2020. "
        "Review. PMID 900100001. PMCID PMC9001001."
    )
    assert "not medical advice" in content


def test_streaming_matches_the_whole_reply(live_url: str) -> None:
    client = _client(live_url)
    messages = [{"role": "user", "content": QUESTION}]
    whole = client.chat.completions.create(model="rag-oracle", messages=messages).choices[0].message.content
    stream = client.chat.completions.create(model="rag-oracle", messages=messages, stream=True)
    chunks = list(stream)
    pieces = [c.choices[0].delta.content or "" for c in chunks]
    assert len([p for p in pieces if p]) > 3  # it arrives in pieces
    assert "".join(pieces) == whole
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert all(c.object == "chat.completion.chunk" and c.id == chunks[0].id for c in chunks)


def test_earlier_messages_give_the_follow_up_its_context(live_url: str) -> None:
    client = _client(live_url)
    first = client.chat.completions.create(model="rag-oracle", messages=[{"role": "user", "content": QUESTION}])
    follow = client.chat.completions.create(
        model="rag-oracle",
        messages=[
            {"role": "user", "content": QUESTION},
            {"role": "assistant", "content": first.choices[0].message.content},
            {"role": "user", "content": [{"type": "text", "text": "and in the elderly?"}]},
        ],
    )
    assert "[1] Brennan T, Osei K. Clonazepam in elderly patients. Age Ageing. 2022. Guideline." in (
        follow.choices[0].message.content
    )
    assert follow.model_extra["rag_oracle"]["standalone_question"] == (
        "What is the dose of clonazepam for depression in the elderly?"
    )


def test_errors_reach_the_client_as_openai_errors(make_app, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_ORACLE_API_KEY", "k1")
    with running(make_app(ServerConfig.from_env(rate_limit=0))) as url:
        with pytest.raises(openai.AuthenticationError):
            _client(url, "wrong").models.list()
        client = _client(url, "k1")
        assert [m.id for m in client.models.list()] == ["rag-oracle"]
        with pytest.raises(openai.BadRequestError, match="no user message"):
            client.chat.completions.create(model="rag-oracle", messages=[{"role": "system", "content": "hi"}])
