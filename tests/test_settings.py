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
