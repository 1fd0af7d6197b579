"""`ChatService`: everything the terminal chat and the HTTP server do, as calls on one object.

It holds one opened `RagOracle` (created once: the index and the embedding model load once),
a `SessionStore` and a follow-up rewriter. Every turn rewrites the message into a standalone
question, retrieves again for it, answers with fresh citations and stores the turn.

Per-request settings are limited to what a reader may choose (`ALLOWED_OVERRIDES`: the audience,
the policy for unsupported sentences, the retrieval mode); the endpoint, the model and the index
are the operator's. Every answer goes through the oracle's one question path (`RagOracle.run`)
with the request's settings as arguments; nothing is locked around it (the embedding cache,
the index and the retrievers are safe to share between threads).

A stored answer has a review status (`Review`): every new answer is submitted; a reviewer marks
it under review, approved or flagged with a note (`review`). `regenerate` answers a stored turn
again (with an edited search if given) and replaces it; an answer under review, approved or
flagged whose new version came from another index or says something else goes back to submitted.

Example::

    service = ChatService(RagOracle("indexes/sample"), SessionStore("sessions.sqlite"))
    session = service.start_session()
    service.send(session.id, "What is the dose of clonazepam for depression?")
    turn = service.send(session.id, "and in the elderly?")
    turn.standalone_question   # 'What is the dose of clonazepam for depression in the elderly?'
    service.review(session.id, turn.seq, "approved", "Dr Lee", "matches the guideline")
    service.regenerate(session.id, turn.seq, standalone="clonazepam dose in elderly depression")
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal

from rag_oracle.api import RagOracle
from rag_oracle.chat.base import QuestionRewriter
from rag_oracle.chat.export import session_json, session_markdown
from rag_oracle.chat.rewrite import make_rewriter
from rag_oracle.chat.store import SessionStore
from rag_oracle.errors import ConfigError, DocumentNotFoundError, QueryError, TurnNotFoundError
from rag_oracle.pipeline import Callbacks
from rag_oracle.types import (
    Answer,
    ChatMessage,
    Document,
    Exchange,
    Filters,
    Hit,
    PatientContext,
    Review,
    ReviewStatus,
    Session,
    SessionInfo,
    Turn,
)

MAX_QUESTION_CHARS = 2000
MAX_REVIEWER_CHARS = 120
MAX_NOTE_CHARS = 2000
REVIEW_STATUSES: tuple[ReviewStatus, ...] = ("submitted", "under_review", "approved", "flagged")
ALLOWED_OVERRIDES: dict[str, frozenset[str]] = {
    "answer": frozenset({"audience", "unsupported_policy"}),
    "retrieve": frozenset({"mode"}),
}
ExportFormat = Literal["json", "markdown"]


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


def check_review(status: str, reviewer: str, note: str = "") -> tuple[ReviewStatus, str, str]:
    """(status, reviewer, note) with whitespace trimmed; QueryError for an unknown status, an empty
    or overlong reviewer name, or an overlong note."""
    if status not in REVIEW_STATUSES:
        raise QueryError(f"unknown review status {status!r}; use one of {', '.join(REVIEW_STATUSES)}")
    name = " ".join((reviewer or "").split())
    if not name:
        raise QueryError("the reviewer is empty; give the name of who reviews the answer")
    if len(name) > MAX_REVIEWER_CHARS:
        raise QueryError(f"the reviewer is {len(name)} characters long; the limit is {MAX_REVIEWER_CHARS}")
    note = (note or "").strip()
    if len(note) > MAX_NOTE_CHARS:
        raise QueryError(f"the review note is {len(note)} characters long; the limit is {MAX_NOTE_CHARS}")
    return status, name, note  # type: ignore[return-value]


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
        self.rewriter = rewriter or make_rewriter(oracle.settings, oracle.index)
        self.index_path = index_path or str(oracle.index.path)
        self.history_turns = history_turns

    # --- one-off questions, search, documents ------------------------------------------------

    def ask(
        self,
        question: str,
        *,
        history: Sequence[Exchange] = (),
        filters: Filters | None = None,
        overrides: dict[str, Any] | None = None,
        context: PatientContext | None = None,
        standalone: str | None = None,
        on_retrieved: Callable[[list[Hit]], None] | None = None,
        on_token: Callable[[str], None] | None = None,
        on_stage: Callable[[str], None] | None = None,
    ) -> Turn:
        """Answer `question` (rewritten against `history` when it is a follow-up) without storing it.

        `context`: the patient it is about (becomes the question's population); `standalone`: the
        question to search for instead of the rewrite (a reader's correction of "Searched as").
        `on_retrieved` receives the retrieved passages before generation starts; `on_token`
        the LLM's draft as it streams (the returned answer is the verified one); `on_stage` the
        name of each stage as it starts ("rewriting", "retrieving", "composing", "verifying").
        """
        question = check_question(question)
        checked = self._checked(check_overrides(overrides))
        if on_stage is not None:
            on_stage("rewriting")
        standalone = check_question(standalone) if standalone is not None else self.rewrite(history, question)
        callbacks = Callbacks(on_retrieved=on_retrieved, on_token=on_token, on_stage=on_stage)
        answer = self._answer(standalone, filters, checked, callbacks, context)
        return Turn(question=question, standalone_question=standalone, answer=answer)

    def search(
        self, query: str, k: int | None = None, filters: Filters | None = None, overrides: dict[str, Any] | None = None
    ) -> list[Hit]:
        """Ranked passages for `query` (no rewriting, no generation)."""
        return self.oracle.search(query, k, filters, self._checked(check_overrides(overrides)))

    def warm_up(self) -> None:
        """Load the embedding model and run one question now, so the first reader's is not the slow one."""
        self.oracle.pipeline.warm_up()

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

    def check(
        self,
        message: str,
        overrides: dict[str, Any] | None = None,
        session_id: str | None = None,
        standalone: str | None = None,
    ) -> None:
        """Raise now what `ask` or `send` would raise for bad input (so a stream can start cleanly)."""
        check_question(message)
        if standalone is not None:
            check_question(standalone)
        base = self.store.info(session_id).settings if session_id is not None else {}
        self._checked(_merge(base, check_overrides(overrides)))

    def check_regenerate(
        self, session_id: str, seq: int, standalone: str | None = None, overrides: dict[str, Any] | None = None
    ) -> None:
        """Raise now what `regenerate` would raise for bad input (no session, no answer at `seq`, ...)."""
        session = self.store.get(session_id)
        _turn_messages(session, seq)
        if standalone is not None:
            check_question(standalone)
        self._checked(_merge(session.settings, check_overrides(overrides)))

    # --- sessions ----------------------------------------------------------------------------

    def start_session(self, title: str = "", overrides: dict[str, Any] | None = None) -> SessionInfo:
        """A new session; `overrides` (e.g. the audience) apply to each of its turns."""
        settings = check_overrides(overrides)
        self._checked(settings)  # an invalid value fails now, not at the first question
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
        context: PatientContext | None = None,
        standalone: str | None = None,
        on_retrieved: Callable[[list[Hit]], None] | None = None,
        on_token: Callable[[str], None] | None = None,
        on_stage: Callable[[str], None] | None = None,
    ) -> Turn:
        """Answer the next message of a session and store the turn.

        The session's own overrides apply, with the message's `overrides` on top. `context`,
        `standalone` and the callbacks are as for `ask`. The returned turn has its `seq` (the
        answer's) and its review: submitted, as every new answer is.
        """
        message = check_question(message)
        session = self.store.get(session_id)
        checked = self._checked(_merge(session.settings, check_overrides(overrides)))
        if on_stage is not None:
            on_stage("rewriting")
        if standalone is not None:
            standalone = check_question(standalone)
        else:
            standalone = self.rewrite(history_of(session), message)
        callbacks = Callbacks(on_retrieved=on_retrieved, on_token=on_token, on_stage=on_stage)
        answer = self._answer(standalone, filters, checked, callbacks, context)
        seq = self.store.append_turn(session_id, message, standalone, answer)
        return Turn(
            session_id=session_id,
            seq=seq,
            question=message,
            standalone_question=standalone,
            answer=answer,
            review=Review(),
        )

    def regenerate(
        self,
        session_id: str,
        seq: int,
        *,
        standalone: str | None = None,
        context: PatientContext | None = None,
        filters: Filters | None = None,
        overrides: dict[str, Any] | None = None,
        on_retrieved: Callable[[list[Hit]], None] | None = None,
        on_token: Callable[[str], None] | None = None,
        on_stage: Callable[[str], None] | None = None,
    ) -> Turn:
        """Answer the stored turn whose answer is at `seq` again, and store the new answer in its place.

        It searches for `standalone` when given (a reader's edit of "Searched as"), else for the
        turn's stored standalone question; nothing is rewritten. `context` defaults to the patient
        the stored answer was about (pass an empty `PatientContext()` to drop it); `filters` are
        not stored with a turn, so they are the call's. The session's overrides apply, with
        `overrides` on top. The review follows `SessionStore.replace_answer`: back to submitted
        when the new answer comes from another index or says something else, else unchanged.
        The callbacks are as for `ask` (stages from "retrieving" on).
        """
        session = self.store.get(session_id)
        question, stored = _turn_messages(session, seq)
        checked = self._checked(_merge(session.settings, check_overrides(overrides)))
        if standalone is not None:
            standalone = check_question(standalone)
        else:
            standalone = question.standalone_question or question.content
        if context is None and stored.answer is not None:
            context = stored.answer.patient_context
        callbacks = Callbacks(on_retrieved=on_retrieved, on_token=on_token, on_stage=on_stage)
        answer = self._answer(standalone, filters, checked, callbacks, context)
        review = self.store.replace_answer(session_id, seq, standalone, answer)
        return Turn(
            session_id=session_id,
            seq=seq,
            question=question.content,
            standalone_question=standalone,
            answer=answer,
            review=review,
        )

    # --- reviews -----------------------------------------------------------------------------

    def review(self, session_id: str, seq: int, status: str, reviewer: str, note: str = "") -> Review:
        """Mark the answer at `seq` submitted, under review, approved or flagged, by `reviewer`, with a note.

        QueryError for an unknown status, an empty reviewer (or over 120 characters) or a note
        over 2,000 characters; SessionNotFoundError, or TurnNotFoundError when `seq` is not an answer.
        """
        checked_status, name, text = check_review(status, reviewer, note)
        return self.store.review(session_id, seq, checked_status, name, text)

    def review_of(self, session_id: str, seq: int) -> Review:
        """The review of the answer at `seq`, with its history."""
        return self.store.review_of(session_id, seq)

    # --- internals ---------------------------------------------------------------------------

    def _checked(self, overrides: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """`overrides` once the pipeline accepts them (a bad value is the reader's: a QueryError)."""
        try:
            self.oracle.pipeline.components(overrides)
        except ConfigError as exc:  # a value the reader chose, so a bad request, not a bad config
            raise QueryError(str(exc)) from None
        return overrides

    def _answer(
        self,
        question: str,
        filters: Filters | None,
        overrides: dict[str, dict[str, Any]],
        callbacks: Callbacks,
        context: PatientContext | None,
    ) -> Answer:
        return self.oracle.run(question, filters, overrides, callbacks, context)


def _turn_messages(session: Session, seq: int) -> tuple[ChatMessage, ChatMessage]:
    """(the question, the answer) of the turn whose answer is at `seq`; TurnNotFoundError if none."""
    by_seq = {message.seq: message for message in session.messages}
    answer, question = by_seq.get(seq), by_seq.get(seq - 1)
    if answer is None or answer.role != "assistant" or question is None or question.role != "user":
        raise TurnNotFoundError(
            f"session {session.id!r} has no answer at seq {seq}; use the seq of an answer (a Turn's seq, "
            "an assistant message's seq)"
        )
    return question, answer


def history_of(session: Session) -> list[Exchange]:
    """The session's turns as exchanges (question, standalone question, answer body)."""
    exchanges: list[Exchange] = []
    pending = None
    for message in session.messages:
        if message.role == "user":
            pending = message
        elif pending is not None:
            exchanges.append(
                Exchange(question=pending.content, standalone=pending.standalone_question, answer=message.content)
            )
            pending = None
    return exchanges
