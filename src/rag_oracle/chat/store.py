"""Conversations on disk: one SQLite file, so sessions survive restarts of the CLI and the server.

Schema (version 2, recorded in `PRAGMA user_version`)::

    sessions(id, created_at, title, index_path, settings)            settings: JSON overrides
    messages(session_id, seq, role, content, standalone_question, answer_json, created_at)
    reviews(id, session_id, seq, status, reviewer, note, at)         one row per review event

A turn is two messages written in one transaction: the user's (`content` as typed,
`standalone_question` as rewritten for retrieval) and the assistant's (`content` is the answer
body with [n] markers, `answer_json` the whole `Answer`). `seq` numbers a session's messages
from 1. Each call opens its own connection, so one store can serve many threads.

Reviews: every change of an answer's review status is a row of `reviews` (`seq` is the assistant
message's), in the order written (`id`); the latest is the answer's status. An answer without
rows is `submitted`, so a new answer needs none. A system change (a regenerated answer sent back
to `submitted`) has an empty `reviewer`. Rows go with their message and session (ON DELETE
CASCADE). A version-1 file (no `reviews` table) is migrated in place, in one transaction, on
first open: its answers are all `submitted`.

The CLI and the server take the file from the `chat.db` setting (`--db`, `[chat] db` in
rag-oracle.toml, or `$RAG_ORACLE_CHAT__DB`). When that is empty, or a `SessionStore` is made
without a path, the file is `default_db_path()`: `$RAG_ORACLE_CHAT__DB`, else
`$XDG_DATA_HOME/rag-oracle/sessions.sqlite` (`~/.local/share/rag-oracle/sessions.sqlite`).

Example::

    store = SessionStore("sessions.sqlite")
    info = store.create(index_path="indexes/sample")
    store.append_turn(info.id, "and in the elderly?", "What ... in the elderly?", answer)
    store.get(info.id).messages
"""

from __future__ import annotations

import json
import os
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rag_oracle.errors import SessionNotFoundError, SessionStoreError, TurnNotFoundError
from rag_oracle.types import Answer, ChatMessage, Review, ReviewEvent, ReviewStatus, Session, SessionInfo

SCHEMA_VERSION = 2
DB_ENV = "RAG_ORACLE_CHAT__DB"
_TITLE_CHARS = 80

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    title TEXT NOT NULL DEFAULT '',
    index_path TEXT NOT NULL DEFAULT '',
    settings TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS messages (
    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
    content TEXT NOT NULL,
    standalone_question TEXT,
    answer_json TEXT,
    created_at TEXT NOT NULL,
    PRIMARY KEY (session_id, seq)
);
"""
# Version 2 added this table; creating it is the whole migration from version 1.
_REVIEWS_SCHEMA = """
CREATE TABLE IF NOT EXISTS reviews (
    id INTEGER PRIMARY KEY,
    session_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('submitted', 'under_review', 'approved', 'flagged')),
    reviewer TEXT NOT NULL DEFAULT '',
    note TEXT NOT NULL DEFAULT '',
    at TEXT NOT NULL,
    FOREIGN KEY (session_id, seq) REFERENCES messages(session_id, seq) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS reviews_by_turn ON reviews(session_id, seq, id);
"""
_SCHEMA_STATEMENTS = [part.strip() for part in (_SCHEMA + _REVIEWS_SCHEMA).split(";") if part.strip()]
REGENERATED_NEW_INDEX = "Regenerated after the index changed; review again."
REGENERATED_NEW_TEXT = "Regenerated with a different answer; review again."


def default_db_path() -> Path:
    """`$RAG_ORACLE_CHAT__DB`, else `$XDG_DATA_HOME/rag-oracle/sessions.sqlite` (~/.local/share/...).

    The file used when the `chat.db` setting is empty. The variable is read here too (it is also
    the setting's own variable) so that a store made without settings finds the same file.
    """
    if os.environ.get(DB_ENV):
        return Path(os.environ[DB_ENV]).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "rag-oracle" / "sessions.sqlite"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _answer_json(answer: Answer) -> str:
    # `text` is computed from the sections, so it is not stored.
    return answer.model_dump_json(exclude={"text"})


def _load_answer(raw: str | None) -> Answer | None:
    return None if raw is None else Answer.model_validate_json(raw)


def _index_checksum(answer: Answer | None) -> str:
    return answer.provenance.index_checksum if answer is not None and answer.provenance is not None else ""


def _review(rows: list[sqlite3.Row]) -> Review:
    """The review an answer's event rows (oldest first) add up to; no rows: submitted."""
    history = [ReviewEvent(status=r["status"], reviewer=r["reviewer"], note=r["note"], at=r["at"]) for r in rows]
    if not history:
        return Review()
    latest = history[-1]
    by_reviewer = [event.at for event in history if event.reviewer]
    return Review(
        status=latest.status,
        reviewer=latest.reviewer,
        note=latest.note,
        reviewed_at=by_reviewer[-1] if by_reviewer else None,
        history=history,
    )


class SessionStore:
    """Sessions and their messages in one SQLite file (created on first use)."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path).expanduser() if path is not None else default_db_path()
        self._initialised = False

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        if not self._initialised:
            self._initialise()
        try:
            with closing(sqlite3.connect(self.path, timeout=30)) as conn:
                conn.row_factory = sqlite3.Row
                conn.execute("PRAGMA foreign_keys = ON")
                with conn:
                    yield conn
        except sqlite3.DatabaseError as exc:
            raise SessionStoreError(f"sessions file {self.path}: {exc}; point --db at another file") from None

    def _initialise(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with closing(sqlite3.connect(self.path, timeout=30, isolation_level=None)) as conn:
                self._check_version(conn.execute("PRAGMA user_version").fetchone()[0])
                conn.execute("PRAGMA journal_mode = WAL")  # not allowed inside a transaction
                # One transaction creates a new file's tables or migrates a version-1 file (the
                # reviews table is all version 2 adds), so a failure leaves the file as it was.
                # The version is read again under the write lock: another process may have
                # migrated it meanwhile.
                conn.execute("BEGIN IMMEDIATE")
                try:
                    version = conn.execute("PRAGMA user_version").fetchone()[0]
                    self._check_version(version)
                    if version < SCHEMA_VERSION:
                        for statement in _SCHEMA_STATEMENTS:
                            conn.execute(statement)
                        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                    conn.execute("COMMIT")
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
        except (sqlite3.DatabaseError, OSError) as exc:
            raise SessionStoreError(
                f"cannot open the sessions file {self.path}: {exc}; point --db at a writable SQLite file"
            ) from None
        self._initialised = True

    def _check_version(self, version: int) -> None:
        if version > SCHEMA_VERSION:
            raise SessionStoreError(
                f"sessions file {self.path} has schema version {version}, newer than this rag-oracle "
                f"understands ({SCHEMA_VERSION}); upgrade rag-oracle or use another --db"
            )

    def check(self) -> None:
        """Raise SessionStoreError unless the file can be read and written now (a health check).

        Cheap: one read of each table and a write lock taken and given back, nothing stored. After
        first use it opens the file without creating it, so a file or folder that vanished is
        reported rather than silently replaced by an empty store.
        """
        if not self._initialised:
            self._initialise()
        try:
            uri = self.path.absolute().as_uri() + "?mode=rw"
            with closing(sqlite3.connect(uri, uri=True, timeout=2, isolation_level=None)) as conn:
                conn.execute("SELECT 1 FROM sessions LIMIT 1").fetchall()
                conn.execute("SELECT 1 FROM messages LIMIT 1").fetchall()
                conn.execute("SELECT 1 FROM reviews LIMIT 1").fetchall()
                conn.execute("BEGIN IMMEDIATE")
                try:
                    # Rewriting the header with its own value needs write access (a read-only file or
                    # folder fails here); the rollback leaves the file as it was.
                    version = conn.execute("PRAGMA user_version").fetchone()[0]
                    conn.execute(f"PRAGMA user_version = {int(version)}")
                finally:
                    conn.execute("ROLLBACK")
        except (sqlite3.DatabaseError, OSError) as exc:
            if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
                return  # another connection is writing: the file is usable, just busy
            raise SessionStoreError(
                f"sessions file {self.path} is unusable: {exc}; point --db at another file"
            ) from None

    def create(self, *, title: str = "", index_path: str = "", settings: dict[str, Any] | None = None) -> SessionInfo:
        """A new, empty session."""
        session_id = uuid.uuid4().hex
        now = _now()
        with self._connect() as conn:
            conn.execute(
                "INSERT INTO sessions (id, created_at, title, index_path, settings) VALUES (?, ?, ?, ?, ?)",
                (session_id, now, title[:_TITLE_CHARS], index_path, json.dumps(settings or {}, sort_keys=True)),
            )
        return self.info(session_id)

    def list(self) -> list[SessionInfo]:
        """Every session, most recently active first (ties by id)."""
        with self._connect() as conn:
            rows = conn.execute(_INFO_QUERY + " GROUP BY s.id ORDER BY updated_at DESC, s.id").fetchall()
        return [_info(row) for row in rows]

    def info(self, session_id: str) -> SessionInfo:
        with self._connect() as conn:
            row = conn.execute(_INFO_QUERY + " WHERE s.id = ? GROUP BY s.id", (session_id,)).fetchone()
        if row is None:
            raise SessionNotFoundError(f"no session {session_id!r}; list the sessions to see their ids")
        return _info(row)

    def get(self, session_id: str) -> Session:
        """The session with all its messages (each answer with its review)."""
        info = self.info(session_id)
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT seq, role, content, standalone_question, answer_json, created_at FROM messages "
                "WHERE session_id = ? ORDER BY seq",
                (session_id,),
            ).fetchall()
            events: dict[int, list[sqlite3.Row]] = {}
            for event in conn.execute(
                "SELECT seq, status, reviewer, note, at FROM reviews WHERE session_id = ? ORDER BY seq, id",
                (session_id,),
            ):
                events.setdefault(event["seq"], []).append(event)
        messages = [
            ChatMessage(
                seq=row["seq"],
                role=row["role"],
                content=row["content"],
                standalone_question=row["standalone_question"],
                answer=_load_answer(row["answer_json"]),
                created_at=row["created_at"],
                review=_review(events.get(row["seq"], [])) if row["role"] == "assistant" else None,
            )
            for row in rows
        ]
        return Session(**info.model_dump(), messages=messages)

    def append_turn(self, session_id: str, question: str, standalone_question: str, answer: Answer) -> int:
        """Store a question and its answer as the session's next two messages; returns the answer's seq.

        A session without a title takes the first question as its title.
        """
        now = _now()
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")  # the seq read and the inserts must not interleave with another turn
            row = conn.execute("SELECT title FROM sessions WHERE id = ?", (session_id,)).fetchone()
            if row is None:
                raise SessionNotFoundError(f"no session {session_id!r}; it may have been deleted")
            last = conn.execute("SELECT MAX(seq) FROM messages WHERE session_id = ?", (session_id,)).fetchone()[0]
            seq = (last or 0) + 1
            conn.execute(
                "INSERT INTO messages VALUES (?, ?, 'user', ?, ?, NULL, ?)",
                (session_id, seq, question, standalone_question, now),
            )
            conn.execute(
                "INSERT INTO messages VALUES (?, ?, 'assistant', ?, NULL, ?, ?)",
                (session_id, seq + 1, answer.text, _answer_json(answer), now),
            )
            if not row["title"]:
                title = " ".join(question.split())
                conn.execute("UPDATE sessions SET title = ? WHERE id = ?", (title[:_TITLE_CHARS], session_id))
        return seq + 1

    def review_of(self, session_id: str, seq: int) -> Review:
        """The review of the answer at `seq`; SessionNotFoundError, or TurnNotFoundError when `seq`
        is not an answer of the session."""
        with self._connect() as conn:
            self._answer_row(conn, session_id, seq)
            return self._review_in(conn, session_id, seq)

    def review(self, session_id: str, seq: int, status: ReviewStatus, reviewer: str, note: str = "") -> Review:
        """Record a reviewer's change of the answer at `seq` (an event appended to its history).

        Returns the review with that event as its latest. Errors as for `review_of`.
        """
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")  # the check and the insert must not interleave with a delete
            self._answer_row(conn, session_id, seq)
            self._add_event(conn, session_id, seq, status, reviewer, note)
            return self._review_in(conn, session_id, seq)

    def replace_answer(self, session_id: str, seq: int, standalone_question: str, answer: Answer) -> Review:
        """Store a regenerated answer for the turn whose answer is at `seq`, in one transaction:
        the user message's standalone question and the assistant message's body and answer.

        An answer under review, approved or flagged goes back to `submitted` (a system event with
        the reason) when the new answer was read from another index (`provenance.index_checksum`)
        or, from the same index, says something else (`answer.text`); otherwise its review stands.
        Returns the review after the change. Errors as for `review_of`.
        """
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")  # a review landing meanwhile is seen, not overwritten
            row = self._answer_row(conn, session_id, seq)
            question = conn.execute(
                "SELECT role FROM messages WHERE session_id = ? AND seq = ?", (session_id, seq - 1)
            ).fetchone()
            if question is None or question["role"] != "user":
                raise TurnNotFoundError(f"the answer at seq {seq} of session {session_id!r} has no question before it")
            old = _load_answer(row["answer_json"])
            current = self._review_in(conn, session_id, seq)
            conn.execute(
                "UPDATE messages SET standalone_question = ? WHERE session_id = ? AND seq = ?",
                (standalone_question, session_id, seq - 1),
            )
            conn.execute(
                "UPDATE messages SET content = ?, answer_json = ? WHERE session_id = ? AND seq = ?",
                (answer.text, _answer_json(answer), session_id, seq),
            )
            if current.status != "submitted":
                reason = None
                if _index_checksum(old) != _index_checksum(answer):
                    reason = REGENERATED_NEW_INDEX
                elif old is None or old.text != answer.text:
                    reason = REGENERATED_NEW_TEXT
                if reason is not None:
                    self._add_event(conn, session_id, seq, "submitted", "", reason)
                    current = self._review_in(conn, session_id, seq)
            return current

    def delete(self, session_id: str) -> None:
        """Remove a session, its messages and their reviews."""
        with self._connect() as conn:
            conn.execute("DELETE FROM reviews WHERE session_id = ?", (session_id,))
            conn.execute("DELETE FROM messages WHERE session_id = ?", (session_id,))
            deleted = conn.execute("DELETE FROM sessions WHERE id = ?", (session_id,)).rowcount
        if not deleted:
            raise SessionNotFoundError(f"no session {session_id!r}; list the sessions to see their ids")

    # --- internals ---------------------------------------------------------------------------

    @staticmethod
    def _answer_row(conn: sqlite3.Connection, session_id: str, seq: int) -> sqlite3.Row:
        """The assistant message at `seq`, or the error that says why there is none."""
        if conn.execute("SELECT 1 FROM sessions WHERE id = ?", (session_id,)).fetchone() is None:
            raise SessionNotFoundError(f"no session {session_id!r}; list the sessions to see their ids")
        row = conn.execute(
            "SELECT role, answer_json FROM messages WHERE session_id = ? AND seq = ?", (session_id, seq)
        ).fetchone()
        if row is None or row["role"] != "assistant":
            what = "no message" if row is None else "a question, not an answer"
            raise TurnNotFoundError(
                f"session {session_id!r} has {what} at seq {seq}; use the seq of an answer (a Turn's seq, "
                "an assistant message's seq)"
            )
        return row

    @staticmethod
    def _add_event(
        conn: sqlite3.Connection, session_id: str, seq: int, status: ReviewStatus, reviewer: str, note: str
    ) -> None:
        conn.execute(
            "INSERT INTO reviews (session_id, seq, status, reviewer, note, at) VALUES (?, ?, ?, ?, ?, ?)",
            (session_id, seq, status, reviewer, note, _now()),
        )

    @staticmethod
    def _review_in(conn: sqlite3.Connection, session_id: str, seq: int) -> Review:
        rows = conn.execute(
            "SELECT status, reviewer, note, at FROM reviews WHERE session_id = ? AND seq = ? ORDER BY id",
            (session_id, seq),
        ).fetchall()
        return _review(rows)


_INFO_QUERY = (
    "SELECT s.id, s.created_at, s.title, s.index_path, s.settings, COUNT(m.seq) AS message_count, "
    "COALESCE(MAX(m.created_at), s.created_at) AS updated_at "
    "FROM sessions s LEFT JOIN messages m ON m.session_id = s.id"
)


def _info(row: sqlite3.Row) -> SessionInfo:
    return SessionInfo(
        id=row["id"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        title=row["title"],
        index_path=row["index_path"],
        settings=json.loads(row["settings"] or "{}"),
        message_count=row["message_count"],
    )
