"""The SQLite session store: persistence, ordering, deletion, and refusing files it cannot read."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from rag_oracle.chat import SessionNotFoundError, SessionStore, SessionStoreError, default_db_path
from rag_oracle.types import Answer


def _answer(question: str) -> Answer:
    return Answer(question=question, abstained=True, abstention_reason="The indexed literature does not answer.")


def test_sessions_and_turns_survive_a_new_store(tmp_path: Path) -> None:
    db = tmp_path / "deep" / "sessions.sqlite"
    store = SessionStore(db)
    first = store.create(index_path="indexes/x", settings={"answer": {"audience": "patient"}})
    store.append_turn(first.id, "What is X?", "What is X?", _answer("What is X?"))
    seq = store.append_turn(first.id, "and Y?", "What is X and Y?", _answer("What is X and Y?"))
    assert seq == 4

    reopened = SessionStore(db).get(first.id)  # a new store, as after a restart
    assert reopened.title == "What is X?"  # the first question names an untitled session
    assert reopened.settings == {"answer": {"audience": "patient"}}
    assert [(m.seq, m.role) for m in reopened.messages] == [
        (1, "user"),
        (2, "assistant"),
        (3, "user"),
        (4, "assistant"),
    ]
    assert reopened.messages[2].standalone_question == "What is X and Y?"
    assert reopened.messages[3].answer == _answer("What is X and Y?")
    assert reopened.messages[3].content == "The indexed literature does not answer."
    assert reopened.message_count == 4

    # the schema the issue asks for
    with sqlite3.connect(db) as conn:
        columns = {t: [r[1] for r in conn.execute(f"PRAGMA table_info({t})")] for t in ("sessions", "messages")}
    assert columns["sessions"] == ["id", "created_at", "title", "index_path", "settings"]
    assert columns["messages"] == [
        "session_id", "seq", "role", "content", "standalone_question", "answer_json", "created_at"
    ]  # fmt: skip


def test_list_is_most_recent_first_and_delete_removes_messages(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "s.sqlite")
    old = store.create(title="old")
    new = store.create(title="new")
    store.append_turn(old.id, "q", "q", _answer("q"))  # old is now the most recently active
    assert [s.id for s in store.list()] == [old.id, new.id]
    store.delete(old.id)
    assert [s.id for s in store.list()] == [new.id]
    with sqlite3.connect(tmp_path / "s.sqlite") as conn:
        assert conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0] == 0
    with pytest.raises(SessionNotFoundError, match=old.id):
        store.get(old.id)
    with pytest.raises(SessionNotFoundError):
        store.delete(old.id)
    with pytest.raises(SessionNotFoundError):
        store.append_turn(old.id, "q", "q", _answer("q"))


def test_unreadable_or_newer_files_are_refused_with_the_path(tmp_path: Path) -> None:
    corrupt = tmp_path / "corrupt.sqlite"
    corrupt.write_bytes(b"this is not a database" * 100)
    with pytest.raises(SessionStoreError, match=r"corrupt\.sqlite"):
        SessionStore(corrupt).list()
    newer = tmp_path / "newer.sqlite"
    with sqlite3.connect(newer) as conn:
        conn.execute("PRAGMA user_version = 99")
    with pytest.raises(SessionStoreError, match="schema version 99"):
        SessionStore(newer).list()


def test_default_path_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_ORACLE_CHAT__DB", str(tmp_path / "env.sqlite"))
    assert default_db_path() == tmp_path / "env.sqlite"
    monkeypatch.delenv("RAG_ORACLE_CHAT__DB")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert default_db_path() == tmp_path / "data" / "rag-oracle" / "sessions.sqlite"
