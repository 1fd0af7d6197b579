"""rag-oracle: cited answers to clinical questions from the literature you index.

The library is the product; the CLI and the server are thin layers over it::

    from rag_oracle import RagOracle, ingest, load_settings

    settings = load_settings()
    ingest(["corpus/"], "indexes/sample", settings)   # remove(["pmid:123"], "indexes/sample", settings)
    oracle = RagOracle("indexes/sample", settings)
    answer = oracle.ask("What is the dosage of clonazepam for treating depression?")
    print(answer.text)
"""

from rag_oracle.api import RagOracle, ingest, open_index, remove
from rag_oracle.settings import Settings, load_settings
from rag_oracle.version import __version__

__all__ = ["RagOracle", "Settings", "__version__", "ingest", "load_settings", "open_index", "remove"]
