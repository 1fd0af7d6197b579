"""Who a request is for and where it comes from: the Host allow-list and the Origin check (ASGI middleware).

- `HostCheck`: a request whose Host header is not in `server.allowed_hosts` gets 400. A web page
  that rebinds its own DNS name to 127.0.0.1 (DNS rebinding) sends its own name as Host, so it is
  refused before it can read /v1/sessions.
- `OriginCheck`: a POST, PUT, PATCH or DELETE whose `Origin` is neither the server's own origin
  (the request's scheme, Host and port) nor in `server.allowed_origins` gets 403, and so does one
  marked `Sec-Fetch-Site: cross-site` by the browser. Requests without those headers (curl, SDKs,
  other servers) pass: only browsers send them, and only browsers can be made to send a request
  on someone else's behalf.

Starlette's `TrustedHostMiddleware` matches hosts the same way (names, `*.example.org`, `*`) but
answers in plain text; these answer in the API's JSON error format and name the setting to change.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

from rag_oracle.server.errors import error_body, send_json

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
_NAME = re.compile(r"[a-z0-9_-]+(\.[a-z0-9_-]+)*")
_SHOWN_CHARS = 100  # of a refused header, in the error message


def split_host(value: str) -> tuple[str, int | None]:
    """A Host header (or a host pattern) as (lower-case name without brackets or trailing dot, port).

    Raises ValueError for anything that is not a name or an IP address with an optional port.

    >>> split_host("Example.org:8000"), split_host("[::1]:80"), split_host("::1")
    (('example.org', 8000), ('::1', 80), ('::1', None))
    """
    value = value.strip().lower()
    port = ""
    if value.startswith("["):
        host, sep, rest = value[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            raise ValueError(value)
        port = rest[1:]
        ipaddress.IPv6Address(host.split("%")[0])
    elif value.count(":") > 1:  # a bare IPv6 address (in a pattern)
        host = value
        ipaddress.IPv6Address(host.split("%")[0])
    else:
        host, _, port = value.partition(":")
        host = host.rstrip(".")
        if not _NAME.fullmatch(host):
            raise ValueError(value)
    if port and (not port.isdigit() or int(port) > 65535):
        raise ValueError(value)
    return host, int(port) if port else None


class HostAllowList:
    """Host names a server answers, any port: exact names, `*.example.org` (its subdomains) or `*`.

    >>> hosts = HostAllowList(["localhost", "*.example.org"])
    >>> hosts.allows("LOCALHOST:8000"), hosts.allows("api.example.org"), hosts.allows("evil.example")
    (True, True, False)
    """

    def __init__(self, patterns: Iterable[str]) -> None:
        self.patterns = tuple(patterns)
        self.any = "*" in self.patterns
        self._names: set[str] = set()
        self._suffixes: list[str] = []
        for pattern in self.patterns:
            if pattern == "*":
                continue
            if pattern.startswith("*."):
                self._suffixes.append("." + split_host(pattern[2:])[0])
            else:
                self._names.add(split_host(pattern)[0])

    def allows(self, host_header: str) -> bool:
        if self.any:
            return True
        try:
            host, _ = split_host(host_header)
        except ValueError:
            return False
        return host in self._names or any(host.endswith(suffix) for suffix in self._suffixes)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers") or []:
        if key == name:
            return value.decode("latin-1")
    return None


def _shown(value: str) -> str:
    return repr(value if len(value) <= _SHOWN_CHARS else value[:_SHOWN_CHARS] + "…")


class HostCheck:
    """400 `host_not_allowed` for a request whose Host header is missing or not in `hosts`."""

    def __init__(self, app: ASGIApp, hosts: HostAllowList) -> None:
        self.app = app
        self.hosts = hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or self.hosts.any:
            await self.app(scope, receive, send)
            return
        host = _header(scope, b"host")
        if host is not None and self.hosts.allows(host):
            await self.app(scope, receive, send)
            return
        if host is None:
            message = "the request has no Host header; send the name of the server in it"
        else:
            message = (
                f"this server does not answer to the host name {_shown(host)}. If that is its name, add it to "
                "server.allowed_hosts (rag-oracle serve --allowed-host NAME, or "
                "RAG_ORACLE_SERVER__ALLOWED_HOSTS='[\"NAME\"]')"
            )
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        await send_json(send, 400, error_body("host_not_allowed", message))


def origin_of(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an origin such as `https://rag.example.org`; None if it is not one.

    >>> origin_of("http://localhost:8000"), origin_of("https://Example.org"), origin_of("null")
    (('http', 'localhost', 8000), ('https', 'example.org', 443), None)
    """
    try:
        parts = urlsplit(url.strip())
        if parts.scheme not in _DEFAULT_PORTS or not parts.netloc or "@" in parts.netloc:
            return None
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            return None
        host, port = split_host(parts.netloc)
    except ValueError:
        return None
    return parts.scheme, host, port if port is not None else _DEFAULT_PORTS[parts.scheme]


class OriginCheck:
    """403 `origin_not_allowed` for a state-changing request a browser sent from another site."""

    def __init__(self, app: ASGIApp, allowed_origins: Iterable[str] = ()) -> None:
        self.app = app
        self.allowed = {o for o in map(origin_of, allowed_origins) if o is not None}

    def _own(self, scope: Scope) -> tuple[str, str, int] | None:
        scheme = scope.get("scheme", "http")
        try:
            host, port = split_host(_header(scope, b"host") or "")
        except ValueError:
            return None
        return scheme, host, port if port is not None else _DEFAULT_PORTS.get(scheme, 80)

    def refusal(self, scope: Scope) -> str | None:
        """Why the request is refused, or None."""
        origin = _header(scope, b"origin")
        if origin is not None:
            parsed = origin_of(origin)
            if parsed is not None and (parsed in self.allowed or parsed == self._own(scope)):
                return None
            return (
                f"requests from the web origin {_shown(origin)} may not change anything on this server. If that "
                "page is yours, add its origin to server.allowed_origins (rag-oracle serve --allowed-origin "
                "ORIGIN, or RAG_ORACLE_SERVER__ALLOWED_ORIGINS='[\"ORIGIN\"]')"
            )
        if (_header(scope, b"sec-fetch-site") or "").strip().lower() == "cross-site":
            return (
                "cross-site requests (Sec-Fetch-Site: cross-site) may not change anything on this server; "
                "a page of another site allowed in server.allowed_origins must send its Origin"
            )
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("method") in STATE_CHANGING:
            message = self.refusal(scope)
            if message is not None:
                await send_json(send, 403, error_body("origin_not_allowed", message))
                return
        await self.app(scope, receive, send)
