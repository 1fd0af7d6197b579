"""One-off answers, search and documents: /v1/ask, /v1/search, /v1/documents/{id}."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from rag_oracle.chat import ChatService, Turn
from rag_oracle.retrieve import Filters
from rag_oracle.server.deps import get_service
from rag_oracle.server.models import AskRequest, DocumentResponse, SearchResponse
from rag_oracle.server.streaming import answer_stream, wants_stream

router = APIRouter()
Service = Annotated[ChatService, Depends(get_service)]
_STREAM_DOC = {"text/event-stream": {"schema": {"type": "string", "description": "See docs/server.md: events."}}}


@router.post(
    "/v1/ask",
    response_model=Turn,
    responses={200: {"content": _STREAM_DOC}},
    summary="A cited answer to one question (no session)",
)
def ask(body: AskRequest, request: Request, service: Service):
    """Retrieves passages and composes a cited answer (or an abstention); `context` (the patient)
    becomes the question's population. Streams as server-sent events when `stream` is true,
    `?stream=true` is given, or the client accepts text/event-stream."""
    overrides = body.settings.as_dict() if body.settings else None
    if wants_stream(request, body.stream):
        service.check(body.question, overrides)
        return answer_stream(
            lambda on_retrieved, on_token, on_stage: service.ask(
                body.question,
                filters=body.filters,
                overrides=overrides,
                context=body.context,
                on_retrieved=on_retrieved,
                on_token=on_token,
                on_stage=on_stage,
            )
        )
    return service.ask(body.question, filters=body.filters, overrides=overrides, context=body.context)


@router.get("/v1/search", response_model=SearchResponse, summary="Ranked passages")
def search(
    service: Service,
    q: Annotated[str, Query(min_length=1, max_length=2000, description="What to search for.")],
    k: Annotated[int, Query(ge=1, le=100, description="Passages to return.")] = 10,
    mode: Annotated[str | None, Query(pattern="^(hybrid|dense|bm25)$")] = None,
    year_min: int | None = None,
    year_max: int | None = None,
    publication_type: Annotated[list[str] | None, Query(description="Repeatable.")] = None,
    source: Annotated[list[str] | None, Query(description="Repeatable.")] = None,
    grade: Annotated[
        list[str] | None, Query(description="Evidence grade (guideline, systematic_review, rct, …); repeatable.")
    ] = None,
) -> SearchResponse:
    """Chunks ranked by the index's retriever, with dense and BM25 score components."""
    filters = Filters(
        year_min=year_min,
        year_max=year_max,
        publication_types=publication_type or [],
        sources=source or [],
        grades=grade or [],
    )
    overrides = {"retrieve": {"mode": mode}} if mode else None
    return SearchResponse(query=q, hits=service.search(q, k, filters, overrides))


@router.get("/v1/documents/{doc_id:path}", response_model=DocumentResponse, summary="One document in full")
def document(doc_id: str, service: Service) -> DocumentResponse:
    """The document with this id; the id of a duplicate (an alias) gives the document it duplicates."""
    doc = service.document(doc_id)
    return DocumentResponse(requested_id=doc_id, id=doc.id, document=doc)
