"""What /healthz checks: the opened index is whole, the sessions file answers a read and a write
lock, and (when the app warms up) the model has loaded.

Each check is a name and None (passed) or what failed. The messages may name files, so the route
shows them, like the paths, only to callers allowed to see paths (`auth.may_see_paths`).

`WarmUp` loads the model in a background thread, so the server listens at once: /healthz says
"starting" (503) until it has finished, and questions that arrive meanwhile wait for it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from time import perf_counter
from typing import Literal

from rag_oracle.chat import ChatService
from rag_oracle.errors import RagOracleError

log = logging.getLogger("rag_oracle.server")


def _index_problem(service: ChatService) -> str | None:
    index = service.oracle.index
    vectors = getattr(index.faiss_index, "ntotal", None)
    if vectors != len(index.chunks):
        return f"the index {service.index_path} holds {vectors} vectors for {len(index.chunks)} chunks"
    return None


def _sessions_problem(service: ChatService) -> str | None:
    service.store.check()
    return None


_CHECKS = {"index": _index_problem, "sessions": _sessions_problem}


def run_checks(service: ChatService) -> dict[str, str | None]:
    """{"index": None, "sessions": "sessions file ... is unusable: ..."}: None for each check that passed."""
    results: dict[str, str | None] = {}
    for name, check in _CHECKS.items():
        try:
            results[name] = check(service)
        except RagOracleError as exc:
            results[name] = str(exc)
        except Exception as exc:  # a health check reports a failure; it does not become one
            results[name] = f"{type(exc).__name__}: {exc}"
        if results[name] is not None:
            log.warning("health check %s failed: %s", name, results[name])
    return results


class WarmUp:
    """`load` (the service's `warm_up`: the embedding model and one question) run once, in a
    background thread, with its state for /healthz and a wait for the requests that need it.

    Example::

        warm_up = WarmUp(service.warm_up)
        warm_up.start()   # returns at once
        warm_up.state     # "loading", then "ok" (or "failed", `problem` saying why)
        warm_up.wait()    # until it has finished, either way
    """

    def __init__(self, load: Callable[[], None]) -> None:
        self._load = load
        self._lock = threading.Lock()
        self._begun = False
        self._done = threading.Event()
        self.problem: str | None = None
        self.seconds: float | None = None

    @property
    def state(self) -> Literal["loading", "ok", "failed"]:
        if not self._done.is_set():
            return "loading"
        return "ok" if self.problem is None else "failed"

    def start(self) -> None:
        """Run `load` in a daemon thread (a server stopped while it loads does not wait for it)."""
        if self._claim():
            threading.Thread(target=self._run, name="rag-oracle-warm-up", daemon=True).start()

    def run(self) -> None:
        """Run `load` in this thread, unless it has run or is running already."""
        if self._claim():
            self._run()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until `load` has finished (succeeded or failed); False if `timeout` passed first."""
        return self._done.wait(timeout)

    def _claim(self) -> bool:
        with self._lock:
            if self._begun:
                return False
            self._begun = True
            return True

    def _run(self) -> None:
        start = perf_counter()
        try:
            self._load()
        except RagOracleError as exc:
            self.problem = str(exc)
        except Exception as exc:  # reported by /healthz and the log; the server keeps running
            self.problem = f"{type(exc).__name__}: {exc}"
            log.error("warm-up failed", exc_info=exc)
        finally:
            self.seconds = round(perf_counter() - start, 2)
            self._done.set()
        if self.problem is None:
            log.info("model loaded and first question answered in %.1f s", self.seconds)
        else:
            log.error("warm-up failed after %.1f s: %s", self.seconds, self.problem)
