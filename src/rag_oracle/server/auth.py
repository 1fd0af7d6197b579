"""Optional API-key auth: when the server has a key, every /v1 route wants `Authorization: Bearer <key>`.

`presents_key` is the same comparison for middleware (the rate limit) and for /healthz, which
shows file paths only to callers that may see them (`may_see_paths`). `require_reviewer` decides
who may change an answer's review status: a key holder, or, without a key, this machine only.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.types import Scope

from rag_oracle.server.errors import ApiError
from rag_oracle.server.proxies import is_loopback

# auto_error=False: a missing header is ours to report, in our error format, and only when a key is set.
bearer = HTTPBearer(auto_error=False, description="The key in $RAG_ORACLE_API_KEY, when the server has one.")


def _matches(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def presents_key(scope: Scope, expected: str) -> bool:
    """Whether the request sends `Authorization: Bearer <expected>`."""
    for name, value in scope.get("headers") or []:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").strip().partition(" ")
            return scheme.lower() == "bearer" and _matches(token.strip(), expected)
    return False


def may_see_paths(request: Request) -> bool:
    """With an API key, callers that present it; without one, clients on this machine only."""
    expected = request.app.state.config.api_key
    if expected:
        return presents_key(request.scope, expected)
    return is_loopback(request.client.host if request.client else None)


def require_reviewer(request: Request) -> None:
    """Who may review answers: with an API key, whoever presents it (`require_api_key` has already
    checked it on every /v1 route); without one, clients on this machine only, as for `may_see_paths`.
    Anyone else gets 403."""
    if request.app.state.config.api_key:
        return
    if not is_loopback(request.client.host if request.client else None):
        raise ApiError(
            403,
            "review_not_allowed",
            "reviewing answers from another machine needs an API key: start the server with "
            "RAG_ORACLE_API_KEY set and send it as 'Authorization: Bearer <key>'",
        )


def require_api_key(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> None:
    expected = request.app.state.config.api_key
    if not expected:
        return
    given = credentials.credentials if credentials is not None else ""
    if not _matches(given, expected):
        reason = "missing" if not given else "wrong"
        raise ApiError(
            401,
            "unauthorized",
            f"API key {reason}: send the server's key as 'Authorization: Bearer <key>'",
            {"WWW-Authenticate": "Bearer"},
        )
