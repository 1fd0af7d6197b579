"""Contract test suites: one per stage, that every implementation of the stage must pass.

Each is a pytest base class. A test module subclasses it (the subclass's name starts with
`Test`) and provides a fixture that builds the implementation; pytest then runs every test of
the contract against it::

    import pytest
    from rag_oracle.testing.contracts import EmbedderContract

    class TestMyEmbedder(EmbedderContract):
        @pytest.fixture
        def embedder(self):
            return MyEmbedder()

| contract            | fixtures the subclass provides                          |
|---------------------|---------------------------------------------------------|
| `EmbedderContract`  | `embedder`                                              |
| `LoaderContract`    | `loader`, `good_file`, `empty_file`, `corrupt_file`     |
| `RetrieverContract` | `retriever` (may use `contract_index`, `contract_embedder`) |
| `GeneratorContract` | `generator` (may use `contract_passages`), `streams_tokens` |

These modules import pytest: they need it installed (it is in the `dev` extra). Nothing else in
rag-oracle imports them.
"""

from __future__ import annotations

from rag_oracle.testing.contracts.embedder import EmbedderContract
from rag_oracle.testing.contracts.generator import GeneratorContract
from rag_oracle.testing.contracts.loader import LoaderContract
from rag_oracle.testing.contracts.retriever import RetrieverContract

__all__ = ["EmbedderContract", "GeneratorContract", "LoaderContract", "RetrieverContract"]
