"""Fixtures for conversation tests: the chat corpus indexed once per session with the hash embedder."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag_oracle import RagOracle
from rag_oracle.chat import ChatService, SessionStore
from rag_oracle.settings import Settings
from tests.chat.chat_corpus import build_chat_index


@pytest.fixture(scope="session")
def chat_index(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, Path]:
    return build_chat_index(tmp_path_factory.mktemp("chat"))


@pytest.fixture(scope="session")
def chat_oracle(chat_index) -> RagOracle:
    settings, path = chat_index
    return RagOracle(path, settings)


@pytest.fixture
def service(chat_oracle: RagOracle, tmp_path: Path) -> ChatService:
    return ChatService(chat_oracle, SessionStore(tmp_path / "sessions.sqlite"))
