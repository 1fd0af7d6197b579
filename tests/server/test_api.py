"""The HTTP API over the library: answers, search, documents, health, schema, errors as JSON."""

from __future__ import annotations

from tests.server.conftest import local_client, require_extra

require_extra()

import pytest  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

from rag_oracle.errors import IndexNotFoundError  # noqa: E402
from tests.chat.chat_corpus import QUESTION  # noqa: E402


def test_ask_returns_the_cited_answer(client: TestClient) -> None:
    response = client.post("/v1/ask", json={"question": QUESTION, "settings": {"answer": {"audience": "patient"}}})
    assert response.status_code == 200
    turn = response.json()
    answer = turn["answer"]
    assert turn["session_id"] is None and turn["standalone_question"] == QUESTION
    assert not answer["abstained"] and answer["references"][0]["doc_id"] == "clz-depression"
    assert "[1]" in answer["text"] and answer["disclaimer"]
    assert answer["references"][0]["cited_spans"][0]["text"] in answer["references"][0]["passage"]


def test_a_python_client_reads_the_answer_back(client: TestClient) -> None:
    """What /v1/ask returns parses into the library's own types (the computed `text` included)."""
    from rag_oracle.types import Turn

    response = client.post("/v1/ask", json={"question": QUESTION})
    turn = Turn.model_validate_json(response.content)
    assert turn.answer.text == response.json()["answer"]["text"]
    assert turn.answer.provenance is not None and turn.answer.provenance.generator == "extractive@2"
    assert turn.answer.provenance.index_fingerprint


def test_search_with_filters_and_documents_by_alias(client: TestClient) -> None:
    hits = client.get("/v1/search", params={"q": "clonazepam elderly", "k": 3}).json()["hits"]
    assert len(hits) == 3 and hits[0]["chunk"]["doc_id"] == "clz-elderly"
    assert hits[0]["bm25_score"] is not None
    filtered = client.get(
        "/v1/search", params={"q": "clonazepam", "year_min": 2021, "publication_type": "Practice Guideline"}
    ).json()["hits"]
    # only the 2022 guidelines pass: the clonazepam one first
    assert filtered[0]["chunk"]["doc_id"] == "clz-elderly"
    assert {h["chunk"]["doc_id"] for h in filtered} == {"clz-elderly", "test:warfarin-guide"}
    bm25 = client.get("/v1/search", params={"q": "clonazepam", "mode": "bm25"}).json()["hits"]
    assert all(h["dense_score"] is None for h in bm25)

    doc = client.get("/v1/documents/clz-elderly-copy").json()
    assert doc["requested_id"] == "clz-elderly-copy" and doc["id"] == "clz-elderly"
    assert doc["document"]["title"] == "Clonazepam in elderly patients"
    # ids with slashes and colons work as they are
    assert client.get("/v1/documents/test:warfarin-guide").json()["id"] == "test:warfarin-guide"


def test_health_page_and_openapi(client: TestClient) -> None:
    health = client.get("/healthz").json()
    assert health["status"] == "ok" and health["documents"] == 8 and health["auth"] is False
    assert health["checks"] == {"index": "ok", "sessions": "ok"} and health["index"] is None  # not a local client
    page = client.get("/")
    assert page.status_code == 200 and "<title>rag-oracle" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert "http" not in page.text.replace("http-equiv", "")  # nothing loaded from elsewhere
    for asset in ("app.js", "app.css", "favicon.svg"):
        assert client.get(f"/static/{asset}").status_code == 200
    schema = client.get("/openapi.json").json()
    paths = schema["paths"]
    for path in (
        "/v1/ask",
        "/v1/search",
        "/v1/sessions",
        "/v1/sessions/{session_id}",
        "/v1/sessions/{session_id}/messages",
        "/v1/sessions/{session_id}/export",
        "/v1/documents/{doc_id}",
        "/v1/chat/completions",
        "/v1/models",
        "/healthz",
    ):
        assert path in paths, path
    assert {"AskRequest", "MessageCreate", "Turn", "Answer", "ErrorResponse"} <= set(schema["components"]["schemas"])
    assert paths["/v1/ask"]["post"]["responses"]["429"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/ErrorResponse"
    )
    assert "403" in paths["/v1/sessions"]["post"]["responses"]
    assert "503" in paths["/healthz"]["get"]["responses"]
    assert all(field.get("description") for field in schema["components"]["schemas"]["Health"]["properties"].values())


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        ("post", "/v1/ask", {"question": "   "}, 400, "invalid_request"),  # passes the schema, not the library
        ("post", "/v1/ask", {"question": ""}, 422, "invalid_request"),
        ("post", "/v1/ask", {"question": "x", "settings": {"llm": {"model": "other"}}}, 422, "invalid_request"),
        ("post", "/v1/ask", {"question": "x", "filters": {"year_min": 2020, "year_max": 2010}}, 400, "invalid_request"),
        ("post", "/v1/ask", {"question": "x" * 2001}, 422, "invalid_request"),
        ("get", "/v1/search?q=x&k=0", None, 422, "invalid_request"),
        ("get", "/v1/sessions/nope", None, 404, "session_not_found"),
        ("post", "/v1/sessions/nope/messages", {"content": "hi"}, 404, "session_not_found"),
        ("delete", "/v1/sessions/nope", None, 404, "session_not_found"),
        ("get", "/v1/documents/nope", None, 404, "document_not_found"),
        ("get", "/v1/no-such-route", None, 404, "not_found"),
        ("put", "/v1/ask", None, 405, "method_not_allowed"),
    ],
)
def test_errors_are_json(client: TestClient, method: str, path: str, body, status: int, code: str) -> None:
    response = client.request(method, path, json=body)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code and error["message"]


def test_server_side_failures_are_5xx_without_internals(make_app, monkeypatch: pytest.MonkeyPatch) -> None:
    app = make_app()
    service = app.state.service

    def missing_index(*args, **kwargs):
        raise IndexNotFoundError("index indexes/gone has no manifest.json")

    def bug(*args, **kwargs):
        raise ZeroDivisionError("secret internal detail")

    monkeypatch.setattr(service, "search", missing_index)
    monkeypatch.setattr(service, "ask", bug)
    with local_client(app, raise_server_exceptions=False) as client:
        response = client.get("/v1/search", params={"q": "x"})
        assert response.status_code == 503
        assert response.json()["error"] == {
            "code": "index_unavailable",
            "message": "index indexes/gone has no manifest.json",
        }
        response = client.post("/v1/ask", json={"question": "x"})
        assert response.status_code == 500
        assert response.json()["error"]["code"] == "internal_error"
        assert "secret" not in response.text
