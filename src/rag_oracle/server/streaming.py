"""Answers as server-sent events: the library runs in a worker thread and its callbacks become events.

Events, in order:

- `stage`: `{"stage": name, "elapsed_ms": ms}` as each stage starts ("rewriting" (not for a
  regenerated turn), "retrieving", "composing", "verifying" (not for an abstention)), `elapsed_ms`
  counted from the start of the stream; interleaved with the events below;
- `retrieval`: `{"hits": [{rank, chunk_id, doc_id, title, year, score}, ...]}` once passages are found;
- `token`: `{"text": "..."}` for each piece of the LLM's draft as it is written, or the extractive
  generator's whole draft in one piece (unverified: shown while its citations are checked);
- `answer`: the turn (`question`, `standalone_question`, `answer`, session id and seq): the
  verified answer, which is what to show;
- `error`: `{"error": {"code", "message"}}` if the answer failed after the stream began.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable

import anyio.to_thread
from fastapi import Request
from sse_starlette import EventSourceResponse

from rag_oracle.chat import Turn
from rag_oracle.server.errors import classify, error_body, log
from rag_oracle.types import Hit

OnRetrieved = Callable[[list[Hit]], None]
OnToken = Callable[[str], None]
OnStage = Callable[[str], None]
Work = Callable[[OnRetrieved, OnToken, OnStage], Turn]


def wants_stream(request: Request, flag: bool) -> bool:
    """Streaming was asked for: the body's `stream`, `?stream=true`, or `Accept: text/event-stream`."""
    query = request.query_params.get("stream", "").lower() in {"1", "true", "yes"}
    return flag or query or "text/event-stream" in request.headers.get("accept", "")


def hit_summary(hit: Hit) -> dict:
    return {
        "rank": hit.rank,
        "chunk_id": hit.chunk.id,
        "doc_id": hit.chunk.doc_id,
        "title": hit.document.title,
        "year": hit.document.year,
        "score": hit.score,
    }


async def events(work: Work) -> AsyncIterator[tuple[str, object]]:
    """(event name, payload) pairs while `work` runs in a thread; ends after `answer` or `error`."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[str, object] | None] = asyncio.Queue()
    started = time.perf_counter()

    def put(item: tuple[str, object]) -> None:
        loop.call_soon_threadsafe(queue.put_nowait, item)

    def on_retrieved(hits: list[Hit]) -> None:
        put(("retrieval", {"hits": [hit_summary(h) for h in hits]}))

    def on_token(text: str) -> None:
        put(("token", {"text": text}))

    def on_stage(name: str) -> None:
        put(("stage", {"stage": name, "elapsed_ms": round((time.perf_counter() - started) * 1000, 2)}))

    async def run() -> None:
        try:
            turn = await anyio.to_thread.run_sync(work, on_retrieved, on_token, on_stage)
            queue.put_nowait(("answer", turn))
        except Exception as exc:  # reported to the client as an event: the status line is already sent
            status, code, message = classify(exc)
            if status >= 500:
                log.error("streamed answer failed: %s", message, exc_info=exc)
            queue.put_nowait(("error", error_body(code, message)))
        finally:
            queue.put_nowait(None)

    task = asyncio.create_task(run())
    try:
        while (item := await queue.get()) is not None:
            yield item
    finally:
        if not task.done():
            # The client left; the thread finishes on its own (a session turn is still stored).
            task.cancel()


def _encode(payload: object) -> str:
    if isinstance(payload, Turn):
        return payload.model_dump_json()
    return json.dumps(payload)


def answer_stream(work: Work) -> EventSourceResponse:
    """An SSE response carrying the events of `work` (see the module docstring)."""

    async def source() -> AsyncIterator[dict]:
        async for name, payload in events(work):
            yield {"event": name, "data": _encode(payload)}

    return EventSourceResponse(source(), headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
