"""Every embedder passes the embedder contract; the real model too (slow)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag_oracle.embed import CachedEmbedder
from rag_oracle.testing import HashEmbedder
from rag_oracle.testing.contracts import EmbedderContract


class TestHashEmbedder(EmbedderContract):
    @pytest.fixture
    def embedder(self) -> HashEmbedder:
        return HashEmbedder(dimension=256)


class TestCachedEmbedder(EmbedderContract):
    @pytest.fixture
    def embedder(self, tmp_path: Path) -> CachedEmbedder:
        cached = CachedEmbedder(HashEmbedder(dimension=128), tmp_path / "cache")
        # Half the contract's calls are answered from the cache: vectors read back must meet it too.
        cached.embed_documents(["Stop warfarin five days before elective surgery."])
        yield cached
        cached.close()


@pytest.fixture(scope="session")
def sentence_transformer():
    from rag_oracle.embed.sentence_transformer import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder()


@pytest.mark.slow
class TestSentenceTransformerEmbedder(EmbedderContract):
    @pytest.fixture
    def embedder(self, sentence_transformer):
        return sentence_transformer
