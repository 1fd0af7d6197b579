"""Conversations: /v1/sessions and their messages, export and deletion."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response

from rag_oracle.chat import ChatService, Session, SessionInfo, Turn
from rag_oracle.server.deps import get_service
from rag_oracle.server.models import MessageCreate, SessionCreate, SessionList
from rag_oracle.server.streaming import answer_stream, wants_stream

router = APIRouter(prefix="/v1/sessions", tags=["sessions"])
Service = Annotated[ChatService, Depends(get_service)]


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
    responses={200: {"content": {"text/event-stream": {"schema": {"type": "string"}}}}},
)
def post_message(session_id: str, body: MessageCreate, request: Request, service: Service):
    """A follow-up is rewritten into a standalone question using the conversation; retrieval runs
    again and the answer cites the new passages. Streams like /v1/ask when asked to."""
    overrides = body.settings.as_dict() if body.settings else None
    if wants_stream(request, body.stream):
        service.check(body.content, overrides, session_id)
        return answer_stream(
            lambda on_retrieved, on_token: service.send(
                session_id,
                body.content,
                filters=body.filters,
                overrides=overrides,
                on_retrieved=on_retrieved,
                on_token=on_token,
            )
        )
    return service.send(session_id, body.content, filters=body.filters, overrides=overrides)


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
