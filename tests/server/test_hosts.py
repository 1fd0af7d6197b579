"""Who is calling, unit by unit: Host patterns, origins, forwarding chains (the routes are in tests/reliability)."""

from __future__ import annotations

from tests.server.conftest import require_extra

require_extra()

import doctest  # noqa: E402

import pytest  # noqa: E402

from rag_oracle.server import config, hosts, limits, proxies  # noqa: E402
from rag_oracle.server.hosts import HostAllowList, origin_of, split_host  # noqa: E402
from rag_oracle.server.proxies import TrustedProxies  # noqa: E402


@pytest.mark.parametrize("module", [config, hosts, limits, proxies], ids=lambda m: m.__name__)
def test_docstring_examples_hold(module) -> None:
    assert doctest.testmod(module).failed == 0


@pytest.mark.parametrize(
    "header", ["", "evil.example@localhost", "localhost:80:80", "localhost:99999", "[::1", "[nope]:80", "a b"]
)
def test_malformed_host_headers_are_not_allowed(header: str) -> None:
    with pytest.raises(ValueError):
        split_host(header)
    assert not HostAllowList(["localhost", "::1"]).allows(header)


def test_host_patterns() -> None:
    allowed = HostAllowList(["localhost", "[::1]", "*.example.org", "rag.lan."])
    assert allowed.allows("localhost.") and allowed.allows("[::1]:8000") and allowed.allows("rag.lan:80")
    assert allowed.allows("a.b.example.org") and not allowed.allows("example.org")
    assert not allowed.allows("evilexample.org") and not allowed.allows("localhost.evil.example")
    assert HostAllowList(["*"]).allows("anything")


def test_origins() -> None:
    assert origin_of("http://localhost") == ("http", "localhost", 80)
    assert origin_of("https://[::1]:8443") == ("https", "::1", 8443)
    for bad in ("null", "", "file://", "ftp://x.example", "https://x.example/path", "https://u@x.example"):
        assert origin_of(bad) is None, bad


def test_forwarding_chains() -> None:
    trusted = TrustedProxies(["10.0.0.0/8", "::1"])
    assert trusted.client("10.1.1.1", [("X-Forwarded-For", "203.0.113.7:5555")]) == "203.0.113.7"
    assert trusted.client("::1", [("X-Forwarded-For", "10.0.0.2, 10.0.0.3")]) == "10.0.0.2"  # all trusted: left-most
    assert trusted.client("10.1.1.1", [("X-Forwarded-For", "unknown")]) == "10.1.1.1"  # not an address: the proxy
    assert trusted.client("10.1.1.1", [("Forwarded", "for=_hidden, for=10.0.0.9")]) == "10.0.0.9"
    assert trusted.client("::ffff:10.1.1.1", [("X-Forwarded-For", "198.51.100.1")]) == "198.51.100.1"
    assert TrustedProxies([]).client("10.1.1.1", [("X-Forwarded-For", "198.51.100.1")]) == "10.1.1.1"
