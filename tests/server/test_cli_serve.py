"""`rag-oracle serve`: bad input is refused before anything starts."""

from __future__ import annotations

from tests.server.conftest import require_extra

require_extra()

import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

from click.testing import CliRunner  # noqa: E402

from rag_oracle.cli.serve import serve  # noqa: E402


def test_bad_options_exit_2() -> None:
    result = CliRunner().invoke(serve, ["--port", "70000"])
    assert result.exit_code == 2 and "70000" in result.output
    result = CliRunner().invoke(serve, ["--rate-limit", "-1"])
    assert result.exit_code == 2


def test_missing_index_is_one_line_and_exit_2(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "rag_oracle.server", "--index", str(tmp_path / "nowhere"), "--db", str(tmp_path / "s")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: ") and "nowhere" in proc.stderr
    assert "Traceback" not in proc.stderr


def _serve_capturing_run(monkeypatch, settings, *args: str):
    """Invoke serve over `settings` with uvicorn.run replaced; returns (result, what run was called with)."""
    import uvicorn

    calls: list[dict] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append({"app": app, **kw}))
    result = CliRunner().invoke(serve, list(args), obj={"settings": settings})
    return result, calls


def test_serve_takes_server_and_chat_settings_and_flags_win(chat_index, tmp_path: Path, monkeypatch) -> None:
    settings, index = chat_index
    monkeypatch.delenv("RAG_ORACLE_API_KEY", raising=False)
    configured = settings.with_overrides(
        {
            "server": {"host": "0.0.0.0", "port": 9001, "rate_limit": 0, "max_body_kib": 8, "log_level": "warning"},
            "chat": {"db": str(tmp_path / "configured.sqlite")},
        }
    )
    result, calls = _serve_capturing_run(monkeypatch, configured, "--index", str(index), "--port", "9002")
    assert result.exit_code == 0, result.output
    [call] = calls
    assert (call["host"], call["port"], call["log_level"]) == ("0.0.0.0", 9002, "warning")
    config = call["app"].state.config
    assert not config.rate_limited and config.max_body_bytes == 8 * 1024 and config.api_key is None
    assert "without an API key; set RAG_ORACLE_API_KEY" in result.stderr
    assert f"sessions {tmp_path / 'configured.sqlite'}" in result.stderr

    # the key comes from the variable server.api_key_env names; --db beats chat.db
    monkeypatch.setenv("OPS_KEY", "k-123")
    keyed = configured.with_overrides({"server": {"api_key_env": "OPS_KEY"}})
    db = tmp_path / "flag.sqlite"
    result, calls = _serve_capturing_run(monkeypatch, keyed, "--index", str(index), "--db", str(db))
    assert result.exit_code == 0, result.output
    assert calls[0]["app"].state.config.api_key == "k-123" and calls[0]["port"] == 9001
    assert "without an API key" not in result.stderr and f"sessions {db}" in result.stderr


def test_serve_allowed_hosts_flags_add_and_a_public_bind_says_what_to_add(chat_index, monkeypatch) -> None:
    settings, index = chat_index
    monkeypatch.setenv("RAG_ORACLE_API_KEY", "k")
    result, calls = _serve_capturing_run(monkeypatch, settings, "--index", str(index), "--host", "0.0.0.0")
    assert result.exit_code == 0, result.output
    assert "only requests for localhost, 127.0.0.1, ::1 are answered" in result.stderr
    assert "--allowed-host NAME" in result.stderr and "RAG_ORACLE_SERVER__ALLOWED_HOSTS" in result.stderr
    assert calls[0]["proxy_headers"] is False

    flags = ["--allowed-host", "rag.lan", "--allowed-origin", "https://app.lan", "--trusted-proxy", "10.0.0.0/8"]
    result, calls = _serve_capturing_run(monkeypatch, settings, "--index", str(index), "--host", "0.0.0.0", *flags)
    assert result.exit_code == 0, result.output
    config = calls[0]["app"].state.config
    assert config.allowed_hosts == ("localhost", "127.0.0.1", "::1", "rag.lan")  # added to, not replaced
    assert config.allowed_origins == ("https://app.lan",) and config.trusted_proxies == ("10.0.0.0/8",)
    assert "are answered" not in result.stderr

    result, _ = _serve_capturing_run(monkeypatch, settings, "--index", str(index), "--allowed-host", "*")
    assert "DNS rebinding" in result.stderr


def test_serve_refuses_a_bad_proxy_or_host(chat_index, monkeypatch) -> None:
    from rag_oracle.cli import main

    settings, index = chat_index
    for flag, value in (("--trusted-proxy", "10.0.0.300"), ("--allowed-host", "rag.lan:8000")):
        result = CliRunner().invoke(main, ["serve", "--index", str(index), flag, value], obj={"settings": settings})
        assert result.exit_code == 2, result.output
        assert result.stderr.startswith("error: ") and value in result.stderr
