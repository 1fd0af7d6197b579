"""The embedder contract (rag_oracle/embed/base.py), as a pytest suite. Needs pytest."""

from __future__ import annotations

import numpy as np
import pytest

from rag_oracle.embed.base import Embedder

TEXTS = [
    "Stop warfarin five days before elective surgery.",
    "Amoxicillin is first-line for acute bacterial sinusitis.",
    "Stop warfarin five days before elective surgery.",
]


class EmbedderContract:
    """Every embedder: float32 (n, dimension) document matrices and (dimension,) query vectors,
    L2-normalised, deterministic, an empty batch is a (0, dimension) matrix, token counts per text.

    Provide an `embedder` fixture.
    """

    @pytest.fixture
    def embedder(self) -> Embedder:
        raise NotImplementedError("a subclass of EmbedderContract provides the `embedder` fixture")

    def test_is_an_embedder(self, embedder: Embedder) -> None:
        assert isinstance(embedder, Embedder)
        assert isinstance(embedder.model_id, str) and embedder.model_id
        assert isinstance(embedder.dimension, int) and embedder.dimension > 0
        assert isinstance(embedder.max_tokens, int) and embedder.max_tokens > 0

    def test_document_vectors_are_float32_and_normalised(self, embedder: Embedder) -> None:
        docs = embedder.embed_documents(TEXTS)
        assert isinstance(docs, np.ndarray)
        assert docs.shape == (len(TEXTS), embedder.dimension) and docs.dtype == np.float32
        assert np.allclose(np.linalg.norm(docs, axis=1), 1.0, atol=1e-4)

    def test_query_vector_is_float32_and_normalised(self, embedder: Embedder) -> None:
        query = embedder.embed_query("when to stop warfarin")
        assert isinstance(query, np.ndarray)
        assert query.shape == (embedder.dimension,) and query.dtype == np.float32
        assert abs(float(np.linalg.norm(query)) - 1.0) < 1e-4

    def test_empty_batch(self, embedder: Embedder) -> None:
        empty = embedder.embed_documents([])
        assert empty.shape == (0, embedder.dimension) and empty.dtype == np.float32

    def test_deterministic(self, embedder: Embedder) -> None:
        first = embedder.embed_documents(TEXTS)
        assert np.allclose(first[0], first[2], atol=1e-5), "the same text in one batch got different vectors"
        again = embedder.embed_documents(TEXTS)
        assert np.allclose(first, again, atol=1e-5), "a second call gave different vectors"
        # a text's vector does not depend on what it is batched with
        alone = embedder.embed_documents([TEXTS[1]])
        assert np.allclose(alone[0], first[1], atol=1e-4)
        assert np.allclose(embedder.embed_query("warfarin"), embedder.embed_query("warfarin"), atol=1e-5)

    def test_similar_texts_are_closer(self, embedder: Embedder) -> None:
        docs = embedder.embed_documents(TEXTS)
        query = embedder.embed_query("stop warfarin before surgery")
        assert float(docs[0] @ query) > float(docs[1] @ query)

    def test_count_tokens(self, embedder: Embedder) -> None:
        texts = ["one two three", "", "a much longer sentence with several more words in it"]
        counts = embedder.count_tokens(texts)
        assert len(counts) == len(texts) and all(isinstance(c, int) for c in counts)
        assert counts[1] == 0 and 0 < counts[0] < counts[2]
        assert embedder.count_tokens([]) == []
