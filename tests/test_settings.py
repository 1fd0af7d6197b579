from pathlib import Path

import pytest

from rag_oracle.errors import ConfigError
from rag_oracle.settings import load_settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import os

    for key in list(os.environ):
        if key.startswith("RAG_ORACLE_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)


def test_precedence_defaults_file_env_flags(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert load_settings().retrieve.k == 10
    (tmp_path / "rag-oracle.toml").write_text("[retrieve]\nk = 20\nmode = 'bm25'\n")
    assert load_settings().retrieve.k == 20
    monkeypatch.setenv("RAG_ORACLE_RETRIEVE__K", "30")
    settings = load_settings()
    assert settings.retrieve.k == 30 and settings.retrieve.mode == "bm25"
    assert settings.with_overrides({"retrieve": {"k": 40, "mode": None}}).retrieve.k == 40
    assert settings.with_overrides({"retrieve": {"k": 40}}).retrieve.mode == "bm25"


def test_bad_values_are_clear_errors(tmp_path: Path) -> None:
    (tmp_path / "bad.toml").write_text("[chunk]\nmax_tokens = 10\n")
    with pytest.raises(ConfigError, match="max_tokens"):
        load_settings(tmp_path / "bad.toml")
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "missing.toml")
    (tmp_path / "broken.toml").write_text("[chunk\n")
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings(tmp_path / "broken.toml")
    with pytest.raises(ConfigError, match="overlap_tokens"):
        load_settings().with_overrides({"chunk": {"overlap_tokens": 500}})


def test_fingerprint_changes_with_chunking_only() -> None:
    base = load_settings()
    assert base.index_fingerprint() == base.with_overrides({"retrieve": {"k": 3}}).index_fingerprint()
    assert base.index_fingerprint() != base.with_overrides({"chunk": {"max_tokens": 100}}).index_fingerprint()


def test_server_and_chat_sections_follow_the_same_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    defaults = load_settings()
    assert (defaults.server.host, defaults.server.port, defaults.server.max_body_kib) == ("127.0.0.1", 8000, 64)
    assert defaults.server.api_key_env == "RAG_ORACLE_API_KEY" and defaults.chat.db == ""
    (tmp_path / "rag-oracle.toml").write_text("[server]\nport = 9000\nrate_limit = 0\n[chat]\ndb = 'file.sqlite'\n")
    assert load_settings().server.port == 9000 and load_settings().chat.db == "file.sqlite"
    monkeypatch.setenv("RAG_ORACLE_SERVER__PORT", "9100")
    monkeypatch.setenv("RAG_ORACLE_CHAT__DB", str(tmp_path / "env.sqlite"))  # the variable chat has always read
    settings = load_settings()
    assert settings.server.port == 9100 and settings.server.rate_limit == 0
    assert settings.chat.db == str(tmp_path / "env.sqlite")
    flagged = settings.with_overrides({"server": {"port": 9200, "host": None}, "chat": {"db": "flag.sqlite"}})
    assert (flagged.server.port, flagged.server.host, flagged.chat.db) == (9200, "127.0.0.1", "flag.sqlite")


def test_bad_server_values_are_clear_errors(tmp_path: Path) -> None:
    (tmp_path / "bad.toml").write_text("[server]\nport = 70000\n")
    with pytest.raises(ConfigError, match=r"server\.port"):
        load_settings(tmp_path / "bad.toml")
    with pytest.raises(ConfigError, match="history_turns"):
        load_settings().with_overrides({"chat": {"history_turns": 0}})


def test_api_key_comes_from_the_named_variable_and_never_reaches_a_dump(monkeypatch: pytest.MonkeyPatch) -> None:
    from rag_oracle.server.config import ServerConfig

    monkeypatch.setenv("RAG_ORACLE_API_KEY", "s3cret-default")
    monkeypatch.setenv("MY_KEY", "s3cret-mine")
    settings = load_settings()
    assert ServerConfig.from_settings(settings.server).api_key == "s3cret-default"
    mine = settings.with_overrides({"server": {"api_key_env": "MY_KEY"}})
    config = ServerConfig.from_settings(mine.server)
    assert config.api_key == "s3cret-mine" and "s3cret" not in repr(config)
    for dumped in (settings.model_dump_json(), mine.model_dump_json()):
        assert "s3cret" not in dumped
    monkeypatch.setenv("MY_KEY", "")
    assert ServerConfig.from_settings(mine.server).api_key is None  # empty: no auth


def test_an_environment_value_that_does_not_parse_is_a_config_error(monkeypatch) -> None:
    monkeypatch.setenv("RAG_ORACLE_SERVER__ALLOWED_HOSTS", "rag.example.org")
    with pytest.raises(ConfigError, match=r"JSON in the environment"):
        load_settings()
