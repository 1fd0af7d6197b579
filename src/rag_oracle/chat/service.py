"""`ChatService`: everything the terminal chat and the HTTP server do, as calls on one object.

It holds one opened `RagOracle` (created once: the index and the embedding model load once),
a `SessionStore` and a follow-up rewriter. Every turn rewrites the message into a standalone
question, retrieves again for it, answers with fresh citations and stores the turn.

Per-request settings are limited to what a reader may choose (`ALLOWED_OVERRIDES`: the audience,
the policy for unsupported sentences, the retrieval mode); the endpoint, the model and the index
are the operator's. Calls into the oracle are serialised with a lock: the embedding cache shares
one SQLite connection, and on a small machine parallel CPU-bound calls gain nothing.

Example::

    service = ChatService(RagOracle("indexes/sample"), SessionStore("sessions.sqlite"))
    session = service.start_session()
    service.send(session.id, "What is the dose of clonazepam for depression?")
    turn = service.send(session.id, "and in the elderly?")
    turn.standalone_question   # 'What is the dose of clonazepam for depression in the elderly?'
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Callable, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from rag_oracle.api import RagOracle
from rag_oracle.chat.base import Exchange, QuestionRewriter
from rag_oracle.chat.export import session_json, session_markdown
from rag_oracle.chat.rewrite import make_rewriter
from rag_oracle.chat.store import Session, SessionInfo, SessionStore
from rag_oracle.errors import ConfigError, QueryError, RagOracleError
from rag_oracle.retrieve import Filters
from rag_oracle.types import Answer, Document, Hit

MAX_QUESTION_CHARS = 2000
ALLOWED_OVERRIDES: dict[str, frozenset[str]] = {
    "answer": frozenset({"audience", "unsupported_policy"}),
    "retrieve": frozenset({"mode"}),
}
ExportFormat = Literal["json", "markdown"]


class DocumentNotFoundError(RagOracleError):
    """No document (nor alias of one) in the index has this id."""


class Turn(BaseModel):
    """One answered question: the message as typed, the question retrieval ran for, the answer."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    session_id: str | None = Field(None, description="The session the turn was stored in; None for one-off asks.")
    seq: int | None = Field(None, description="The stored answer's position in its session.")
    question: str = Field(description="The message as typed.")
    standalone_question: str = Field(description="The question retrieval ran for (a follow-up rewritten).")
    answer: Answer


class _NotifyingRetriever:
    """Passes searches through and reports the hits: how a caller learns that retrieval is done."""

    def __init__(self, inner, on_retrieved: Callable[[list[Hit]], None]) -> None:
        self.inner = inner
        self.on_retrieved = on_retrieved
        self.name = getattr(inner, "name", "")

    def search(self, query: str, k: int = 10, filters: Filters | None = None) -> list[Hit]:
        hits = self.inner.search(query, k, filters)
        self.on_retrieved(hits)
        return hits


class FairLock:
    """A first-come, first-served lock: under load `threading.Lock` lets some waiters starve,
    which shows as a long latency tail; tickets hand the lock over in arrival order."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._next_ticket = 0
        self._serving = 0

    def __enter__(self) -> None:
        with self._condition:
            ticket = self._next_ticket
            self._next_ticket += 1
            self._condition.wait_for(lambda: self._serving == ticket)

    def __exit__(self, *exc: object) -> None:
        with self._condition:
            self._serving += 1
            self._condition.notify_all()


def check_question(question: str) -> str:
    """The question with its whitespace normalised; QueryError when empty or too long."""
    text = " ".join((question or "").split())
    if not text:
        raise QueryError("the question is empty; type a question")
    if len(text) > MAX_QUESTION_CHARS:
        raise QueryError(f"the question is {len(text)} characters long; the limit is {MAX_QUESTION_CHARS}")
    return text


def check_overrides(overrides: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """Overrides limited to ALLOWED_OVERRIDES (None values dropped); QueryError for anything else."""
    out: dict[str, dict[str, Any]] = {}
    for section, values in (overrides or {}).items():
        allowed = ALLOWED_OVERRIDES.get(section)
        if allowed is None or not isinstance(values, dict):
            raise QueryError(f"settings section {section!r} cannot be changed per request; allowed: {_allowed()}")
        for key, value in values.items():
            if key not in allowed:
                raise QueryError(f"setting {section}.{key} cannot be changed per request; allowed: {_allowed()}")
            if value is not None:
                out.setdefault(section, {})[key] = value
    return out


def _allowed() -> str:
    return ", ".join(f"{s}.{k}" for s, keys in ALLOWED_OVERRIDES.items() for k in sorted(keys))


def _merge(base: dict[str, dict[str, Any]], top: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    merged = {section: dict(values) for section, values in base.items()}
    for section, values in top.items():
        merged.setdefault(section, {}).update(values)
    return merged


class ChatService:
    """Sessions, follow-up rewriting and cited answers over one opened index."""

    def __init__(
        self,
        oracle: RagOracle,
        store: SessionStore,
        *,
        rewriter: QuestionRewriter | None = None,
        index_path: str = "",
        history_turns: int = 3,
    ) -> None:
        self.oracle = oracle
        self.store = store
        self.rewriter = rewriter or make_rewriter(oracle.settings, oracle.document_frequency)
        self.index_path = index_path or str(oracle.index.path)
        self.history_turns = history_turns
        self._lock = FairLock()
        self._variants: dict[str, RagOracle] = {}

    # --- one-off questions, search, documents ------------------------------------------------

    def ask(
        self,
        question: str,
        *,
        history: Sequence[Exchange] = (),
        filters: Filters | None = None,
        overrides: dict[str, Any] | None = None,
        on_retrieved: Callable[[list[Hit]], None] | None = None,
        on_token: Callable[[str], None] | None = None,
    ) -> Turn:
        """Answer `question` (rewritten against `history` when it is a follow-up) without storing it.

        `on_retrieved` receives the retrieved passages before generation starts; `on_token`
        the LLM's draft as it streams (the returned answer is the verified one).
        """
        question = check_question(question)
        oracle = self.oracle_for(check_overrides(overrides))
        standalone = self.rewrite(history, question)
        answer = self._answer(oracle, standalone, filters, on_retrieved, on_token)
        return Turn(question=question, standalone_question=standalone, answer=answer)

    def search(
        self, query: str, k: int | None = None, filters: Filters | None = None, overrides: dict[str, Any] | None = None
    ) -> list[Hit]:
        """Ranked passages for `query` (no rewriting, no generation)."""
        oracle = self.oracle_for(check_overrides(overrides))
        with self._lock:
            return oracle.search(query, k, filters)

    def warm_up(self) -> None:
        """Load the embedding model now (it loads on first use), so the first question is not the slow one."""
        with self._lock:
            self.oracle.search("warm up", k=1)

    def document(self, doc_id: str) -> Document:
        """The document with this id, or the one an alias (a duplicate's id) points at."""
        index = self.oracle.index
        document = index.documents.get(index.canonical_id(doc_id))
        if document is None:
            raise DocumentNotFoundError(f"no document {doc_id!r} in the index {self.index_path}")
        return document

    def rewrite(self, history: Sequence[Exchange], message: str) -> str:
        """The standalone question for `message` given the exchanges before it."""
        return self.rewriter.rewrite(list(history)[-self.history_turns :], message)

    def check(self, message: str, overrides: dict[str, Any] | None = None, session_id: str | None = None) -> None:
        """Raise now what `ask` or `send` would raise for bad input (so a stream can start cleanly)."""
        check_question(message)
        base = self.store.info(session_id).settings if session_id is not None else {}
        self.oracle_for(_merge(base, check_overrides(overrides)))

    # --- sessions ----------------------------------------------------------------------------

    def start_session(self, title: str = "", overrides: dict[str, Any] | None = None) -> SessionInfo:
        """A new session; `overrides` (e.g. the audience) apply to each of its turns."""
        settings = check_overrides(overrides)
        self.oracle_for(settings)  # an invalid value fails now, not at the first question
        return self.store.create(title=" ".join(title.split()), index_path=self.index_path, settings=settings)

    def sessions(self) -> list[SessionInfo]:
        return self.store.list()

    def session(self, session_id: str) -> Session:
        return self.store.get(session_id)

    def delete_session(self, session_id: str) -> None:
        self.store.delete(session_id)

    def export(self, session_id: str, fmt: ExportFormat = "json") -> str:
        """The session as JSON (every answer in full) or as Markdown (for reading and sharing)."""
        session = self.store.get(session_id)
        if fmt == "json":
            return session_json(session)
        if fmt == "markdown":
            return session_markdown(session)
        raise QueryError(f"unknown export format {fmt!r}; use json or markdown")

    def send(
        self,
        session_id: str,
        message: str,
        *,
        filters: Filters | None = None,
        overrides: dict[str, Any] | None = None,
        on_retrieved: Callable[[list[Hit]], None] | None = None,
        on_token: Callable[[str], None] | None = None,
    ) -> Turn:
        """Answer the next message of a session and store the turn.

        The session's own overrides apply, with the message's `overrides` on top.
        """
        message = check_question(message)
        session = self.store.get(session_id)
        oracle = self.oracle_for(_merge(session.settings, check_overrides(overrides)))
        standalone = self.rewrite(history_of(session), message)
        answer = self._answer(oracle, standalone, filters, on_retrieved, on_token)
        seq = self.store.append_turn(session_id, message, standalone, answer)
        return Turn(session_id=session_id, seq=seq, question=message, standalone_question=standalone, answer=answer)

    # --- settings per request -----------------------------------------------------------------

    def oracle_for(self, overrides: dict[str, dict[str, Any]]) -> RagOracle:
        """The oracle a request with these (checked) overrides uses: the shared one, or a variant
        sharing its index and embedder with other answer settings."""
        if not overrides:
            return self.oracle
        key = json.dumps(overrides, sort_keys=True)
        variant = self._variants.get(key)
        if variant is None:
            try:
                settings = self.oracle.settings.with_overrides(overrides)
            except ConfigError as exc:  # a value the reader chose, so a bad request, not a bad config
                raise QueryError(str(exc)) from None
            if settings.model_dump() == self.oracle.settings.model_dump():
                variant = self.oracle
            else:
                variant = RagOracle(self.oracle.index, settings, embedder=self.oracle.embedder)
            # Bounded: ALLOWED_OVERRIDES admits only a handful of value combinations.
            self._variants[key] = variant
        return variant

    # --- internals ---------------------------------------------------------------------------

    def _answer(
        self,
        oracle: RagOracle,
        question: str,
        filters: Filters | None,
        on_retrieved: Callable[[list[Hit]], None] | None,
        on_token: Callable[[str], None] | None,
    ) -> Answer:
        if on_retrieved is not None:
            # A shallow copy with a notifying retriever: RagOracle.ask runs unchanged and the
            # shared oracle is never mutated, so concurrent requests cannot see each other's hook.
            oracle = copy.copy(oracle)
            oracle.retriever = _NotifyingRetriever(oracle.retriever, on_retrieved)
        with self._lock:
            return oracle.ask(question, filters, on_token=on_token)


def history_of(session: Session) -> list[Exchange]:
    """The session's turns as exchanges (question, standalone question, answer body)."""
    exchanges: list[Exchange] = []
    pending = None
    for message in session.messages:
        if message.role == "user":
            pending = message
        elif pending is not None:
            exchanges.append(Exchange(pending.content, pending.standalone_question, message.content))
            pending = None
    return exchanges
