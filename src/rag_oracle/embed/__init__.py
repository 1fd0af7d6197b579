"""Embedding stage: turn text into normalised vectors, with a cache so nothing is embedded twice."""

from __future__ import annotations

from rag_oracle.embed.base import Embedder
from rag_oracle.embed.cache import CachedEmbedder, default_cache_dir
from rag_oracle.embed.hashing import HashEmbedder
from rag_oracle.settings import EmbedSettings


def make_embedder(settings: EmbedSettings) -> Embedder:
    """The embedder the settings describe, wrapped in the cache unless cache_dir is 'off'."""
    if settings.model == "hash" or settings.model.startswith("hash:"):
        dim = int(settings.model.split("=", 1)[1]) if "=" in settings.model else 256
        inner: Embedder = HashEmbedder(dimension=dim)
    else:
        from rag_oracle.embed.sentence_transformer import SentenceTransformerEmbedder

        inner = SentenceTransformerEmbedder(
            settings.model,
            device=settings.device,
            batch_size=settings.batch_size,
            query_prompt=settings.query_prompt,
            document_prompt=settings.document_prompt,
            torch_threads=settings.torch_threads,
        )
    if settings.cache_dir == "off":
        return inner
    return CachedEmbedder(inner, settings.cache_dir or default_cache_dir())


__all__ = ["CachedEmbedder", "Embedder", "HashEmbedder", "make_embedder"]
