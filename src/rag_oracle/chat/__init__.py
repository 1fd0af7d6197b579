"""Conversations: sessions stored in SQLite, follow-ups rewritten into standalone questions,
retrieval and a freshly cited answer for every turn. Used by `rag-oracle chat` and the server.

Example::

    from rag_oracle.chat import ChatService, SessionStore

    service = ChatService(oracle, SessionStore("sessions.sqlite"))
    session = service.start_session()
    service.send(session.id, "What is the dose of clonazepam for depression?")
    print(service.send(session.id, "and in the elderly?").standalone_question)
"""

from rag_oracle.chat.base import QuestionRewriter
from rag_oracle.chat.export import render_reply, session_json, session_markdown
from rag_oracle.chat.rewrite import LlmRewriter, SubjectCarryRewriter, TurnRewriter, make_rewriter
from rag_oracle.chat.service import (
    ALLOWED_OVERRIDES,
    MAX_QUESTION_CHARS,
    ChatService,
    check_question,
    history_of,
)
from rag_oracle.chat.store import SessionStore, default_db_path
from rag_oracle.errors import DocumentNotFoundError, SessionNotFoundError, SessionStoreError, TurnNotFoundError
from rag_oracle.types import ChatMessage, Exchange, Review, ReviewEvent, Session, SessionInfo, Turn

__all__ = [
    "ALLOWED_OVERRIDES",
    "MAX_QUESTION_CHARS",
    "ChatMessage",
    "ChatService",
    "DocumentNotFoundError",
    "Exchange",
    "LlmRewriter",
    "QuestionRewriter",
    "Review",
    "ReviewEvent",
    "Session",
    "SessionInfo",
    "SessionNotFoundError",
    "SessionStore",
    "SessionStoreError",
    "SubjectCarryRewriter",
    "Turn",
    "TurnNotFoundError",
    "TurnRewriter",
    "check_question",
    "default_db_path",
    "history_of",
    "make_rewriter",
    "render_reply",
    "session_json",
    "session_markdown",
]
