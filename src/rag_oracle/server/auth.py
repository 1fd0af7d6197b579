"""Optional API-key auth: when the server has a key, every /v1 route wants `Authorization: Bearer <key>`."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from rag_oracle.server.errors import ApiError

# auto_error=False: a missing header is ours to report, in our error format, and only when a key is set.
bearer = HTTPBearer(auto_error=False, description="The key in $RAG_ORACLE_API_KEY, when the server has one.")


def require_api_key(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> None:
    expected = request.app.state.config.api_key
    if not expected:
        return
    given = credentials.credentials if credentials is not None else ""
    if not hmac.compare_digest(given.encode(), expected.encode()):
        reason = "missing" if not given else "wrong"
        raise ApiError(
            401,
            "unauthorized",
            f"API key {reason}: send the server's key as 'Authorization: Bearer <key>'",
            {"WWW-Authenticate": "Bearer"},
        )
