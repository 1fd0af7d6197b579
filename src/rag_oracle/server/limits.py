"""Request limits as ASGI middleware, applied before a body is parsed: size and rate.

- Bodies over `max_body_bytes` are refused with 413, whether or not Content-Length is sent.
- Each client has a token bucket of `rate_burst` tokens refilled at `rate_limit` per second; a
  /v1 request without a token gets 429 with Retry-After (whole seconds).

A client is its address (`scope["client"]`: the connection's peer, or the client a trusted proxy
names, see proxies.py; never a header the client wrote itself), an IPv6 address counted by its
/64 network (one machine usually has a whole /64 to pick addresses from). When the server has an
API key, requests that present it have a bucket of their own per address, so that callers
without the key (a wrong key included: guessing keys is limited too) cannot use up the key
holders' bucket; a wrong key can never open a fresh bucket.
"""

from __future__ import annotations

import ipaddress
import math
import threading
import time
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rag_oracle.server.auth import presents_key
from rag_oracle.server.errors import error_body, send_json
from rag_oracle.server.proxies import parse_ip

RATE_LIMITED_PREFIX = "/v1/"
_MAX_CLIENTS = 10_000


class TokenBucket:
    """Per-key token buckets. `take(key)` is 0.0 when a request may go ahead, else the seconds to wait.

    >>> bucket = TokenBucket(rate=1.0, burst=1, clock=lambda: 0.0)
    >>> bucket.take("a"), bucket.take("a")
    (0.0, 1.0)
    """

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = max(1, burst)
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, time of last update)
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                wait = 0.0
            else:
                self._buckets[key] = (tokens, now)
                wait = (1.0 - tokens) / self.rate
            if len(self._buckets) > _MAX_CLIENTS:
                self._forget_idle(now)
        return wait

    def _forget_idle(self, now: float) -> None:
        # A bucket that has refilled completely holds nothing worth remembering.
        full_after = self.burst / self.rate
        for key in [k for k, (_, last) in self._buckets.items() if now - last >= full_after]:
            del self._buckets[key]


class BodySizeLimit:
    """Refuses request bodies larger than `max_bytes` with 413."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        message = f"the request body is larger than {self.max_bytes} bytes"
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await send_json(send, 413, error_body("payload_too_large", message))
            return
        received = 0
        started = False
        refused = False

        async def limited_receive() -> Message:
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            msg = await receive()
            if msg["type"] == "http.request":
                received += len(msg.get("body", b""))
                if received > self.max_bytes:
                    # Answer now and tell the app the client has gone; whatever it sends after is dropped
                    # (raising here would be turned into a 400 by the framework's body parsing).
                    refused = True
                    if not started:
                        await send_json(send, 413, error_body("payload_too_large", message))
                    return {"type": "http.disconnect"}
            return msg

        async def tracking_send(msg: Message) -> None:
            nonlocal started
            if refused:
                return
            started = started or msg["type"] == "http.response.start"
            await send(msg)

        await self.app(scope, limited_receive, tracking_send)


def client_key(scope: Scope, api_key: str | None = None) -> str:
    """The rate-limit bucket of a request: its client address (IPv6 by /64), plus `+key` when it
    presents the server's API key.

    >>> client_key({"client": ("2001:db8::1", 5), "headers": []})
    '2001:db8::/64'
    """
    client = scope.get("client")
    address = client[0] if client else "unknown"
    ip = parse_ip(address)
    if isinstance(ip, ipaddress.IPv6Address) and not ip.is_loopback:
        address = str(ipaddress.IPv6Network((ip, 64), strict=False))
    elif ip is not None:
        address = str(ip)
    if api_key and presents_key(scope, api_key):
        address += " +key"
    return address


class RateLimit:
    """429 with Retry-After once a client has used up its bucket (only /v1 routes are limited)."""

    def __init__(self, app: ASGIApp, bucket: TokenBucket, api_key: str | None = None) -> None:
        self.app = app
        self.bucket = bucket
        self.api_key = api_key

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("path", "").startswith(RATE_LIMITED_PREFIX):
            wait = self.bucket.take(client_key(scope, self.api_key))
            if wait > 0:
                seconds = max(1, math.ceil(wait))
                body = error_body("rate_limited", f"too many requests; retry in {seconds} s")
                await send_json(send, 429, body, {"Retry-After": str(seconds)})
                return
        await self.app(scope, receive, send)
