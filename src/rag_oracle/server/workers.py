"""Serving from several processes (`rag-oracle serve --workers N`).

One process composes one answer at a time: composition is pure Python, so a process's request
threads take turns on the GIL and a second core stays mostly idle (about 11 /v1/ask a second on
the sample index, whatever the number of clients). With `workers > 1` uvicorn starts that many
processes accepting connections from one listening socket, and supervises them (restarts one
that dies). Each worker is a whole server built by `worker_app()` from a `WorkerSpec` the parent
leaves in the environment: the settings as the parent resolved them (defaults, project file,
environment, flags), the index and the sessions file. The API key is not in it; each worker reads
it from the variable `server.api_key_env` names, as a single process does.

What the workers share, and what each has its own:

- The index: opened read-only by each. Its arrays are memory-mapped and its store.sqlite is an
  immutable file, so the operating system's page cache holds them once for all workers.
- The sessions file (`chat.db`): one SQLite file in WAL mode; every call opens its own connection,
  writes are `BEGIN IMMEDIATE` transactions and a busy timeout of 30 s waits out another worker's
  write. A session created through one worker is visible at once through every other. WAL needs
  shared memory between the processes: keep the file on a local disk, not a network share.
- The embedding cache: one SQLite file per model, made for several processes (embed/cache.py).
- The model: each worker loads its own at startup, in the background, as one process does; that
  and each process's Python heap are what a worker costs in memory (on the sample index about 250 MB
  resident, 185 MB of it its own).
- The rate limit: each worker keeps its own buckets. A client's keep-alive connection stays with
  one worker, but its next connection may land on another, so a client can make up to N times
  `server.rate_limit` requests a second; limit at the reverse proxy when that matters.
- /healthz: answered by whichever worker accepts the connection. `ready` is that worker's own
  state; `workers` says how many were started and `worker` (authorised callers) which answered. A
  question reaching a worker still loading its model waits for it, as with one process.

When to raise it: when several clients ask at once and the machine has cores to spare, about one
worker per core the server may use (more only adds memory and contention). Keep 1 (the default)
on a machine shared with other work, for one user, or with a sessions file on a network share.

Example::

    spec = WorkerSpec.from_settings(settings, index="indexes/sample", sessions_db="sessions.sqlite", workers=2)
    run_workers(spec)  # blocks until the server is stopped (SIGINT, SIGTERM)
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rag_oracle.errors import ConfigError
from rag_oracle.settings import Settings

if TYPE_CHECKING:
    from fastapi import FastAPI

    from rag_oracle.chat import ChatService

WORKER_SPEC_ENV = "RAG_ORACLE_WORKER_SPEC"
FACTORY = "rag_oracle.server.workers:worker_app"
# Seconds a worker may take to answer the supervisor's ping before it is killed and replaced
# (uvicorn's default is 5). A worker busy with 20 requests on a loaded 2-core machine answers
# late, not never; killing it would fail every request it holds.
HEALTHCHECK_TIMEOUT = 30
MAX_WORKERS = 64


@dataclass(frozen=True)
class WorkerSpec:
    """What every worker process builds its server from (sent through the environment as JSON).

    `settings` is `Settings.model_dump(mode="json")` of the parent's resolved settings; `index` the
    index directory (already built, so that N workers do not build the sample index at once);
    `sessions_db` the sessions file; `workers` how many processes serve.
    """

    settings: dict[str, Any]
    index: str
    sessions_db: str
    workers: int

    @classmethod
    def from_settings(cls, settings: Settings, *, index: str, sessions_db: str, workers: int) -> WorkerSpec:
        return cls(settings.model_dump(mode="json"), str(index), str(sessions_db), workers)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> WorkerSpec:
        try:
            data = json.loads(text)
            return cls(dict(data["settings"]), str(data["index"]), str(data["sessions_db"]), int(data["workers"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"${WORKER_SPEC_ENV} is not a worker specification ({exc})") from None

    def resolved_settings(self) -> Settings:
        """The parent's settings, as it resolved them: its values replace this process's own
        (the same environment and project file), so the environment cannot beat the parent's flags."""
        return Settings().with_overrides(self.settings)


def build_service(settings: Settings, index: str, sessions_db: str | None) -> ChatService:
    """The ChatService `rag-oracle serve` answers through: the index opened with `settings`, the
    sessions in `sessions_db` (None: `chat.db`, else the default file)."""
    from rag_oracle.api import RagOracle
    from rag_oracle.chat import ChatService, SessionStore

    oracle = RagOracle(index, settings)
    return ChatService(
        oracle,
        SessionStore(sessions_db or settings.chat.db or None),
        index_path=str(oracle.index.path),
        history_turns=settings.chat.history_turns,
    )


def worker_app() -> FastAPI:
    """The app of one worker process (uvicorn's factory, `FACTORY`): built from $RAG_ORACLE_WORKER_SPEC,
    warming up in the background like `rag-oracle serve` with one process."""
    from rag_oracle.server import create_app
    from rag_oracle.server.config import ServerConfig

    raw = os.environ.get(WORKER_SPEC_ENV)
    if not raw:
        raise ConfigError(
            f"${WORKER_SPEC_ENV} is not set: worker processes are started by 'rag-oracle serve --workers N'"
        )
    spec = WorkerSpec.from_json(raw)
    settings = spec.resolved_settings()
    service = build_service(settings, spec.index, spec.sessions_db)
    config = dataclasses.replace(ServerConfig.from_settings(settings.server), workers=spec.workers)
    return create_app(service, config, warm_up=True)


def run_workers(spec: WorkerSpec) -> None:
    """Serve with `spec.workers` processes on the spec's `server.host` and `server.port` until stopped."""
    from rag_oracle.optional import require

    uvicorn = require("uvicorn", extra="server", purpose="The HTTP server")
    if not 2 <= spec.workers <= MAX_WORKERS:
        raise ConfigError(f"workers must be between 2 and {MAX_WORKERS}, got {spec.workers}; 1 serves in-process")
    server = spec.resolved_settings().server
    previous = os.environ.get(WORKER_SPEC_ENV)
    os.environ[WORKER_SPEC_ENV] = spec.to_json()  # spawned workers start with a copy of this environment
    try:
        # proxy_headers=False as with one process (cli/serve.py says why).
        uvicorn.run(
            FACTORY,
            factory=True,
            workers=spec.workers,
            host=server.host,
            port=server.port,
            log_level=server.log_level,
            proxy_headers=False,
            timeout_worker_healthcheck=HEALTHCHECK_TIMEOUT,
        )
    finally:
        if previous is None:
            os.environ.pop(WORKER_SPEC_ENV, None)
        else:
            os.environ[WORKER_SPEC_ENV] = previous
