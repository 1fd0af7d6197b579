"""Conversations: /v1/sessions and their messages, regeneration, reviews, export and deletion."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response

from rag_oracle.chat import ChatService, Session, SessionInfo, Turn
from rag_oracle.server.auth import require_reviewer
from rag_oracle.server.deps import get_service
from rag_oracle.server.models import MessageCreate, RegenerateRequest, ReviewRequest, SessionCreate, SessionList
from rag_oracle.server.streaming import OnRetrieved, OnStage, OnToken, answer_stream, wants_stream
from rag_oracle.types import Review

router = APIRouter(prefix="/v1/sessions", tags=["sessions"])
Service = Annotated[ChatService, Depends(get_service)]
_STREAM_DOC = {200: {"content": {"text/event-stream": {"schema": {"type": "string"}}}}}


@router.post("", response_model=SessionInfo, status_code=201, summary="Start a conversation")
def create_session(service: Service, body: SessionCreate | None = None) -> SessionInfo:
    body = body or SessionCreate()
    return service.start_session(body.title, body.settings.as_dict() if body.settings else None)


@router.get("", response_model=SessionList, summary="Stored conversations, most recent first")
def list_sessions(service: Service) -> SessionList:
    return SessionList(sessions=service.sessions())


@router.get("/{session_id}", response_model=Session, summary="A conversation with every message")
def get_session(session_id: str, service: Service) -> Session:
    return service.session(session_id)


@router.post(
    "/{session_id}/messages",
    response_model=Turn,
    summary="Ask the next question of a conversation",
    responses=_STREAM_DOC,
)
def post_message(session_id: str, body: MessageCreate, request: Request, service: Service):
    """A follow-up is rewritten into a standalone question using the conversation (or
    `standalone_question` is searched for instead); retrieval runs again and the answer cites the
    new passages. Streams like /v1/ask when asked to."""
    overrides = body.settings.as_dict() if body.settings else None

    def send(
        on_retrieved: OnRetrieved | None = None, on_token: OnToken | None = None, on_stage: OnStage | None = None
    ) -> Turn:
        return service.send(
            session_id,
            body.content,
            filters=body.filters,
            overrides=overrides,
            context=body.context,
            standalone=body.standalone_question,
            on_retrieved=on_retrieved,
            on_token=on_token,
            on_stage=on_stage,
        )

    if wants_stream(request, body.stream):
        service.check(body.content, overrides, session_id, body.standalone_question)
        return answer_stream(send)
    return send()


@router.post(
    "/{session_id}/messages/{seq}/regenerate",
    response_model=Turn,
    summary="Answer a stored turn again, in its place",
    responses=_STREAM_DOC,
)
def regenerate(session_id: str, seq: int, request: Request, service: Service, body: RegenerateRequest | None = None):
    """`seq` is the answer's (a Turn's seq). Searches for `standalone_question` when given (an
    edited "Searched as"), else for the stored one, and replaces the turn's question and answer.
    An answer under review, approved or flagged goes back to submitted when the new answer comes
    from another index or says something else. Streams like /v1/ask when asked to."""
    body = body or RegenerateRequest()
    overrides = body.settings.as_dict() if body.settings else None

    def again(
        on_retrieved: OnRetrieved | None = None, on_token: OnToken | None = None, on_stage: OnStage | None = None
    ) -> Turn:
        return service.regenerate(
            session_id,
            seq,
            standalone=body.standalone_question,
            context=body.context,
            filters=body.filters,
            overrides=overrides,
            on_retrieved=on_retrieved,
            on_token=on_token,
            on_stage=on_stage,
        )

    if wants_stream(request, body.stream):
        service.check_regenerate(session_id, seq, body.standalone_question, overrides)
        return answer_stream(again)
    return again()


@router.get("/{session_id}/messages/{seq}/review", response_model=Review, summary="An answer's review status")
def get_review(session_id: str, seq: int, service: Service) -> Review:
    """Submitted, under review, approved or flagged; who changed it last, when, the note, and every change."""
    return service.review_of(session_id, seq)


@router.put(
    "/{session_id}/messages/{seq}/review",
    response_model=Review,
    summary="Mark an answer under review, approved or flagged",
    dependencies=[Depends(require_reviewer)],
)
def put_review(session_id: str, seq: int, body: ReviewRequest, service: Service) -> Review:
    """Records who reviewed the answer at `seq`, the status and a note (appended to its history).
    With an API key, key holders may review; without one, only clients on the server's machine."""
    return service.review(session_id, seq, body.status, body.reviewer, body.note)


@router.get("/{session_id}/export", summary="Download a conversation as JSON or Markdown")
def export_session(
    session_id: str, service: Service, format: Annotated[Literal["json", "markdown"], Query()] = "json"
) -> Response:
    text = service.export(session_id, format)
    media = "application/json" if format == "json" else "text/markdown; charset=utf-8"
    suffix = "json" if format == "json" else "md"
    disposition = f'attachment; filename="rag-oracle-session-{session_id}.{suffix}"'
    return Response(text, media_type=media, headers={"Content-Disposition": disposition})


@router.delete("/{session_id}", status_code=204, summary="Delete a conversation")
def delete_session(session_id: str, service: Service) -> Response:
    service.delete_session(session_id)
    return Response(status_code=204)
