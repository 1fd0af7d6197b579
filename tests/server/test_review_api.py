"""Reviews and regeneration over HTTP: who may review, statuses stored with the turn, an edited
search re-run in place, the patient context, and stage events in the stream."""

from __future__ import annotations

from tests.server.conftest import local_client, require_extra

require_extra()

from collections.abc import Iterator  # noqa: E402

import pytest  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

from rag_oracle.chat.store import REGENERATED_NEW_TEXT  # noqa: E402
from rag_oracle.server.config import ServerConfig  # noqa: E402
from tests.chat.chat_corpus import QUESTION  # noqa: E402
from tests.server.test_sse import _events  # noqa: E402

REMOTE = ("203.0.113.5", 5000)
LOOPBACK = ("127.0.0.1", 5000)  # TestClient's own default client, "testclient", is not an address
SERTRALINE = "What is the usual dose of sertraline?"


@pytest.fixture
def client(make_app) -> Iterator[TestClient]:
    """A client on this machine (a loopback address), which may review when the server has no key."""
    with local_client(make_app(), client=LOOPBACK) as test_client:
        yield test_client


def _turn(client: TestClient, content: str = QUESTION, **body) -> tuple[str, dict]:
    session_id = client.post("/v1/sessions", json={}).json()["id"]
    response = client.post(f"/v1/sessions/{session_id}/messages", json={"content": content, **body})
    assert response.status_code == 200, response.text
    return session_id, response.json()


def test_review_is_stored_with_the_turn_and_exported(client: TestClient) -> None:
    session_id, turn = _turn(client)
    assert turn["review"]["status"] == "submitted" and turn["review"]["history"] == []
    url = f"/v1/sessions/{session_id}/messages/{turn['seq']}/review"
    assert client.get(url).json()["status"] == "submitted"

    response = client.put(url, json={"status": "approved", "reviewer": "Dr Lee", "note": "matches the source"})
    assert response.status_code == 200
    review = response.json()
    assert (review["status"], review["reviewer"], review["note"]) == ("approved", "Dr Lee", "matches the source")
    assert review["reviewed_at"] and len(review["history"]) == 1
    assert client.get(url).json() == review
    assert client.get(f"/v1/sessions/{session_id}").json()["messages"][1]["review"] == review
    exported = client.get(f"/v1/sessions/{session_id}/export", params={"format": "markdown"}).text
    assert f"*Review:* Approved by Dr Lee, {review['reviewed_at'][:10]}: matches the source" in exported


def test_bad_reviews_are_refused(client: TestClient) -> None:
    session_id, turn = _turn(client)
    url = f"/v1/sessions/{session_id}/messages/{turn['seq']}/review"
    for body in (
        {"status": "done", "reviewer": "Dr Lee"},
        {"status": "approved", "reviewer": ""},
        {"status": "approved"},
        {"status": "approved", "reviewer": "Dr Lee", "note": "n" * 2001},
        {"status": "approved", "reviewer": "Dr Lee", "extra": 1},
    ):
        response = client.put(url, json=body)
        assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_request", body
    response = client.put(f"/v1/sessions/{session_id}/messages/1/review", json={"status": "approved", "reviewer": "x"})
    assert response.status_code == 404 and response.json()["error"]["code"] == "turn_not_found"
    response = client.get(f"/v1/sessions/{session_id}/messages/7/review")
    assert response.status_code == 404 and response.json()["error"]["code"] == "turn_not_found"
    response = client.put("/v1/sessions/nope/messages/2/review", json={"status": "approved", "reviewer": "x"})
    assert response.status_code == 404 and response.json()["error"]["code"] == "session_not_found"
    assert client.get(url).json()["history"] == []


def test_without_a_key_only_this_machine_may_review(make_app) -> None:
    app = make_app()
    with local_client(app, client=LOOPBACK) as local:
        session_id, turn = _turn(local)
    url = f"/v1/sessions/{session_id}/messages/{turn['seq']}/review"
    with local_client(app, client=REMOTE) as remote:
        response = remote.put(url, json={"status": "approved", "reviewer": "Mallory"})
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "review_not_allowed"
        assert "RAG_ORACLE_API_KEY" in response.json()["error"]["message"]
        assert remote.get(url).json()["status"] == "submitted"  # reading stays open, nothing was stored
    with local_client(app, client=LOOPBACK) as local:
        assert local.put(url, json={"status": "approved", "reviewer": "Dr Lee"}).status_code == 200


def test_with_a_key_a_key_holder_reviews_from_anywhere(make_app, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_ORACLE_API_KEY", "review-key")
    app = make_app(ServerConfig.from_env(rate_limit=0))
    auth = {"Authorization": "Bearer review-key"}
    with local_client(app, client=REMOTE, headers=auth) as remote:
        session_id, turn = _turn(remote)
        url = f"/v1/sessions/{session_id}/messages/{turn['seq']}/review"
        response = remote.put(url, json={"status": "flagged", "reviewer": "Dr Kim", "note": "wrong population"})
        assert response.status_code == 200 and response.json()["status"] == "flagged"
    with local_client(app) as keyless:  # even on this machine, a request without the key is refused
        response = keyless.put(url, json={"status": "approved", "reviewer": "Dr Lee"})
        assert response.status_code == 401
    with local_client(app, headers=auth) as local:
        assert local.get(url).json()["status"] == "flagged"


def test_regenerate_with_an_edited_search_goes_back_to_submitted(client: TestClient) -> None:
    session_id, _ = _turn(client)
    follow = client.post(f"/v1/sessions/{session_id}/messages", json={"content": "and in the elderly?"}).json()
    base = f"/v1/sessions/{session_id}/messages/{follow['seq']}"
    client.put(f"{base}/review", json={"status": "approved", "reviewer": "Dr Lee"})

    # nothing changed: the approval stands
    same = client.post(f"{base}/regenerate", json={})
    assert same.status_code == 200 and same.json()["review"]["status"] == "approved"
    assert same.json()["answer"]["text"] == follow["answer"]["text"]

    edited = client.post(f"{base}/regenerate", json={"standalone_question": SERTRALINE}).json()
    assert edited["standalone_question"] == SERTRALINE and edited["seq"] == follow["seq"]
    assert edited["answer"]["references"][0]["doc_id"] == "doc-sertraline"
    assert (edited["review"]["status"], edited["review"]["note"]) == ("submitted", REGENERATED_NEW_TEXT)
    stored = client.get(f"/v1/sessions/{session_id}").json()
    assert stored["message_count"] == 4 and stored["messages"][2]["standalone_question"] == SERTRALINE
    assert stored["messages"][3]["review"]["status"] == "submitted"

    assert client.post(f"/v1/sessions/{session_id}/messages/3/regenerate").status_code == 404
    assert client.post(f"{base}/regenerate", json={"standalone_question": ""}).status_code == 422


def test_regenerate_streams_stages_then_the_answer(client: TestClient) -> None:
    session_id, turn = _turn(client)
    url = f"/v1/sessions/{session_id}/messages/{turn['seq']}/regenerate"
    with client.stream("POST", url, json={"stream": True, "standalone_question": SERTRALINE}) as r:
        r.read()
    events = _events(r)
    stages = [data["stage"] for name, data in events if name == "stage"]
    assert stages == ["retrieving", "composing", "verifying"]  # nothing to rewrite
    assert events[-1][0] == "answer" and events[-1][1]["standalone_question"] == SERTRALINE
    # refused before the stream starts
    response = client.post(f"/v1/sessions/{session_id}/messages/1/regenerate?stream=true")
    assert response.status_code == 404 and response.json()["error"]["code"] == "turn_not_found"


def test_stage_events_precede_what_each_stage_produces(client: TestClient) -> None:
    with client.stream("POST", "/v1/ask?stream=true", json={"question": QUESTION}) as r:
        r.read()
    events = _events(r)
    names = [name if name != "stage" else data["stage"] for name, data in events]
    assert names == ["rewriting", "retrieving", "retrieval", "composing", "token", "verifying", "answer"]
    elapsed = [data["elapsed_ms"] for name, data in events if name == "stage"]
    assert elapsed == sorted(elapsed) and all(isinstance(ms, float) for ms in elapsed)


def test_patient_context_becomes_the_population(client: TestClient) -> None:
    question = "What is the starting dose of clonazepam?"
    plain = client.post("/v1/ask", json={"question": question}).json()
    older = client.post("/v1/ask", json={"question": question, "context": {"age_group": "older_adult"}}).json()
    assert "older adults" not in plain["answer"]["question"]
    assert "in older adults" in older["answer"]["question"]
    assert older["answer"]["patient_context"] == {
        "age_group": "older_adult",
        "pregnancy": None,
        "renal_function": None,
        "creatinine_clearance": None,
    }
    with client.stream(
        "POST", "/v1/ask?stream=true", json={"question": question, "context": {"age_group": "older_adult"}}
    ) as r:
        r.read()
    assert "in older adults" in _events(r)[-1][1]["answer"]["question"]
    bad = client.post("/v1/ask", json={"question": question, "context": {"age_group": "toddler"}})
    assert bad.status_code == 422

    # in a session too, with the search given instead of the rewrite
    _, turn = _turn(client, "and the dose?", context={"age_group": "older_adult"}, standalone_question=question)
    assert turn["question"] == "and the dose?" and turn["standalone_question"] == question
    assert "in older adults" in turn["answer"]["question"]
