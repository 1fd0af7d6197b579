"""`rag-oracle serve --workers N`: N processes on one port, sharing the index and the sessions file
(server/workers.py)."""

from __future__ import annotations

from tests.server.conftest import require_extra

require_extra()

import os  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import httpx  # noqa: E402
import pytest  # noqa: E402
from click.testing import CliRunner  # noqa: E402

from rag_oracle.cli.serve import serve  # noqa: E402
from rag_oracle.errors import ConfigError  # noqa: E402
from rag_oracle.server.config import ServerConfig  # noqa: E402
from rag_oracle.server.workers import FACTORY, WORKER_SPEC_ENV, WorkerSpec, worker_app  # noqa: E402
from tests.chat.chat_corpus import QUESTION  # noqa: E402
from tests.server.conftest import local_client  # noqa: E402
from tests.server.test_sessions import _serve, _stop  # noqa: E402


def test_bad_worker_counts_exit_2() -> None:
    for value in ("0", "65", "two"):
        result = CliRunner().invoke(serve, ["--workers", value])
        assert result.exit_code == 2 and value in result.output


def test_healthz_says_how_many_workers_and_which_answered(make_app) -> None:
    app = make_app(ServerConfig(rate_limit=0, workers=3))
    with local_client(app, client=("127.0.0.1", 5000)) as client:
        health = client.get("/healthz").json()
    assert (health["workers"], health["worker"]) == (3, os.getpid())
    with local_client(make_app()) as client:  # not a local client: no process id
        health = client.get("/healthz").json()
    assert (health["workers"], health["worker"]) == (1, None)


def test_serve_with_workers_hands_uvicorn_a_factory_that_builds_the_same_server(
    chat_index, tmp_path: Path, monkeypatch
) -> None:
    import uvicorn

    settings, index = chat_index
    monkeypatch.setenv("RAG_ORACLE_API_KEY", "k-secret")
    calls: list[dict] = []

    def run(app, **kwargs) -> None:  # what uvicorn's supervisor hands each worker: the environment
        calls.append({"app": app, **kwargs, "spec": os.environ.get(WORKER_SPEC_ENV), "built": worker_app()})

    monkeypatch.setattr(uvicorn, "run", run)
    configured = settings.with_overrides({"server": {"port": 9101, "rate_limit": 2, "log_level": "warning"}})
    db = tmp_path / "sessions.sqlite"
    flags = ["--index", str(index), "--db", str(db), "--workers", "3", "--rate-burst", "7"]
    result = CliRunner().invoke(serve, flags, obj={"settings": configured})
    assert result.exit_code == 0, result.output
    [call] = calls
    assert (call["app"], call["factory"], call["workers"], call["port"]) == (FACTORY, True, 3, 9101)
    assert call["proxy_headers"] is False and call["timeout_worker_healthcheck"] >= 5
    assert "k-secret" not in call["spec"]  # each worker reads the key from the environment itself
    app = call["built"]
    config = app.state.config
    assert (config.workers, config.rate_limit, config.rate_burst, config.api_key) == (3, 2, 7, "k-secret")
    served = app.state.service
    assert served.store.path == db and served.index_path == str(index)
    assert served.oracle.settings.embed == settings.embed and served.oracle.settings.server.rate_burst == 7
    assert app.state.warm_up is not None  # each worker loads its model at startup
    assert db.is_file()  # made once, by the parent, before the workers start
    assert WORKER_SPEC_ENV not in os.environ
    assert "a client may make up to 6 requests a second, not 2" in result.stderr


def test_a_worker_without_a_spec_says_who_starts_it(monkeypatch) -> None:
    monkeypatch.delenv(WORKER_SPEC_ENV, raising=False)
    with pytest.raises(ConfigError, match="--workers"):
        worker_app()
    with pytest.raises(ConfigError, match=WORKER_SPEC_ENV):
        WorkerSpec.from_json('{"settings": {}}')


def _one_connection_per_worker(url: str, workers: int) -> dict[int, httpx.Client]:
    """A keep-alive client pinned to each worker (a connection stays with the worker that accepted it)."""
    pinned: dict[int, httpx.Client] = {}
    deadline = time.monotonic() + 60
    while len(pinned) < workers and time.monotonic() < deadline:
        client = httpx.Client(base_url=url, timeout=60, limits=httpx.Limits(max_connections=1))
        health = client.get("/healthz")
        pid = health.json()["worker"]
        if health.status_code == 200 and pid not in pinned:
            pinned[pid] = client
        else:
            client.close()
            time.sleep(0.05)
    return pinned


def test_two_workers_answer_and_share_the_sessions_file(chat_index, tmp_path: Path) -> None:
    _, index = chat_index
    db = tmp_path / "sessions.sqlite"
    proc, url = _serve(index, db, index.parent.parent, "--workers", "2", "--rate-limit", "0", timeout=120)
    pinned: dict[int, httpx.Client] = {}
    try:
        pinned = _one_connection_per_worker(url, 2)
        assert len(pinned) == 2 and proc.pid not in pinned, "two worker processes, each ready, not the parent"
        (pid_a, a), (pid_b, b) = pinned.items()
        for client in (a, b):
            asked = client.post("/v1/ask", json={"question": QUESTION})
            assert asked.status_code == 200 and asked.json()["answer"]["references"][0]["doc_id"] == "clz-depression"
        assert a.get("/healthz").json()["worker"] == pid_a and b.get("/healthz").json()["worker"] == pid_b

        # created through one worker, continued through the other, read back through the first
        session_id = a.post("/v1/sessions", json={}).json()["id"]
        turn = b.post(f"/v1/sessions/{session_id}/messages", json={"content": QUESTION})
        assert turn.status_code == 200 and turn.json()["seq"] == 2
        messages = a.get(f"/v1/sessions/{session_id}").json()["messages"]
        assert [(m["seq"], m["role"]) for m in messages] == [(1, "user"), (2, "assistant")]

        # both workers writing turns of one session at once: every turn kept, none numbered twice
        seqs: list[int] = []

        def follow_up(client: httpx.Client) -> None:
            for _ in range(3):
                response = client.post(f"/v1/sessions/{session_id}/messages", json={"content": "and in the elderly?"})
                seqs.append(response.json()["seq"])

        threads = [threading.Thread(target=follow_up, args=(c,)) for c in (a, b)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert sorted(seqs) == [4, 6, 8, 10, 12, 14]
        listed = b.get("/v1/sessions").json()["sessions"]
        assert [(s["id"], s["message_count"]) for s in listed] == [(session_id, 14)]
    finally:
        for client in pinned.values():
            client.close()
        _stop(proc)
    for pid in pinned:  # stopping the parent stops its workers
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
