"""The server checks who is calling (issue 11, must-have 8): each test reproduces a defect found
against the server before these checks existed, and fails on that code.

- DNS rebinding: a page on evil.example that rebinds its name to 127.0.0.1 read /v1/sessions;
- cross-origin POSTs (and Sec-Fetch-Site: cross-site) created sessions;
- X-Forwarded-For from loopback gave a fresh rate-limit bucket per request (uvicorn's own
  proxy-headers handling), and clients behind a proxy could not be told apart;
- /healthz said ok over an unusable sessions file, and showed paths to anyone.
"""

from __future__ import annotations

from tests.server.conftest import require_extra

require_extra()

import asyncio  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from click.testing import CliRunner  # noqa: E402

from rag_oracle import RagOracle  # noqa: E402
from rag_oracle.chat import ChatService, SessionStore  # noqa: E402
from rag_oracle.errors import ConfigError  # noqa: E402
from rag_oracle.server import create_app  # noqa: E402
from rag_oracle.server.config import ServerConfig  # noqa: E402
from rag_oracle.settings import load_settings  # noqa: E402
from tests.server.conftest import local_client  # noqa: E402

EVIL = "http://evil.example:8000"


@pytest.fixture
def make_app(chat_oracle: RagOracle, tmp_path: Path) -> Callable:
    """An app over the chat index (the server tests' fixtures, one index for both) with its own
    sessions file; `server` overrides the [server] settings."""

    def make(db: Path | None = None, environ: dict[str, str] | None = None, **server):
        settings = chat_oracle.settings.with_overrides({"server": {"rate_limit": 0, **server}})
        config = ServerConfig.from_settings(settings.server, environ=environ or {})
        return create_app(ChatService(chat_oracle, SessionStore(db or tmp_path / "sessions.sqlite")), config)

    return make


def asgi_status(app, path: str, client: tuple[str, int], headers: dict[str, str]) -> int:
    """The status `app` (any ASGI app, e.g. what uvicorn runs) answers a GET from `client` with."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": client,
        "server": ("127.0.0.1", 8000),
    }
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return next(m["status"] for m in sent if m["type"] == "http.response.start")


# --- Host: DNS rebinding ---------------------------------------------------------------------


def test_dns_rebinding_host_cannot_read_sessions(make_app) -> None:
    with local_client(make_app()) as client:
        client.post("/v1/sessions", json={"title": "my private clinical question"})
        rebound = client.get("/v1/sessions", headers={"Host": "evil.example:8000"})
        assert rebound.status_code == 400, rebound.text
        assert "private" not in rebound.text
        error = rebound.json()["error"]
        assert error["code"] == "host_not_allowed"
        assert "evil.example" in error["message"] and "server.allowed_hosts" in error["message"]
        assert "--allowed-host" in error["message"] and "RAG_ORACLE_SERVER__ALLOWED_HOSTS" in error["message"]
        assert client.get("/", headers={"Host": "evil.example"}).status_code == 400  # the page too
        for host in ("localhost:8000", "127.0.0.1", "[::1]:9000", "LOCALHOST"):
            assert client.get("/v1/sessions", headers={"Host": host}).status_code == 200, host


def test_allowed_hosts_setting_adds_names(make_app) -> None:
    app = make_app(allowed_hosts=["rag.example.org", "*.lan"])
    with local_client(app, base_url="http://rag.example.org") as client:
        assert client.get("/v1/sessions").status_code == 200
        assert client.get("/v1/sessions", headers={"Host": "box.lan:8000"}).status_code == 200
        assert client.get("/v1/sessions", headers={"Host": "localhost"}).status_code == 400  # the list replaces
        assert client.get("/v1/sessions", headers={"Host": "rag.example.org.evil.example"}).status_code == 400
    with local_client(make_app(allowed_hosts=["*"])) as client:  # documented as unsafe, but possible
        assert client.get("/v1/sessions", headers={"Host": "anything.example"}).status_code == 200


# --- Origin: cross-site requests that change state -------------------------------------------


def test_cross_origin_post_is_refused(make_app) -> None:
    with local_client(make_app()) as client:
        refused = client.post("/v1/sessions", json={}, headers={"Origin": EVIL})
        assert refused.status_code == 403, refused.text
        error = refused.json()["error"]
        assert error["code"] == "origin_not_allowed"
        assert EVIL in error["message"] and "server.allowed_origins" in error["message"]
        assert client.post("/v1/sessions", json={}, headers={"Origin": "null"}).status_code == 403
        assert client.post("/v1/sessions", json={}, headers={"Origin": "http://localhost:9999"}).status_code == 403
        assert client.get("/v1/sessions").json()["sessions"] == []  # nothing was created

        # the server's own page, and callers that send no Origin (curl, the OpenAI SDK), go ahead
        same = client.post("/v1/sessions", json={}, headers={"Origin": "http://localhost"})
        assert same.status_code == 201, same.text
        assert client.post("/v1/sessions", json={}).status_code == 201
        session_id = same.json()["id"]
        assert client.delete(f"/v1/sessions/{session_id}", headers={"Origin": EVIL}).status_code == 403
        assert client.get("/v1/sessions", headers={"Origin": EVIL}).status_code == 200  # reads are not refused


def test_sec_fetch_site_cross_site_is_refused(make_app) -> None:
    with local_client(make_app()) as client:
        refused = client.post("/v1/sessions", json={}, headers={"Sec-Fetch-Site": "cross-site"})
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "origin_not_allowed"
        ask = client.post("/v1/ask", json={"question": "x"}, headers={"Sec-Fetch-Site": "cross-site"})
        assert ask.status_code == 403
        assert client.post("/v1/sessions", json={}, headers={"Sec-Fetch-Site": "same-origin"}).status_code == 201


def test_allowed_origins_setting(make_app) -> None:
    app = make_app(allowed_origins=["https://app.example.org"])
    with local_client(app) as client:
        headers = {"Origin": "https://app.example.org", "Sec-Fetch-Site": "cross-site"}
        assert client.post("/v1/sessions", json={}, headers=headers).status_code == 201
        assert client.post("/v1/sessions", json={}, headers={"Origin": "http://app.example.org"}).status_code == 403


def test_the_origin_behind_a_tls_proxy_is_https(make_app) -> None:
    """Behind a trusted proxy that ends TLS, the page's https origin is still the server's own."""
    app = make_app(trusted_proxies=["127.0.0.1"], allowed_hosts=["rag.example.org"])
    with local_client(app, base_url="http://rag.example.org", client=("127.0.0.1", 5000)) as client:
        headers = {"Origin": "https://rag.example.org", "X-Forwarded-Proto": "https", "X-Forwarded-For": "1.2.3.4"}
        assert client.post("/v1/sessions", json={}, headers=headers).status_code == 201
        headers["X-Forwarded-Proto"] = "http"
        assert client.post("/v1/sessions", json={}, headers=headers).status_code == 403


# --- Rate limits keyed on the real client ----------------------------------------------------


def _serve_app_as_uvicorn_runs_it(monkeypatch, chat_index, tmp_path: Path, *args: str):
    """`rag-oracle serve` with uvicorn.run replaced: the ASGI app uvicorn would run, built from the same options."""
    import uvicorn

    from rag_oracle.cli.serve import serve

    settings, index = chat_index
    monkeypatch.delenv("RAG_ORACLE_API_KEY", raising=False)
    calls: list[dict] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append({"app": app, **kw}))
    configured = settings.with_overrides({"server": {"rate_limit": 0.001, "rate_burst": 2}})
    argv = ["--index", str(index), "--db", str(tmp_path / "s.sqlite"), *args]
    result = CliRunner().invoke(serve, argv, obj={"settings": configured})
    assert result.exit_code == 0, result.output
    [call] = calls
    app = call.pop("app")
    config = uvicorn.Config(app, **call)
    config.load()
    return config, result


def test_serve_does_not_let_uvicorn_trust_forwarded_for(monkeypatch, chat_index, tmp_path: Path) -> None:
    config, _ = _serve_app_as_uvicorn_runs_it(monkeypatch, chat_index, tmp_path)
    assert config.proxy_headers is False
    # a local caller naming a new client in every request still has one bucket of 2
    statuses = [
        asgi_status(
            config.loaded_app,
            "/v1/sessions",
            ("127.0.0.1", 40000 + n),
            {"Host": "127.0.0.1:8000", "X-Forwarded-For": f"198.51.100.{n}"},
        )
        for n in range(4)
    ]
    assert statuses == [200, 200, 429, 429]


def test_spoofed_forwarded_for_from_an_untrusted_peer_is_ignored(make_app) -> None:
    app = make_app(rate_limit=0.001, rate_burst=2, trusted_proxies=["10.0.0.0/8"])
    with local_client(app, client=("203.0.113.5", 4000)) as client:
        statuses = [
            client.get("/v1/sessions", headers={"X-Forwarded-For": f"198.51.100.{n}", "Forwarded": f"for=9.9.9.{n}"})
            for n in range(3)
        ]
        assert [r.status_code for r in statuses] == [200, 200, 429]


def test_a_trusted_proxy_names_the_client(make_app) -> None:
    app = make_app(rate_limit=0.001, rate_burst=1, trusted_proxies=["127.0.0.1", "10.0.0.0/8"])
    with local_client(app, client=("127.0.0.1", 4000)) as proxy:

        def status(headers: dict[str, str]) -> int:
            return proxy.get("/v1/sessions", headers=headers).status_code

        # two clients behind the same local proxy have a bucket each
        assert status({"X-Forwarded-For": "198.51.100.7"}) == 200
        assert status({"X-Forwarded-For": "198.51.100.8"}) == 200
        assert status({"X-Forwarded-For": "198.51.100.7"}) == 429
        # what the client wrote left of the address our proxies saw changes nothing
        assert status({"X-Forwarded-For": "1.1.1.1, 198.51.100.7, 10.0.0.3"}) == 429
        # RFC 7239 Forwarded, IPv6 in brackets with a port; an IPv6 client is counted by its /64
        assert status({"Forwarded": 'for="[2001:db8:1:2::5]:4711";proto=https'}) == 200
        assert status({"Forwarded": 'for="[2001:db8:1:2::99]"'}) == 429
        # both headers at once: one was the client's, so neither is believed (the proxy's own bucket)
        assert status({"X-Forwarded-For": "198.51.100.20", "Forwarded": "for=198.51.100.21"}) == 200
        assert status({"X-Forwarded-For": "198.51.100.22", "Forwarded": "for=198.51.100.23"}) == 429


def test_a_wrong_api_key_opens_no_bucket_and_cannot_starve_the_key_holder(make_app) -> None:
    app = make_app(rate_limit=0.001, rate_burst=2, environ={"RAG_ORACLE_API_KEY": "k-right"})
    with local_client(app, client=("203.0.113.5", 4000)) as client:
        guesses = [client.get("/v1/sessions", headers={"Authorization": f"Bearer guess-{n}"}) for n in range(3)]
        assert [r.status_code for r in guesses] == [401, 401, 429]
        assert client.get("/v1/sessions", headers={"Authorization": "Bearer k-right"}).status_code == 200


# --- /healthz --------------------------------------------------------------------------------


def _break_by_corrupting(db: Path) -> None:
    for suffix in ("-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    db.write_bytes(b"this is not an SQLite file " * 100)


def _break_by_removing_the_folder(db: Path) -> None:
    shutil.rmtree(db.parent)


def _break_by_deleting_the_file(db: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)


def _break_by_making_it_read_only(db: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root writes to read-only files")
    for path in db.parent.iterdir():
        path.chmod(0o444)
    db.parent.chmod(0o555)


@pytest.mark.parametrize(
    "break_store",
    [_break_by_corrupting, _break_by_removing_the_folder, _break_by_deleting_the_file, _break_by_making_it_read_only],
)
def test_healthz_is_503_when_the_sessions_file_is_unusable(make_app, tmp_path: Path, break_store) -> None:
    db = tmp_path / "state" / "sessions.sqlite"
    app = make_app(db=db)
    try:
        with local_client(app, client=("203.0.113.9", 1)) as client:
            assert client.post("/v1/sessions", json={}).status_code == 201  # the file exists and is in use
            healthy = client.get("/healthz")
            assert healthy.status_code == 200 and healthy.json()["status"] == "ok"
            break_store(db)
            health = client.get("/healthz")
            assert health.status_code == 503, health.text
            assert healthy.json()["checks"] == {"index": "ok", "sessions": "ok"}
            body = health.json()
            assert body["status"] == "unhealthy" and body["checks"] == {"index": "ok", "sessions": "failed"}
            assert str(tmp_path) not in health.text and body["problems"] is None
        with local_client(app, client=("127.0.0.1", 1)) as local:  # a local operator learns what failed
            problems = local.get("/healthz").json()["problems"]
            assert str(db) in problems["sessions"]
    finally:
        if db.parent.exists():
            db.parent.chmod(0o755)


def test_healthz_shows_paths_only_to_authorised_callers(make_app, chat_index) -> None:
    _, index = chat_index
    app = make_app()
    with local_client(app, client=("203.0.113.9", 1)) as remote:
        health = remote.get("/healthz")
        assert health.status_code == 200
        assert str(index) not in health.text and "sessions.sqlite" not in health.text
        assert health.json()["index"] is None and health.json()["documents"] == 8  # the page still counts them
    with local_client(app, client=("127.0.0.1", 1)) as local:
        shown = local.get("/healthz").json()
        assert shown["index"] == str(index) and shown["sessions_db"].endswith("sessions.sqlite")

    keyed = make_app(environ={"RAG_ORACLE_API_KEY": "k-right"})
    with local_client(keyed, client=("127.0.0.1", 1)) as local:
        assert local.get("/healthz").json()["index"] is None  # with a key, being local is not enough
        assert local.get("/healthz", headers={"Authorization": "Bearer wrong"}).json()["index"] is None
        assert local.get("/healthz", headers={"Authorization": "Bearer k-right"}).json()["index"] == str(index)

    proxied = make_app(trusted_proxies=["127.0.0.1"])  # a remote client through a local proxy is remote
    with local_client(proxied, client=("127.0.0.1", 1)) as proxy:
        assert proxy.get("/healthz", headers={"X-Forwarded-For": "203.0.113.9"}).json()["index"] is None


# --- settings --------------------------------------------------------------------------------


def test_list_settings_come_from_the_environment_as_json(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in list(os.environ):
        if key.startswith("RAG_ORACLE_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    assert load_settings().server.allowed_hosts == ["localhost", "127.0.0.1", "::1"]
    monkeypatch.setenv("RAG_ORACLE_SERVER__ALLOWED_HOSTS", '["rag.example.org", "localhost"]')
    monkeypatch.setenv("RAG_ORACLE_SERVER__TRUSTED_PROXIES", '["10.0.0.0/8"]')
    server = load_settings().server
    assert server.allowed_hosts == ["rag.example.org", "localhost"] and server.trusted_proxies == ["10.0.0.0/8"]
    monkeypatch.delenv("RAG_ORACLE_SERVER__ALLOWED_HOSTS")
    monkeypatch.setenv("RAG_ORACLE_SERVER__TRUSTED_PROXIES", '["10.0.0.300"]')
    with pytest.raises(ConfigError, match=r"trusted_proxies.*10\.0\.0\.300"):
        load_settings()
    monkeypatch.delenv("RAG_ORACLE_SERVER__TRUSTED_PROXIES")
    for bad in ({"allowed_hosts": ["evil.example:8000"]}, {"allowed_origins": ["https://a.example/path"]}):
        with pytest.raises(ConfigError, match="allowed_"):
            load_settings().with_overrides({"server": bad})
