"""Fixtures for the CLI's terminal output: the chat corpus indexed once per session (hash embedder)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag_oracle.settings import Settings
from tests.chat.chat_corpus import build_chat_index


@pytest.fixture(scope="session")
def chat_index(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, Path]:
    return build_chat_index(tmp_path_factory.mktemp("cli"))
