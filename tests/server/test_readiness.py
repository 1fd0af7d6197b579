"""Readiness: the server listens at once, loads the model in the background, and /healthz says when
it is ready; questions sent meanwhile wait for the load instead of failing or loading it again."""

from __future__ import annotations

from tests.server.conftest import local_client, require_extra

require_extra()

import threading  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import httpx  # noqa: E402
import pytest  # noqa: E402

from rag_oracle import RagOracle  # noqa: E402
from rag_oracle.chat import ChatService, SessionStore  # noqa: E402
from rag_oracle.errors import EmbedderError  # noqa: E402
from rag_oracle.server.app import create_app  # noqa: E402
from rag_oracle.server.config import ServerConfig  # noqa: E402
from rag_oracle.server.health import WarmUp  # noqa: E402
from tests.chat.chat_corpus import QUESTION  # noqa: E402
from tests.server.conftest import running  # noqa: E402


class GatedWarmUp:
    """A warm-up that takes as long as the test wants: it runs the real one once released."""

    def __init__(self, service: ChatService, fail: Exception | None = None) -> None:
        self.real = service.warm_up
        self.fail = fail
        self.started = threading.Event()
        self.release = threading.Event()
        self.finished_at: float | None = None

    def __call__(self) -> None:
        self.started.set()
        assert self.release.wait(30), "the test never released the warm-up"
        try:
            if self.fail is not None:
                raise self.fail
            self.real()
        finally:
            self.finished_at = time.monotonic()


@pytest.fixture
def gated(chat_oracle: RagOracle, tmp_path: Path):
    """(app warming up in the background, its gated warm-up); `fail` makes the warm-up raise."""

    def make(fail: Exception | None = None, config: ServerConfig | None = None):
        service = ChatService(chat_oracle, SessionStore(tmp_path / "sessions.sqlite"))
        # Warm for real first, so a question that is not held is answered in milliseconds (the first
        # question of a process fills caches for seconds, which would look like being held).
        service.warm_up()
        warm_up = GatedWarmUp(service, fail)
        service.warm_up = warm_up  # type: ignore[method-assign]
        return create_app(service, config or ServerConfig(rate_limit=0), warm_up=True), warm_up

    return make


def test_healthz_is_503_starting_while_the_model_loads_then_200_ok(gated) -> None:
    app, warm_up = gated()
    with local_client(app) as client:  # entering runs the lifespan, which starts the warm-up
        assert warm_up.started.wait(10)
        loading = client.get("/healthz")
        assert loading.status_code == 503
        body = loading.json()
        assert body["status"] == "starting" and body["ready"] is False
        assert body["checks"] == {"index": "ok", "sessions": "ok", "model": "loading"}
        assert loading.headers["cache-control"] == "no-store"

        warm_up.release.set()
        deadline = time.monotonic() + 30
        while (ready := client.get("/healthz")).status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert ready.status_code == 200
        body = ready.json()
        assert body["status"] == "ok" and body["ready"] is True
        assert body["checks"] == {"index": "ok", "sessions": "ok", "model": "ok"}


def test_a_question_sent_while_loading_waits_for_the_model_and_is_answered(gated) -> None:
    app, warm_up = gated()
    answered: dict[str, object] = {}
    with local_client(app) as client:
        assert warm_up.started.wait(10)

        def ask() -> None:
            response = client.post("/v1/ask", json={"question": QUESTION})
            answered["status"], answered["at"] = response.status_code, time.monotonic()
            answered["references"] = len(response.json()["answer"]["references"])

        asking = threading.Thread(target=ask)
        asking.start()
        asking.join(0.5)
        assert asking.is_alive() and not answered  # held, not refused and not answered without the model
        # Reading stored conversations needs no model: it is not held.
        assert client.get("/v1/sessions").status_code == 200
        warm_up.release.set()
        asking.join(30)
    assert answered["status"] == 200 and answered["references"]
    assert warm_up.finished_at is not None and answered["at"] >= warm_up.finished_at


def test_a_crowd_of_early_questions_does_not_keep_healthz_from_answering(gated) -> None:
    app, warm_up = gated()
    with local_client(app) as client:
        assert warm_up.started.wait(10)
        statuses: list[int] = []
        crowd = [  # more than the 40 worker threads that sync routes and dependencies run in
            threading.Thread(
                target=lambda: statuses.append(client.post("/v1/ask", json={"question": QUESTION}).status_code)
            )
            for _ in range(45)
        ]
        for thread in crowd:
            thread.start()
        time.sleep(0.5)
        answered: list[int] = []
        probe = threading.Thread(target=lambda: answered.append(client.get("/healthz").status_code))
        probe.start()
        probe.join(5)
        released_after_probe = not probe.is_alive()
        warm_up.release.set()
        for thread in [probe, *crowd]:
            thread.join(60)
    assert released_after_probe and answered == [503]  # answered while the questions waited
    assert statuses == [200] * 45


def test_a_failed_warm_up_is_unhealthy_and_says_why_only_to_local_callers(gated) -> None:
    app, warm_up = gated(fail=EmbedderError("cannot load embedding model 'nowhere/model': it is not a local directory"))
    warm_up.release.set()
    with local_client(app, client=("203.0.113.9", 1)) as remote:
        assert app.state.warm_up.wait(30)
        health = remote.get("/healthz")
        assert health.status_code == 503
        body = health.json()
        assert body["status"] == "unhealthy" and body["ready"] is False
        assert body["checks"]["model"] == "failed" and body["problems"] is None
        # Questions are no longer held: the pipeline loads what it needs (here the hash embedder) itself.
        assert remote.post("/v1/ask", json={"question": QUESTION}).status_code == 200
    with local_client(app, client=("127.0.0.1", 1)) as local:
        assert "nowhere/model" in local.get("/healthz").json()["problems"]["model"]


def test_an_app_without_warm_up_is_ready_at_once_and_has_no_model_check(make_app) -> None:
    with local_client(make_app()) as client:
        health = client.get("/healthz")
    assert health.status_code == 200 and health.json()["ready"] is True and "model" not in health.json()["checks"]


def test_served_without_the_lifespan_the_warm_up_runs_before_listening(chat_oracle, tmp_path: Path) -> None:
    # tests/server/conftest.py::running serves with lifespan="off" and warms up first, as serve used to
    service = ChatService(chat_oracle, SessionStore(tmp_path / "sessions.sqlite"))
    app = create_app(service, ServerConfig(rate_limit=0), warm_up=True)
    with running(app) as url:
        health = httpx.get(f"{url}/healthz", timeout=10)
        assert health.status_code == 200 and health.json()["checks"]["model"] == "ok"
        assert httpx.post(f"{url}/v1/ask", json={"question": QUESTION}, timeout=30).status_code == 200


def test_warm_up_runs_its_load_once_and_reports_the_error() -> None:
    calls: list[int] = []
    once = WarmUp(lambda: calls.append(1))
    assert once.state == "loading" and not once.wait(0)
    once.run()
    once.run()
    once.start()
    assert calls == [1] and once.state == "ok" and once.problem is None and once.wait(0)

    def broken() -> None:
        raise ValueError("bad weights")

    failing = WarmUp(broken)
    failing.start()
    assert failing.wait(10)
    assert failing.state == "failed" and failing.problem == "ValueError: bad weights"
