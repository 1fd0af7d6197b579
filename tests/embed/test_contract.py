"""One contract every embedder must meet; the real model runs it too (marked slow, run by default)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rag_oracle.embed import CachedEmbedder, HashEmbedder
from rag_oracle.embed.base import Embedder


@pytest.fixture(scope="session")
def real_embedder():
    from rag_oracle.embed.sentence_transformer import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder()


@pytest.fixture(params=["hash", "cached-hash", pytest.param("minilm", marks=pytest.mark.slow)])
def embedder(request, tmp_path: Path) -> Embedder:
    if request.param == "hash":
        return HashEmbedder(dimension=256)
    if request.param == "cached-hash":
        return CachedEmbedder(HashEmbedder(dimension=256), tmp_path / "cache")
    return request.getfixturevalue("real_embedder")


TEXTS = [
    "Stop warfarin five days before elective surgery.",
    "Amoxicillin is first-line for acute bacterial sinusitis.",
    "Stop warfarin five days before elective surgery.",
]


def test_shapes_dtype_and_normalisation(embedder: Embedder) -> None:
    docs = embedder.embed_documents(TEXTS)
    assert docs.shape == (3, embedder.dimension) and docs.dtype == np.float32
    assert np.allclose(np.linalg.norm(docs, axis=1), 1.0, atol=1e-4)
    query = embedder.embed_query("when to stop warfarin")
    assert query.shape == (embedder.dimension,) and abs(float(np.linalg.norm(query)) - 1) < 1e-4
    assert embedder.embed_documents([]).shape == (0, embedder.dimension)


def test_deterministic_and_relevant(embedder: Embedder) -> None:
    docs = embedder.embed_documents(TEXTS)
    assert np.allclose(docs[0], docs[2], atol=1e-5)
    query = embedder.embed_query("stop warfarin before surgery")
    assert float(docs[0] @ query) > float(docs[1] @ query)


def test_token_counts(embedder: Embedder) -> None:
    counts = embedder.count_tokens(["one two three", "", "a much longer sentence with several more words in it"])
    assert counts[1] == 0 and 0 < counts[0] < counts[2]
    assert embedder.max_tokens > 0 and embedder.model_id


@pytest.mark.slow
def test_real_model_identity(real_embedder) -> None:
    assert real_embedder.model_id == "sentence-transformers:sentence-transformers/all-MiniLM-L6-v2"
    assert real_embedder.dimension == 384 and real_embedder.max_tokens == 256


def test_missing_model_is_a_clear_error(tmp_path: Path) -> None:
    from rag_oracle.embed.sentence_transformer import SentenceTransformerEmbedder
    from rag_oracle.errors import EmbedderError

    emb = SentenceTransformerEmbedder(str(tmp_path / "no-such-model"))  # cheap: nothing loads yet
    with pytest.raises(EmbedderError, match="never downloaded"):
        emb.embed_query("x")


def test_cache_counts_hits(tmp_path: Path) -> None:
    cached = CachedEmbedder(HashEmbedder(dimension=64), tmp_path / "c")
    cached.embed_documents(["a b", "c d", "a b"])
    assert cached.stats == {"hits": 1, "misses": 2}
    cached.embed_documents(["c d"])
    assert cached.stats == {"hits": 2, "misses": 2}
    # Query and document vectors are cached apart: some models embed them differently.
    cached.embed_query("c d")
    assert cached.stats["misses"] == 3
