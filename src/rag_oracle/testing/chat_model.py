"""A scripted chat model: replies come from a queue, every request is recorded.

It is a real LangChain `BaseChatModel`, so `invoke`, `stream`, `batch` and callbacks behave as
with any provider's model; only the text comes from the script. A reply is a string, or an
exception instance, which the call raises instead of answering (a refused connection, a
timeout). Streaming yields the reply word by word (each piece keeps the whitespace after it),
so the pieces join back to the reply exactly.

Example::

    model = ScriptedChatModel(["The passages do not answer this question.", ConnectionError("refused")])
    model.invoke([("human", "Q?")]).content      # 'The passages do not answer this question.'
    model.invoke([("human", "again?")])          # raises ConnectionError
    model.history[1][0].content                  # 'again?'
    model.invoke([("human", "a third time?")])   # raises ScriptExhaustedError
"""

from __future__ import annotations

import re
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import PrivateAttr

Reply = str | BaseException
_PIECE = re.compile(r"\S+\s*|\s+")
# langchain-core 1.x appends an empty closing chunk to a stream unless the last one says it is last.
_MARKS_LAST = "chunk_position" in AIMessageChunk.model_fields


class ScriptExhaustedError(AssertionError):
    """The scripted model was called more often than it has replies: the test's script is short.

    An AssertionError, because it is a mistake in the test, not a condition rag-oracle handles.
    (A generator that wraps client errors reports it inside its LlmError message.)
    """


class ScriptedChatModel(BaseChatModel):
    """A chat model that answers from a queue of replies (strings, or exceptions to raise).

    >>> model = ScriptedChatModel(["first", "second reply"])
    >>> model.invoke("hi").content
    'first'
    >>> [chunk.content for chunk in model.stream("again")]
    ['second ', 'reply']
    >>> [[m.content for m in messages] for messages in model.history]
    [['hi'], ['again']]
    >>> model.remaining
    0
    """

    _queue: deque = PrivateAttr(default_factory=deque)
    _history: list = PrivateAttr(default_factory=list)
    _given: int = PrivateAttr(default=0)
    _lock: Any = PrivateAttr(default_factory=threading.Lock)

    def __init__(self, replies: Iterable[Reply] = (), **kwargs: Any) -> None:
        super().__init__(**kwargs)
        replies = list(replies)
        for reply in replies:
            if not isinstance(reply, str | BaseException):
                raise TypeError(
                    f"a scripted reply is a string or an exception instance, not {type(reply).__name__}: {reply!r}"
                )
        self._queue.extend(replies)
        self._given = len(replies)

    @property
    def _llm_type(self) -> str:
        return "scripted"

    @property
    def history(self) -> list[list[BaseMessage]]:
        """The message lists of every call so far, oldest first (calls that raised included)."""
        with self._lock:
            return [list(messages) for messages in self._history]

    @property
    def remaining(self) -> int:
        """Replies not used yet."""
        with self._lock:
            return len(self._queue)

    def _next(self, messages: list[BaseMessage]) -> str:
        with self._lock:
            self._history.append(list(messages))
            call = len(self._history)
            if not self._queue:
                last = str(messages[-1].content) if messages else ""
                raise ScriptExhaustedError(
                    f"ScriptedChatModel has no reply left for call {call}: it was scripted with {self._given} "
                    f"repl{'y' if self._given == 1 else 'ies'}. The call's last message begins {last[:80]!r}. "
                    "Script one reply per model call."
                )
            reply = self._queue.popleft()
        if isinstance(reply, BaseException):
            raise reply
        return reply

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=self._next(messages)))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        reply = self._next(messages)
        # LangChain refuses a stream of no chunks, so an empty reply is one empty piece.
        pieces = _PIECE.findall(reply) or [""]
        for i, piece in enumerate(pieces):
            last = {"chunk_position": "last"} if i == len(pieces) - 1 and _MARKS_LAST else {}
            chunk = ChatGenerationChunk(message=AIMessageChunk(content=piece, **last))
            if run_manager is not None:
                run_manager.on_llm_new_token(piece, chunk=chunk)
            yield chunk
