"""The embedder contract. Documents and queries are separate calls: some models prompt them differently.

Vectors are float32, L2-normalised, so inner product is cosine similarity.

An embedder may also have `warm_up()`, which loads its model now rather than on first use;
`Pipeline.warm_up` (the server at startup) calls it when present.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Embedder(Protocol):
    @property
    def model_id(self) -> str:
        """Identifies the model and everything that changes its vectors (recorded in manifests)."""
        ...

    @property
    def dimension(self) -> int: ...

    @property
    def max_tokens(self) -> int:
        """Longest input, in tokens, the model reads before truncating."""
        ...

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), dimension) float32, normalised."""
        ...

    def embed_query(self, text: str) -> np.ndarray:
        """(dimension,) float32, normalised."""
        ...

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Token counts without special tokens, one per text."""
        ...
