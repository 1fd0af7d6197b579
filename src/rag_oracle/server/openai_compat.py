"""OpenAI-compatible endpoints, so existing clients can use rag-oracle as a model.

POST /v1/chat/completions: the last user message is the question; earlier user and assistant
messages are the conversation its follow-up is rewritten against; system messages are ignored.
The reply is the verified answer rendered as text: the body with [n] markers, then a numbered
References list and the disclaimer, as Markdown in which no document text is markup (`render_reply`:
a planted image, link or script arrives as words, so a client that renders the reply fetches and
runs nothing). The `rag_oracle` extension is JSON and faithful. With `stream: true` it arrives
as OpenAI-style `chat.completion.chunk` events ending with `data: [DONE]`; because only a verified
answer is sent, the content streams once the answer is complete (an LLM's unverified draft is not
sent).
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from sse_starlette import EventSourceResponse

from rag_oracle.chat import ChatService, Exchange, Turn, render_reply
from rag_oracle.errors import QueryError
from rag_oracle.server.deps import get_service
from rag_oracle.server.openai_models import (
    AssistantMessage,
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionRequest,
    ChatMessageIn,
    Choice,
    ChunkChoice,
    Delta,
    ModelCard,
    ModelList,
)
from rag_oracle.server.streaming import events

router = APIRouter(tags=["openai-compatible"])
Service = Annotated[ChatService, Depends(get_service)]
_PIECE = re.compile(r"\S+\s*|\s+")
_PIECE_WORDS = 8


def conversation(messages: list[ChatMessageIn]) -> tuple[list[Exchange], str]:
    """(earlier exchanges, the question): the question is the last user message."""
    turns = [m for m in messages if m.role in {"user", "assistant"}]
    last_user = max((i for i, m in enumerate(turns) if m.role == "user"), default=None)
    if last_user is None:
        raise QueryError("the request has no user message; the last user message is the question")
    history: list[Exchange] = []
    for message in turns[:last_user]:
        if message.role == "user":
            history.append(Exchange(question=message.text))
        elif history:
            last = history[-1]
            history[-1] = Exchange(
                question=last.question, standalone=last.standalone, answer=(last.answer + " " + message.text).strip()
            )
    return history, turns[last_user].text


def pieces(text: str, words: int = _PIECE_WORDS) -> list[str]:
    """`text` cut into runs of a few words (whitespace kept), for streaming."""
    tokens = _PIECE.findall(text)
    return ["".join(tokens[i : i + words]) for i in range(0, len(tokens), words)]


def _extension(turn: Turn) -> dict:
    return {
        "standalone_question": turn.standalone_question,
        "abstained": turn.answer.abstained,
        "references": [
            r.model_dump(include={"number", "chunk_id", "doc_id", "title", "year"}) for r in turn.answer.references
        ],
    }


@router.get("/v1/models", response_model=ModelList, summary="The model rag-oracle serves (OpenAI-compatible)")
def list_models(request: Request) -> ModelList:
    return ModelList(data=[ModelCard(id=request.app.state.config.model_name, created=request.app.state.started)])


@router.post(
    "/v1/chat/completions",
    response_model=ChatCompletion,
    summary="Chat completion (OpenAI-compatible): a cited answer to the last user message",
)
def chat_completions(body: ChatCompletionRequest, service: Service):
    history, question = conversation(body.messages)
    service.check(question)
    completion_id = f"chatcmpl-{uuid.uuid4().hex}"
    created = int(time.time())
    if body.stream:
        return _stream(service, history, question, completion_id, created, body.model)
    turn = service.ask(question, history=history)
    return ChatCompletion(
        id=completion_id,
        created=created,
        model=body.model,
        choices=[Choice(message=AssistantMessage(content=render_reply(turn.answer)))],
        rag_oracle=_extension(turn),
    )


def _stream(
    service: ChatService, history: list[Exchange], question: str, completion_id: str, created: int, model: str
) -> EventSourceResponse:
    def chunk(delta: Delta, finish: bool = False) -> str:
        choice = ChunkChoice(delta=delta, finish_reason="stop" if finish else None)
        return ChatCompletionChunk(id=completion_id, created=created, model=model, choices=[choice]).model_dump_json(
            exclude_none=True
        )

    async def source() -> AsyncIterator[dict]:
        yield {"data": chunk(Delta(role="assistant", content=""))}
        work = lambda on_retrieved, on_token, on_stage: service.ask(question, history=history)  # noqa: E731
        async for name, payload in events(work):
            if name == "answer":
                for piece in pieces(render_reply(payload.answer)):
                    yield {"data": chunk(Delta(content=piece))}
                yield {"data": chunk(Delta(), finish=True)}
            elif name == "error":
                yield {"data": json.dumps(payload)}
        yield {"data": "[DONE]"}

    return EventSourceResponse(source(), headers={"Cache-Control": "no-store"})
