"""What the HTTP app needs from the operator: limits, rate, the model name, the optional API key,
and who may call: the Host names it answers, the web origins that may change state, the proxies it believes.

Built from the `[server]` settings section (`ServerConfig.from_settings`); the API key is read
from the environment variable that `server.api_key_env` names, never from a settings file.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from rag_oracle.settings import DEFAULT_API_KEY_ENV, ServerSettings

API_KEY_ENV = DEFAULT_API_KEY_ENV
LOOPBACK_HOSTS = tuple(ServerSettings().allowed_hosts)  # localhost, 127.0.0.1, ::1


@dataclass(frozen=True)
class ServerConfig:
    """Server limits. `rate_limit` is requests per second per client (0 turns limiting off);
    `rate_burst` is how many may come at once. `api_key`, when set, is required as a Bearer token
    on every /v1 route; it comes from the environment only and is never logged. `allowed_hosts`,
    `allowed_origins` and `trusted_proxies` are the `[server]` settings of the same names
    (docs/server.md, "Who may call"). `workers` is how many processes serve (/healthz reports it);
    with more than one, each has its own rate-limit buckets (server/workers.py).

    >>> ServerConfig(rate_limit=0).rate_limited
    False
    >>> ServerConfig.from_settings(ServerSettings(max_body_kib=8), environ={}).max_body_bytes
    8192
    """

    max_body_bytes: int = 64 * 1024
    rate_limit: float = 5.0
    rate_burst: int = 20
    api_key: str | None = field(default=None, repr=False)  # never in a log or a traceback
    model_name: str = "rag-oracle"
    allowed_hosts: tuple[str, ...] = LOOPBACK_HOSTS
    allowed_origins: tuple[str, ...] = ()
    trusted_proxies: tuple[str, ...] = ()
    workers: int = 1  # processes serving the same socket (`rag-oracle serve --workers`; server/workers.py)

    @property
    def rate_limited(self) -> bool:
        return self.rate_limit > 0

    @classmethod
    def from_settings(cls, server: ServerSettings, environ: Mapping[str, str] | None = None) -> ServerConfig:
        """The config for `server` settings, with the key from the variable `server.api_key_env` names."""
        environ = os.environ if environ is None else environ
        return cls(
            max_body_bytes=server.max_body_kib * 1024,
            rate_limit=server.rate_limit,
            rate_burst=server.rate_burst,
            api_key=environ.get(server.api_key_env) or None,
            model_name=server.model_name,
            allowed_hosts=tuple(server.allowed_hosts),
            allowed_origins=tuple(server.allowed_origins),
            trusted_proxies=tuple(server.trusted_proxies),
        )

    @classmethod
    def from_env(cls, **values: object) -> ServerConfig:
        """A config with the API key from $RAG_ORACLE_API_KEY (unset or empty: no auth) and `values`."""
        return cls(api_key=os.environ.get(API_KEY_ENV) or None, **values)  # type: ignore[arg-type]
