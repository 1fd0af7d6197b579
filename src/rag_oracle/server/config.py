"""What the operator sets for the HTTP server: limits, rate and the optional API key."""

from __future__ import annotations

import os
from dataclasses import dataclass

API_KEY_ENV = "RAG_ORACLE_API_KEY"


@dataclass(frozen=True)
class ServerConfig:
    """Server limits. `rate_limit` is requests per second per client (0 turns limiting off);
    `rate_burst` is how many may come at once. `api_key`, when set, is required as a Bearer token
    on every /v1 route; it comes from the environment only and is never logged.

    >>> ServerConfig(rate_limit=0).rate_limited
    False
    """

    max_body_bytes: int = 64 * 1024
    rate_limit: float = 5.0
    rate_burst: int = 20
    api_key: str | None = None
    model_name: str = "rag-oracle"

    @property
    def rate_limited(self) -> bool:
        return self.rate_limit > 0

    @classmethod
    def from_env(cls, **values: object) -> ServerConfig:
        """A config with the API key from $RAG_ORACLE_API_KEY (unset or empty: no auth)."""
        return cls(api_key=os.environ.get(API_KEY_ENV) or None, **values)  # type: ignore[arg-type]
