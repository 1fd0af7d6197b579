"""The HTTP API and web page (`rag-oracle serve`): FastAPI over `rag_oracle.chat.ChatService`.

Needs the `server` extra (fastapi, uvicorn, sse-starlette). See docs/server.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rag_oracle.optional import require

if TYPE_CHECKING:
    from fastapi import FastAPI

    from rag_oracle.chat import ChatService
    from rag_oracle.server.config import ServerConfig


def create_app(service: ChatService, config: ServerConfig | None = None, *, warm_up: bool = False) -> FastAPI:
    """The FastAPI app over `service` (imported lazily, with an install hint when the extra is missing).

    `warm_up=True` loads the model in the background at startup (/healthz says `starting` until then)."""
    for module in ("fastapi", "sse_starlette"):
        require(module, extra="server", purpose="The HTTP server", package=module.replace("_", "-"))
    from rag_oracle.server.app import create_app as _create_app

    return _create_app(service, config, warm_up=warm_up)


__all__ = ["create_app"]
