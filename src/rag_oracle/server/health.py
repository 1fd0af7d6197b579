"""What /healthz checks: the opened index is whole and the sessions file answers a read and a write lock.

Each check is a name and None (passed) or what failed. The messages may name files, so the route
shows them, like the paths, only to callers allowed to see paths (`auth.may_see_paths`).
"""

from __future__ import annotations

import logging

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
