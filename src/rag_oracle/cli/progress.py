"""What the CLI shows while it works: progress bars for long library calls (ingest, sample-index
build, evaluation runs), a one-line spinner while a question is answered, and whether a stream
may be styled (bold headings).

Nothing here draws unless its stream is a terminal: piped or captured output (tests, `| less`,
`> file`) gets no spinner and no escape codes.
"""

from __future__ import annotations

import os
import shutil
import sys
import threading
import time
import weakref
from collections.abc import Callable
from types import TracebackType
from typing import TextIO

FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
ASCII_FRAMES = "|/-\\"
_ERASE = "\r\x1b[K"  # back to the start of the line, clear to its end
# Embedders whose model has run in this process: their next call loads nothing.
_MODELS_RUN: weakref.WeakSet = weakref.WeakSet()
_MODEL_CALLS = ("embed_query", "embed_documents")


def is_terminal(stream: object) -> bool:
    """The stream is an interactive terminal that understands cursor controls (not TERM=dumb)."""
    isatty = getattr(stream, "isatty", None)
    try:
        tty = bool(isatty is not None and isatty())
    except (ValueError, OSError):  # closed or detached
        return False
    return tty and os.environ.get("TERM") != "dumb"


def may_style(stream: object) -> bool:
    """Bold and other styles are allowed on `stream`: a terminal, and NO_COLOR unset or empty
    (https://no-color.org)."""
    return is_terminal(stream) and not os.environ.get("NO_COLOR")


class TqdmProgress:
    """Draws the library's progress events as tqdm bars on stderr (count, rate, ETA).

    Example::

        ingest(paths, "indexes/mine", settings, progress=TqdmProgress(enabled=not quiet))
    """

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.bar = None

    def start(self, phase: str, total: int | None, unit: str) -> None:
        from tqdm import tqdm

        labels = {"read": "reading + chunking", "embed": "embedding", "sentences": "embedding sentences"}
        self.bar = tqdm(
            total=total,
            unit=f" {unit}",
            desc=labels.get(phase, phase),
            disable=not self.enabled,
            file=sys.stderr,
            dynamic_ncols=True,
            smoothing=0.1,
        )

    def advance(self, n: int = 1, **info: object) -> None:
        if self.bar is not None:
            self.bar.update(n)
            if info:
                self.bar.set_postfix(info, refresh=False)

    def finish(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class Spinner:
    """A one-line spinner on stderr, "⠋ retrieving… 1.2 s": the current stage and the seconds since
    it started, redrawn by a small thread every `interval` seconds and erased when it stops.

    It draws only when `stream` is a terminal (`enabled=None`; True or False forces it), so piped
    and captured stderr get nothing. Leaving the `with` block stops it and erases the line, on an
    error or Ctrl-C too. `stage` is a `Callbacks.on_stage`; `stop` can be called early (before an
    LLM's draft streams to the same terminal) and `start` again.

    Example::

        with Spinner("opening the index") as spinner:
            oracle = open_oracle(settings, None, quiet=False)
            spinner.watch_model(oracle.embedder)
            answer = oracle.run(question, callbacks=Callbacks(on_stage=spinner.stage))
        click.echo(render_markdown(answer))
    """

    def __init__(
        self,
        label: str = "working",
        *,
        stream: TextIO | None = None,
        enabled: bool | None = None,
        interval: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = is_terminal(self.stream) if enabled is None else enabled
        self.label = label
        self.interval = interval
        self._clock = clock
        self._frames = FRAMES if _can_encode(self.stream, FRAMES) else ASCII_FRAMES
        self._began: float | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()  # one writer at a time: the thread draws, stop() erases
        self._shown = False
        self._frame = 0
        self._watched: list[object] = []

    # --- use -------------------------------------------------------------------------------

    def stage(self, name: str) -> None:
        """Show `name` now ("retrieving", "composing", ...): a stage shorter than a frame is still seen."""
        self.label = name
        if self._thread is not None:
            self._draw()

    def start(self) -> Spinner:
        """Start drawing (nothing when disabled or already drawing); the seconds count from the first start."""
        if not self.enabled or self._thread is not None:
            return self
        if self._began is None:
            self._began = self._clock()
        self._stopping.clear()
        self._thread = threading.Thread(target=self._spin, name="rag-oracle-spinner", daemon=True)
        self._draw()  # the first frame at once, not an interval later
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop drawing and erase the line; safe to call more than once."""
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stopping.set()
            thread.join()
        with self._lock:
            if self._shown:
                self._write(_ERASE)
                self._shown = False

    def watch_model(self, embedder: object) -> None:
        """Show "loading the model" while `embedder`'s model loads.

        The model loads on its first use, and only when a vector is not in the embedding cache, so
        whether a question waits for it is known only when it happens: until the model has run
        once, its calls are wrapped to say so (unwrapped when the `with` block ends). An embedder
        with nothing to load (no `warm_up`, e.g. the hash embedder) is left alone.
        """
        model = getattr(embedder, "inner", embedder)  # the cache's wrapped model
        if not self.enabled or not hasattr(model, "warm_up") or _has_run(model) or model in self._watched:
            return
        try:
            for name in _MODEL_CALLS:
                setattr(model, name, self._announcing(model, getattr(model, name)))
        except (AttributeError, TypeError):  # no instance attributes (slots): no notice, nothing breaks
            self._unwatch(model)
            return
        self._watched.append(model)

    def __enter__(self) -> Spinner:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
        for model in self._watched:
            self._unwatch(model)
        self._watched.clear()

    # --- internals -------------------------------------------------------------------------

    def line(self, frame: int) -> str:
        """The text of one frame: "⠋ retrieving… 1.2 s", cut to the terminal's width."""
        seconds = self._clock() - (self._began if self._began is not None else self._clock())
        text = f"{self._frames[frame % len(self._frames)]} {self.label}… {seconds:.1f} s"
        width = shutil.get_terminal_size((80, 24)).columns - 1  # a wrapped line could not be erased
        return text[:width]

    def _spin(self) -> None:
        while not self._stopping.wait(self.interval):
            self._draw()

    def _draw(self) -> None:
        with self._lock:
            if self._stopping.is_set():
                return
            self._write(_ERASE + self.line(self._frame))
            self._shown = True
            self._frame += 1

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # the terminal went away: the answer matters, not the spinner
            pass

    def _announcing(self, model: object, call: Callable) -> Callable:
        def announced(*args, **kwargs):
            if _has_run(model):
                return call(*args, **kwargs)
            previous = self.label
            self.stage("loading the model")
            try:
                return call(*args, **kwargs)
            finally:
                _MODELS_RUN.add(model)
                self.stage(previous)

        return announced

    @staticmethod
    def _unwatch(model: object) -> None:
        for name in _MODEL_CALLS:
            if name in getattr(model, "__dict__", {}):
                delattr(model, name)


def _has_run(model: object) -> bool:
    try:
        return model in _MODELS_RUN
    except TypeError:  # not weak-referenceable
        return True


def _can_encode(stream: object, text: str) -> bool:
    try:
        text.encode(getattr(stream, "encoding", None) or "ascii")
    except (UnicodeEncodeError, LookupError):
        return False
    return True
