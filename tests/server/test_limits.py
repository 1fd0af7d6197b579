"""Request limits and auth: API key, per-client rate limit with Retry-After, body size."""

from __future__ import annotations

from tests.server.conftest import local_client, require_extra

require_extra()

import pytest  # noqa: E402

from rag_oracle.server.config import ServerConfig  # noqa: E402
from rag_oracle.server.limits import TokenBucket  # noqa: E402


def test_api_key_guards_v1_but_not_health_or_page(make_app, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_ORACLE_API_KEY", "s3cret-key")
    app = make_app(ServerConfig.from_env(rate_limit=0))
    with local_client(app) as client:
        missing = client.get("/v1/sessions")
        assert missing.status_code == 401 and missing.headers["www-authenticate"] == "Bearer"
        assert missing.json()["error"]["code"] == "unauthorized" and "missing" in missing.json()["error"]["message"]
        wrong = client.get("/v1/sessions", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401 and "wrong" in wrong.json()["error"]["message"]
        assert client.get("/v1/sessions", headers={"Authorization": "Basic s3cret-key"}).status_code == 401
        ok = client.get("/v1/sessions", headers={"Authorization": "Bearer s3cret-key"})
        assert ok.status_code == 200
        assert (
            client.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": "x"}]}).status_code
            == 401
        )
        assert client.get("/healthz").json()["auth"] is True
        assert client.get("/").status_code == 200 and client.get("/static/app.js").status_code == 200
        assert "s3cret" not in client.get("/openapi.json").text
    monkeypatch.delenv("RAG_ORACLE_API_KEY")
    assert ServerConfig.from_env().api_key is None


def test_rate_limit_answers_429_with_retry_after(make_app) -> None:
    app = make_app(ServerConfig(rate_limit=0.5, rate_burst=2))
    with local_client(app) as client:
        codes = [client.get("/v1/sessions").status_code for _ in range(3)]
        assert codes == [200, 200, 429]
        limited = client.get("/v1/search", params={"q": "x"})
        assert limited.status_code == 429
        assert limited.json()["error"]["code"] == "rate_limited"
        assert int(limited.headers["retry-after"]) == 2  # one token every 2 s
        assert client.get("/healthz").status_code == 200  # health checks are never limited


def test_token_bucket_refills_per_client() -> None:
    now = [0.0]
    bucket = TokenBucket(rate=2.0, burst=2, clock=lambda: now[0])
    assert [bucket.take("a"), bucket.take("a")] == [0.0, 0.0]
    assert bucket.take("a") == pytest.approx(0.5)
    assert bucket.take("b") == 0.0  # another client has its own bucket
    now[0] = 0.5
    assert bucket.take("a") == 0.0
    now[0] = 100.0
    assert [bucket.take("a"), bucket.take("a"), bucket.take("a")][:2] == [0.0, 0.0]  # never more than the burst
    assert bucket.take("a") > 0


def test_request_size_limits(make_app) -> None:
    app = make_app(ServerConfig(rate_limit=0, max_body_bytes=64 * 1024))
    with local_client(app) as client:
        big = client.post("/v1/ask", json={"question": "warfarin " * 10_000})
        assert big.status_code == 413 and big.json()["error"]["code"] == "payload_too_large"

        def chunks():  # no Content-Length: the limit counts what arrives
            for _ in range(20):
                yield b" " * 8192

        chunked = client.post("/v1/ask", content=chunks(), headers={"Content-Type": "application/json"})
        assert chunked.status_code == 413
        long_question = client.post("/v1/ask", json={"question": "x" * 2001})
        assert long_question.status_code == 422 and "2000" in long_question.json()["error"]["message"]
        long_message = client.post("/v1/sessions", json={"title": "t" * 201})
        assert long_message.status_code == 422
