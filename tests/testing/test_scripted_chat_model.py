"""The scripted chat model: replies in order, exceptions raised, streaming in pieces, a public history."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage

from rag_oracle.testing import ScriptedChatModel, ScriptExhaustedError


def test_is_a_langchain_chat_model_answering_in_order() -> None:
    model = ScriptedChatModel(["first", "second"])
    assert isinstance(model, BaseChatModel)
    assert model.invoke("one").content == "first"
    assert model.invoke([SystemMessage("be brief"), HumanMessage("two")]).content == "second"
    assert model.remaining == 0


def test_history_records_every_request() -> None:
    model = ScriptedChatModel(["a", ConnectionError("refused")])
    model.invoke([SystemMessage("rules"), HumanMessage("question one")])
    with pytest.raises(ConnectionError, match="refused"):
        model.invoke("question two")
    assert [[m.content for m in messages] for messages in model.history] == [
        ["rules", "question one"],
        ["question two"],
    ]
    assert [type(m).__name__ for m in model.history[0]] == ["SystemMessage", "HumanMessage"]
    model.history.clear()  # a copy: the record cannot be altered from outside
    assert len(model.history) == 2


def test_streaming_yields_the_reply_in_pieces() -> None:
    reply = "## Answer\nStop warfarin 5 days before surgery [1].\n\n- Check the INR.  \n"
    model = ScriptedChatModel([reply, ""])
    pieces = [chunk.content for chunk in model.stream("q")]
    assert len(pieces) > 5 and "".join(pieces) == reply
    assert [chunk.content for chunk in model.stream("q")] == [""]


def test_an_exception_is_raised_when_streaming_too() -> None:
    model = ScriptedChatModel([TimeoutError("slow")])
    with pytest.raises(TimeoutError):
        list(model.stream("q"))
    assert len(model.history) == 1


def test_an_empty_queue_is_a_clear_error() -> None:
    model = ScriptedChatModel(["only"])
    model.invoke("first call")
    with pytest.raises(
        ScriptExhaustedError, match=r"no reply left for call 2: it was scripted with 1 reply\b.*'second"
    ):
        model.invoke("second call")
    with pytest.raises(ScriptExhaustedError, match="scripted with 0 replies"):
        ScriptedChatModel().invoke("x")


def test_replies_must_be_text_or_exceptions() -> None:
    with pytest.raises(TypeError, match="string or an exception instance"):
        ScriptedChatModel([42])


def test_concurrent_calls_each_take_one_reply() -> None:
    replies = [f"reply {i}" for i in range(40)]
    model = ScriptedChatModel(replies)
    with ThreadPoolExecutor(8) as pool:
        got = list(pool.map(lambda i: model.invoke(f"q{i}").content, range(40)))
    assert sorted(got) == sorted(replies) and model.remaining == 0 and len(model.history) == 40


def test_the_kit_does_not_import_pytest() -> None:
    # pytest is a dev dependency: only the contract suites may need it.
    code = "import sys, rag_oracle.testing; assert 'pytest' not in sys.modules, 'rag_oracle.testing imported pytest'"
    subprocess.run([sys.executable, "-c", code], check=True)
