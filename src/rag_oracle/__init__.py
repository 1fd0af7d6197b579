"""rag-oracle: cited answers to clinical questions from the literature you index.

The library is the product; the CLI and the server are thin layers over it::

    from rag_oracle import RagOracle, ingest, load_settings

    settings = load_settings()
    ingest(["corpus/"], "indexes/sample", settings)   # remove(["pmid:123"], "indexes/sample", settings)
    oracle = RagOracle("indexes/sample", settings)
    answer = oracle.ask("What is the dosage of clonazepam for treating depression?")
    print(answer.text)

The names below are imported on first use (PEP 562), so `import rag_oracle.cli` or
`rag_oracle.settings` does not load the whole pipeline; importing the package sets the OpenMP
wait policy before any compute library starts (rag_oracle/compute.py).
"""

from __future__ import annotations

import sys
import types
from typing import TYPE_CHECKING

from rag_oracle.compute import preset_environment
from rag_oracle.version import __version__

preset_environment()

if TYPE_CHECKING:
    from rag_oracle.api import RagOracle, ingest, open_index, remove
    from rag_oracle.settings import Settings, load_settings

_LAZY = {
    "RagOracle": "rag_oracle.api",
    "ingest": "rag_oracle.api",
    "open_index": "rag_oracle.api",
    "remove": "rag_oracle.api",
    "Settings": "rag_oracle.settings",
    "load_settings": "rag_oracle.settings",
}


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'rag_oracle' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


class _Package(types.ModuleType):
    """`rag_oracle.ingest` is the function, as it was when this module imported it eagerly: importing
    the subpackage `rag_oracle.ingest` would otherwise set the attribute to the subpackage."""

    @property
    def ingest(self):
        return __getattr__("ingest")

    @ingest.setter
    def ingest(self, value) -> None:
        pass  # the import system recording the subpackage; it stays in sys.modules


sys.modules[__name__].__class__ = _Package


__all__ = ["RagOracle", "Settings", "__version__", "ingest", "load_settings", "open_index", "remove"]
