"""Answers streamed as server-sent events: retrieval, draft tokens (LLM), the verified answer, errors."""

from __future__ import annotations

from tests.server.conftest import local_client, require_extra

require_extra()

import json  # noqa: E402

import pytest  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

from rag_oracle import RagOracle  # noqa: E402
from rag_oracle.generate.llm import LlmGenerator  # noqa: E402
from rag_oracle.testing import ScriptedChatModel  # noqa: E402
from tests.chat.chat_corpus import QUESTION  # noqa: E402


def _events(response) -> list[tuple[str, dict]]:
    out = []
    for block in response.text.replace("\r\n", "\n").split("\n\n"):
        name, data = "message", []
        for line in block.splitlines():
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].strip())
        if data:
            out.append((name, json.loads("\n".join(data))))
    return out


@pytest.mark.parametrize(
    ("params", "headers", "body"),
    [
        ({"stream": "true"}, {}, {}),
        ({}, {"Accept": "text/event-stream"}, {}),
        ({}, {}, {"stream": True}),
    ],
)
def test_ask_streams_retrieval_then_answer(client: TestClient, params, headers, body) -> None:
    with client.stream("POST", "/v1/ask", params=params, headers=headers, json={"question": QUESTION, **body}) as r:
        r.read()
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    events = [(name, data) for name, data in _events(r) if name != "stage"]  # stages: test_review_api.py
    # the extractive draft comes in one piece, before it is verified
    assert [name for name, _ in events] == ["retrieval", "token", "answer"]
    hits = events[0][1]["hits"]
    assert hits[0]["doc_id"] == "clz-depression" and hits[0]["rank"] == 1
    answer = events[2][1]["answer"]
    assert answer["references"][0]["doc_id"] == "clz-depression"
    assert answer["sections"][0]["sentences"][0]["text"] in events[1][1]["text"]


def test_session_message_streams_and_is_stored(client: TestClient) -> None:
    session_id = client.post("/v1/sessions", json={}).json()["id"]
    client.post(f"/v1/sessions/{session_id}/messages", json={"content": QUESTION})
    with client.stream(
        "POST", f"/v1/sessions/{session_id}/messages?stream=true", json={"content": "and in the elderly?"}
    ) as r:
        r.read()
    events = dict(_events(r))
    assert events["answer"]["standalone_question"].endswith("in the elderly?")
    assert events["answer"]["seq"] == 4
    assert client.get(f"/v1/sessions/{session_id}").json()["message_count"] == 4


def test_bad_input_is_refused_before_the_stream_starts(client: TestClient) -> None:
    response = client.post("/v1/ask?stream=true", json={"question": "   "})
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_request"
    response = client.post("/v1/sessions/nope/messages?stream=true", json={"content": "hi"})
    assert response.status_code == 404


DRAFT = "## Answer\nThe usual dose of clonazepam as an adjunct in depression is 0.5 to 1 mg at bedtime [1].\n"


def _llm_oracle(chat_index, model: ScriptedChatModel) -> RagOracle:
    settings, path = chat_index
    settings = settings.with_overrides({"answer": {"generator": "llm"}})
    return RagOracle(path, settings, generator=LlmGenerator(settings.answer, settings.llm, chat_model=model))


def test_llm_draft_tokens_stream_before_the_verified_answer(make_app, chat_index) -> None:
    app = make_app(oracle=_llm_oracle(chat_index, ScriptedChatModel([DRAFT])))
    with local_client(app) as client, client.stream("POST", "/v1/ask?stream=true", json={"question": QUESTION}) as r:
        r.read()
    events = [(name, data) for name, data in _events(r) if name != "stage"]
    names = [name for name, _ in events]
    assert names[0] == "retrieval" and names[-1] == "answer" and names.count("token") > 1
    assert "".join(data["text"] for name, data in events if name == "token") == DRAFT
    answer = events[-1][1]["answer"]
    assert answer["generator"] == "llm:answer@1"
    assert answer["sections"][0]["sentences"][0]["text"].startswith("The usual dose of clonazepam")


def test_failure_after_the_stream_started_is_an_error_event(make_app, chat_index) -> None:
    # the endpoint refuses every connection: the streamed request, then the plain one
    refused = ScriptedChatModel([ConnectionError("refused"), ConnectionError("refused")])
    app = make_app(oracle=_llm_oracle(chat_index, refused))
    with local_client(app) as client, client.stream("POST", "/v1/ask?stream=true", json={"question": QUESTION}) as r:
        r.read()
    events = [(name, data) for name, data in _events(r) if name != "stage"]
    assert [name for name, _ in events] == ["retrieval", "error"]
    assert events[1][1]["error"]["code"] == "llm_unavailable"
    # without streaming the same failure is a 502
    with local_client(app) as client:
        response = client.post("/v1/ask", json={"question": QUESTION})
    assert response.status_code == 502 and response.json()["error"]["code"] == "llm_unavailable"
    assert refused.remaining == 0
