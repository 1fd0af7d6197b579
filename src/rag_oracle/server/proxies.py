"""The real client behind a reverse proxy: `X-Forwarded-For` / `Forwarded` believed only from `server.trusted_proxies`.

Anyone can send those headers, so from any other peer they are ignored: the client is the
address the connection came from. From a trusted proxy the client is the right-most address of
the chain that is not itself a trusted proxy (the one the nearest untrusted hop connected from;
addresses to its left were written by the client and prove nothing). A request carrying both
headers, or an entry that is not an IP address, keeps the proxy's own address: a proxy sets one
of them, so the other came from the client. `X-Forwarded-Proto` / `proto=` set the scheme, which
the Origin check compares with the browser's.

`rag-oracle serve` turns uvicorn's own proxy-headers handling off (it trusts 127.0.0.1 by
default and rewrites the client from the header); `ForwardedClient` does that job instead, in
the app, with the operator's list.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from starlette.types import ASGIApp, Receive, Scope, Send

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_ip(text: str) -> IpAddress | None:
    """An address from a peer or a forwarding header (`1.2.3.4:80`, `[::1]:80`, `"[::1]"`); IPv4-mapped
    IPv6 addresses as IPv4. None when it is not an address (`unknown`, an obfuscated `_id`).

    >>> parse_ip("[::ffff:127.0.0.1]:4711"), parse_ip("unknown")
    (IPv4Address('127.0.0.1'), None)
    """
    text = text.strip().strip('"')
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:  # IPv4 with a port
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text.split("%")[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def is_loopback(address: str | None) -> bool:
    """Whether a client address is this machine's (127.0.0.0/8, ::1)."""
    ip = parse_ip(address) if address else None
    return ip is not None and ip.is_loopback


def _values(scope: Scope, name: bytes) -> list[str]:
    """Every comma-separated entry of a header that may be sent several times, in order."""
    joined = ",".join(v.decode("latin-1") for k, v in scope.get("headers") or [] if k == name)
    return [part.strip() for part in joined.split(",") if part.strip()]


def _forwarded(scope: Scope) -> list[dict[str, str]]:
    """RFC 7239 `Forwarded` elements: `for=192.0.2.1;proto=https, for="[2001:db8::1]"` -> a dict each."""
    elements = []
    for element in _values(scope, b"forwarded"):
        pairs = {}
        for pair in element.split(";"):
            key, _, value = pair.partition("=")
            pairs[key.strip().lower()] = value.strip().strip('"')
        elements.append(pairs)
    return elements


class TrustedProxies:
    """Proxies (IP addresses or CIDR networks) whose forwarding headers name the client.

    >>> proxies = TrustedProxies(["10.0.0.0/8"])
    >>> proxies.client("10.0.0.5", [("x-forwarded-for", "6.6.6.6, 203.0.113.7, 10.0.0.9")])
    '203.0.113.7'
    >>> proxies.client("198.51.100.1", [("x-forwarded-for", "6.6.6.6")])  # not a proxy of ours
    '198.51.100.1'
    """

    def __init__(self, entries: Iterable[str]) -> None:
        self.networks = tuple(ipaddress.ip_network(e.strip(), strict=False) for e in entries)

    def __bool__(self) -> bool:
        return bool(self.networks)

    def trusts(self, address: str | IpAddress | None) -> bool:
        ip = parse_ip(address) if isinstance(address, str) else address
        return ip is not None and any(ip in network for network in self.networks)

    def resolve(self, scope: Scope) -> tuple[str, str] | None:
        """(client address, scheme) for a request from a trusted proxy; None to leave the scope as it is."""
        peer = (scope.get("client") or ("", 0))[0]
        if not self.trusts(peer):
            return None
        forwarded = _forwarded(scope)
        chain_xff = _values(scope, b"x-forwarded-for")
        scheme = scope.get("scheme", "http")
        if forwarded and chain_xff:
            return peer, scheme  # one of them is the client's own: believe neither
        if forwarded:
            chain = [element.get("for", "") for element in forwarded]
            protos = [element["proto"] for element in forwarded if "proto" in element]
        else:
            chain = chain_xff
            protos = _values(scope, b"x-forwarded-proto")
        if protos and protos[-1].lower() in ("http", "https"):
            scheme = protos[-1].lower()  # what the nearest proxy was reached with
        return self._client(peer, chain), scheme

    def _client(self, peer: str, chain: list[str]) -> str:
        client = peer
        for entry in reversed(chain):
            ip = parse_ip(entry)
            if ip is None:
                return client  # a malformed entry: keep the last address a trusted hop vouched for
            client = str(ip)
            if not self.trusts(ip):
                return client
        return client  # every hop is a trusted proxy: the left-most is the client

    def client(self, peer: str, headers: Iterable[tuple[str, str]]) -> str:
        """The client of a request from `peer` with `headers` (for examples and tests)."""
        scope = {"client": (peer, 0), "headers": [(k.lower().encode(), v.encode()) for k, v in headers]}
        resolved = self.resolve(scope)
        return resolved[0] if resolved else peer


class ForwardedClient:
    """Sets `scope["client"]` (and the scheme) from the forwarding headers of a trusted proxy."""

    def __init__(self, app: ASGIApp, proxies: TrustedProxies) -> None:
        self.app = app
        self.proxies = proxies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            resolved = self.proxies.resolve(scope)
            if resolved is not None:
                client, scheme = resolved
                if scope["type"] == "websocket":
                    scheme = {"http": "ws", "https": "wss"}[scheme] if scheme in ("http", "https") else scope["scheme"]
                scope = {**scope, "client": (client, 0), "scheme": scheme}
        await self.app(scope, receive, send)
