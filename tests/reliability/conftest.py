"""The chat corpus index and its oracle, shared with the server tests (built once per session)."""

from tests.server.conftest import chat_index, chat_oracle  # noqa: F401  (fixtures)
