"""The FastAPI application: routes, limits, auth, who may call, error mapping and the web page.

The app is built around one `ChatService` (one opened index, loaded once at startup); routes
translate HTTP into calls on it and library errors into JSON errors, nothing more.

With `warm_up=True` (what `rag-oracle serve` runs) the app's startup loads the embedding model
and answers one question in a background thread, so it listens at once; /healthz answers 503
`starting` until that has finished, and a request that may embed text (every POST under /v1, and
GET /v1/search) waits for it instead of loading the model itself.

Example::

    settings = load_settings()
    service = ChatService(RagOracle("indexes/sample", settings), SessionStore(settings.chat.db or None))
    app = create_app(service, ServerConfig.from_settings(settings.server), warm_up=True)
    uvicorn.run(app, host="127.0.0.1", port=8000)
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI, Request, Response
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rag_oracle.chat import ChatService
from rag_oracle.server.auth import may_see_paths, require_api_key
from rag_oracle.server.config import ServerConfig
from rag_oracle.server.errors import install_error_handlers
from rag_oracle.server.health import WarmUp, run_checks
from rag_oracle.server.hosts import HostAllowList, HostCheck, OriginCheck
from rag_oracle.server.limits import BodySizeLimit, RateLimit, TokenBucket
from rag_oracle.server.models import ERROR_RESPONSES, Health
from rag_oracle.server.openai_compat import router as openai_router
from rag_oracle.server.proxies import ForwardedClient, TrustedProxies
from rag_oracle.server.routes_answers import router as answers_router
from rag_oracle.server.routes_sessions import router as sessions_router
from rag_oracle.version import __version__

STATIC_DIR = Path(__file__).parent / "static"
_WARM_UP_POLL = 0.05  # seconds between looks at the warm-up by a request waiting for it
# The page loads nothing from anywhere but this server.
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


class SecurityHeaders:
    """Adds a content security policy and no-sniff to every response that lacks them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                if b"content-security-policy" not in names:
                    headers.append((b"content-security-policy", _CSP.encode()))
                headers.append((b"x-content-type-options", b"nosniff"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers if scope["type"] == "http" else send)


async def wait_for_warm_up(request: Request) -> None:
    """Hold a request that may embed text until the startup warm-up has finished (a route dependency).

    Without it, a question arriving while the model loads would load it too (the loader's lock
    makes it wait anyway) and a cached one would race the warm-up; reads of stored sessions and
    documents need no model and go through at once. It waits on the event loop, not in a worker
    thread: a crowd of early questions must not take every thread and leave /healthz unanswered.
    """
    warm_up: WarmUp | None = request.app.state.warm_up
    if warm_up is None or (request.method in {"GET", "HEAD", "DELETE"} and request.url.path != "/v1/search"):
        return
    warm_up.start()  # served without the lifespan (uvicorn lifespan="off"): the first request starts it
    while not warm_up.wait(0):
        await asyncio.sleep(_WARM_UP_POLL)


def create_app(service: ChatService, config: ServerConfig | None = None, *, warm_up: bool = False) -> FastAPI:
    """The HTTP API and web page over `service`; `config` defaults to the service's `[server]` settings.

    `warm_up`: load the model at startup, in the background (module docstring); without it the
    model loads on the first request that needs it, and /healthz has no `model` check.
    """
    config = config or ServerConfig.from_settings(service.oracle.settings.server)
    loader = WarmUp(service.warm_up) if warm_up else None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if loader is not None:
            loader.start()
        yield

    app = FastAPI(
        title="rag-oracle",
        version=__version__,
        description="Cited answers to clinical questions from the indexed literature. Not medical advice.",
        # The interactive docs pages load their scripts from a CDN; the schema stays at /openapi.json.
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.service = service
    app.state.config = config
    app.state.warm_up = loader
    app.state.started = int(time.time())
    install_error_handlers(app)

    # The key is checked first: a caller without it is refused at once, not after the warm-up.
    protected = [Depends(require_api_key), Depends(wait_for_warm_up)]
    for router in (answers_router, sessions_router, openai_router):
        app.include_router(router, dependencies=protected, responses=ERROR_RESPONSES)

    @app.get(
        "/healthz",
        response_model=Health,
        tags=["health"],
        summary="Liveness, readiness and what is served",
        responses={
            503: {
                "model": Health,
                "description": "Still loading the model (`starting`) or a check failed (`unhealthy`; `checks` says which).",
            }
        },
    )
    def healthz(request: Request, response: Response) -> Health:
        """200 when the model is loaded and the index and the sessions file are usable; 503 `starting`
        while the model loads, 503 `unhealthy` when a check failed. Paths only for authorised callers."""
        problems = run_checks(service)
        checks: dict[str, str] = {name: "ok" if problem is None else "failed" for name, problem in problems.items()}
        failed = {name: problem for name, problem in problems.items() if problem is not None}
        if loader is not None:
            checks["model"] = loader.state
            if checks["model"] == "failed":
                failed["model"] = loader.problem or "the warm-up failed"
        loading = checks.get("model") == "loading"
        status = "unhealthy" if failed else "starting" if loading else "ok"
        authorised = may_see_paths(request)
        response.status_code = 200 if status == "ok" else 503
        response.headers["Cache-Control"] = "no-store"
        index = service.oracle.index
        return Health(
            status=status,
            ready=checks.get("model", "ok") == "ok",
            checks=checks,
            version=__version__,
            documents=len(index.documents),
            chunks=len(index.chunks),
            generator=service.oracle.settings.answer.generator,
            auth=bool(config.api_key),
            index=service.index_path if authorised else None,
            sessions_db=str(service.store.path) if authorised else None,
            problems=failed if authorised and failed else None,
            workers=config.workers,
            worker=os.getpid() if authorised else None,
        )

    @app.api_route("/", methods=["GET", "HEAD"], include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    # Added innermost first. A request meets: security headers, the Host check, the real client
    # behind a trusted proxy (the Origin check needs its scheme, the rate limit its address), the
    # Origin check, then the limits, all before anything reads the body.
    if config.rate_limited:
        bucket = TokenBucket(config.rate_limit, config.rate_burst)
        app.add_middleware(RateLimit, bucket=bucket, api_key=config.api_key)
    app.add_middleware(BodySizeLimit, max_bytes=config.max_body_bytes)
    app.add_middleware(OriginCheck, allowed_origins=config.allowed_origins)
    if config.trusted_proxies:
        app.add_middleware(ForwardedClient, proxies=TrustedProxies(config.trusted_proxies))
    app.add_middleware(HostCheck, hosts=HostAllowList(config.allowed_hosts))
    app.add_middleware(SecurityHeaders)
    return app
