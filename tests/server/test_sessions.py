"""Conversations over HTTP: follow-ups, export, delete, and sessions surviving a server restart."""

from __future__ import annotations

from tests.server.conftest import require_extra

require_extra()

import socket  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import httpx  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

from tests.chat.chat_corpus import QUESTION, server_env  # noqa: E402


def test_conversation_over_http(client: TestClient) -> None:
    created = client.post("/v1/sessions", json={"settings": {"answer": {"audience": "patient"}}})
    assert created.status_code == 201
    session_id = created.json()["id"]
    assert created.json()["settings"] == {"answer": {"audience": "patient"}}

    first = client.post(f"/v1/sessions/{session_id}/messages", json={"content": QUESTION}).json()
    assert first["seq"] == 2 and first["session_id"] == session_id
    follow = client.post(f"/v1/sessions/{session_id}/messages", json={"content": "and in the elderly?"}).json()
    assert follow["standalone_question"] == "What is the dose of clonazepam for depression in the elderly?"
    assert follow["answer"]["references"][0]["doc_id"] == "clz-elderly"

    listed = client.get("/v1/sessions").json()["sessions"]
    assert [(s["id"], s["message_count"], s["title"]) for s in listed] == [(session_id, 4, QUESTION)]
    full = client.get(f"/v1/sessions/{session_id}").json()
    assert [m["role"] for m in full["messages"]] == ["user", "assistant", "user", "assistant"]

    exported = client.get(f"/v1/sessions/{session_id}/export", params={"format": "markdown"})
    assert exported.headers["content-type"].startswith("text/markdown")
    assert "attachment" in exported.headers["content-disposition"]
    assert "*Searched as:* What is the dose of clonazepam for depression in the elderly?" in exported.text
    as_json = client.get(f"/v1/sessions/{session_id}/export").json()
    assert as_json["session"]["messages"][3]["answer"]["references"][0]["doc_id"] == "clz-elderly"
    assert client.get(f"/v1/sessions/{session_id}/export", params={"format": "pdf"}).status_code == 422

    assert client.delete(f"/v1/sessions/{session_id}").status_code == 204
    assert client.get(f"/v1/sessions/{session_id}").json()["error"]["code"] == "session_not_found"
    assert client.get("/v1/sessions").json()["sessions"] == []


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(index: Path, db: Path, root: Path, *extra: str, timeout: float = 90) -> tuple[subprocess.Popen, str]:
    """`python -m rag_oracle.server --index ... --db ... [extra]` (what `rag-oracle serve` runs), once healthy."""
    port = _free_port()
    proc = subprocess.Popen(
        [
            *[sys.executable, "-m", "rag_oracle.server", "--index", str(index), "--db", str(db)],
            *["--port", str(port), *extra],
        ],
        env=server_env(root),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited: {proc.stdout.read()}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return proc, url
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise AssertionError(f"server did not become healthy in {timeout:.0f} s")


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def test_sessions_survive_a_restart(chat_index, tmp_path: Path) -> None:
    _, index = chat_index
    db = tmp_path / "sessions.sqlite"
    root = index.parent.parent  # where the index's embedding cache lives
    proc, url = _serve(index, db, root)
    try:
        session_id = httpx.post(f"{url}/v1/sessions", json={}).json()["id"]
        httpx.post(f"{url}/v1/sessions/{session_id}/messages", json={"content": QUESTION}, timeout=60)
    finally:
        _stop(proc)

    proc, url = _serve(index, db, root)  # a new process on the same --db
    try:
        listed = httpx.get(f"{url}/v1/sessions").json()["sessions"]
        assert [s["id"] for s in listed] == [session_id]
        session = httpx.get(f"{url}/v1/sessions/{session_id}").json()
        assert session["messages"][0]["content"] == QUESTION
        assert session["messages"][1]["answer"]["references"][0]["doc_id"] == "clz-depression"
        # and the conversation goes on with its context
        follow = httpx.post(
            f"{url}/v1/sessions/{session_id}/messages", json={"content": "and in the elderly?"}, timeout=60
        ).json()
        assert follow["seq"] == 4 and "clonazepam" in follow["standalone_question"]
    finally:
        _stop(proc)
