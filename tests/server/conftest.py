"""Fixtures for the HTTP server: the chat corpus index, an app over it, and a real uvicorn server."""

from __future__ import annotations

import importlib.util
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from rag_oracle import RagOracle
from rag_oracle.chat import ChatService, SessionStore
from rag_oracle.server import create_app
from rag_oracle.server.config import ServerConfig
from rag_oracle.settings import Settings
from tests.chat.chat_corpus import build_chat_index

if TYPE_CHECKING:
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

SERVER_EXTRA = ("fastapi", "uvicorn", "sse_starlette")
# The Host a local browser or curl sends; TestClient's own "testserver" is not an allowed host.
LOCAL_URL = "http://localhost"


def require_extra(*modules: str) -> None:
    """Skip the calling test module when the server extra (or `modules`) is missing; under CI, fail:
    CI installs every extra, so a missing one is a broken install, not a reason to test less."""
    missing = [m for m in (*SERVER_EXTRA, *modules) if importlib.util.find_spec(m) is None]
    if not missing:
        return
    message = f"missing {', '.join(missing)}: pip install -e '.[server,dev]'"
    if os.environ.get("CI"):
        raise ImportError(message)
    pytest.skip(message, allow_module_level=True)


@pytest.fixture(scope="session")
def chat_index(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, Path]:
    return build_chat_index(tmp_path_factory.mktemp("server"))


@pytest.fixture(scope="session")
def chat_oracle(chat_index) -> RagOracle:
    settings, path = chat_index
    return RagOracle(path, settings)


@pytest.fixture
def make_app(chat_oracle: RagOracle, tmp_path: Path) -> Callable[..., FastAPI]:
    """An app over the chat index with its own sessions file; limits off unless a config is given."""

    def make(config: ServerConfig | None = None, oracle: RagOracle | None = None, db: Path | None = None) -> FastAPI:
        service = ChatService(oracle or chat_oracle, SessionStore(db or tmp_path / "sessions.sqlite"))
        return create_app(service, config or ServerConfig(rate_limit=0))

    return make


def local_client(app: FastAPI, **kwargs) -> TestClient:
    """A TestClient that calls `app` as http://localhost (kwargs: TestClient's, e.g. client=(ip, port))."""
    from fastapi.testclient import TestClient

    return TestClient(app, base_url=kwargs.pop("base_url", LOCAL_URL), **kwargs)


@pytest.fixture
def client(make_app) -> Iterator[TestClient]:
    with local_client(make_app()) as test_client:
        yield test_client


@contextmanager
def running(app: FastAPI) -> Iterator[str]:
    """The app served by a real uvicorn on a free loopback port (in a thread); yields its base URL.

    Warmed up first, as `rag-oracle serve` does: the first answer of a process is the slow one.
    """
    import uvicorn

    warm_up = getattr(app.state, "warm_up", None)  # an app that warms up: its warm-up runs here (no lifespan)
    if warm_up is not None:
        warm_up.run()
    else:
        app.state.service.warm_up()

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    # proxy_headers=False as `rag-oracle serve` runs it (cli/serve.py)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off", proxy_headers=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


@pytest.fixture
def live_url(make_app) -> Iterator[str]:
    with running(make_app()) as url:
        yield url
