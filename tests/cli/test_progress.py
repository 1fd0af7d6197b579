"""The spinner: drawn only on a terminal, one line with the stage and the seconds, erased when it stops
(on an error and Ctrl-C too); "loading the model" while the embedding model loads on first use."""

from __future__ import annotations

import io
import threading
import time

import numpy as np
import pytest

from rag_oracle.cli.progress import Spinner, is_terminal, may_style
from rag_oracle.embed import HashEmbedder

ERASE = "\r\x1b[K"


class FakeTerminal(io.StringIO):
    def __init__(self, encoding: str = "utf-8") -> None:
        super().__init__()
        self._encoding = encoding

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self._encoding

    def isatty(self) -> bool:
        return True


def wait_for(predicate, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def spinner_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "rag-oracle-spinner"]


@pytest.fixture(autouse=True)
def a_real_terminal_type(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.delenv("NO_COLOR", raising=False)


def test_on_a_terminal_it_shows_the_stage_and_seconds_and_is_erased_at_the_end() -> None:
    tty = FakeTerminal()
    with Spinner("opening the index", stream=tty, interval=0.005) as spinner:
        wait_for(lambda: "opening the index…" in tty.getvalue())
        spinner.stage("retrieving")
        wait_for(lambda: "retrieving…" in tty.getvalue())
    out = tty.getvalue()
    assert out.endswith(ERASE)
    frames = [f for f in out.split(ERASE) if f]
    assert frames and all("\n" not in f for f in frames)  # one line, redrawn in place
    assert frames[-1].startswith(("⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"))
    assert frames[-1].split(" ", 1)[1].startswith("retrieving… ") and frames[-1].endswith(" s")
    assert not spinner_threads()


def test_the_line_says_the_stage_and_the_seconds_since_it_started() -> None:
    now = [100.0]
    spinner = Spinner("retrieving", stream=FakeTerminal(), clock=lambda: now[0])
    spinner._began = 100.0
    now[0] = 101.2
    assert spinner.line(0) == "⠋ retrieving… 1.2 s"
    assert Spinner("composing", stream=FakeTerminal(encoding="ascii")).line(1).startswith("/ composing…")


@pytest.mark.parametrize("stream", [io.StringIO(), None], ids=["piped", "captured stderr"])
def test_not_a_terminal_draws_nothing_and_starts_no_thread(stream, capsys) -> None:
    with Spinner("retrieving", stream=stream, interval=0.001) as spinner:
        assert not spinner.enabled and not spinner_threads()
        time.sleep(0.02)
    if stream is not None:
        assert stream.getvalue() == ""
    assert capsys.readouterr().err == ""


def test_a_dumb_terminal_gets_no_spinner_and_no_style(monkeypatch: pytest.MonkeyPatch) -> None:
    tty = FakeTerminal()
    assert is_terminal(tty) and may_style(tty)
    monkeypatch.setenv("TERM", "dumb")
    assert not Spinner(stream=tty).enabled and not may_style(tty)


def test_no_color_turns_styles_off_but_not_the_spinner(monkeypatch: pytest.MonkeyPatch) -> None:
    tty = FakeTerminal()
    monkeypatch.setenv("NO_COLOR", "1")
    assert not may_style(tty) and Spinner(stream=tty).enabled
    monkeypatch.setenv("NO_COLOR", "")  # present but empty: no effect (no-color.org)
    assert may_style(tty)
    assert not may_style(io.StringIO())


@pytest.mark.parametrize("interruption", [RuntimeError("the index is gone"), KeyboardInterrupt()])
def test_it_stops_and_erases_on_an_error_and_on_ctrl_c(interruption: BaseException) -> None:
    tty = FakeTerminal()
    with pytest.raises(type(interruption)):
        with Spinner("retrieving", stream=tty, interval=0.005):
            wait_for(lambda: "retrieving…" in tty.getvalue())
            raise interruption
    assert tty.getvalue().endswith(ERASE) and not spinner_threads()
    written = len(tty.getvalue())
    time.sleep(0.03)
    assert len(tty.getvalue()) == written  # nothing drawn after it stopped


def test_stop_early_then_the_line_stays_clear() -> None:
    tty = FakeTerminal()
    with Spinner("composing", stream=tty, interval=0.005) as spinner:
        wait_for(lambda: "composing…" in tty.getvalue())
        spinner.stop()  # an LLM's draft is about to be written here
        tty.write("draft text")
        time.sleep(0.03)
    assert tty.getvalue().endswith(ERASE + "draft text")


class LazyModel:
    """An embedder whose model loads on its first call (like SentenceTransformerEmbedder)."""

    def __init__(self, spinner_label) -> None:
        self.label_during_calls: list[str] = []
        self._label = spinner_label

    def warm_up(self) -> None:
        pass

    def embed_query(self, text: str) -> np.ndarray:
        self.label_during_calls.append(self._label())
        return np.zeros(4, dtype=np.float32)

    def embed_documents(self, texts) -> np.ndarray:
        self.label_during_calls.append(self._label())
        return np.zeros((len(texts), 4), dtype=np.float32)


def test_loading_the_model_is_a_stage_until_the_model_has_run_once() -> None:
    spinner = Spinner("retrieving", stream=FakeTerminal(), interval=10)
    model = LazyModel(lambda: spinner.label)
    with spinner:
        spinner.watch_model(model)
        model.embed_query("warfarin")
        assert spinner.label == "retrieving"  # back to the stage the load interrupted
        model.embed_documents(["a sentence"])
    assert model.label_during_calls == ["loading the model", "retrieving"]
    assert "embed_query" not in vars(model) and "embed_documents" not in vars(model)  # unwrapped

    later = Spinner("retrieving", stream=FakeTerminal(), interval=10)
    model._label = lambda: later.label
    with later:
        later.watch_model(model)  # already loaded in this process: not announced again
        model.embed_query("heparin")
    assert model.label_during_calls[-1] == "retrieving"


def test_an_embedder_with_nothing_to_load_is_left_alone() -> None:
    embedder = HashEmbedder(dimension=8)
    with Spinner(stream=FakeTerminal(), interval=10) as spinner:
        spinner.watch_model(embedder)
        assert "embed_query" not in vars(embedder)
