"""Embedding stage: turn text into normalised vectors, with a cache so nothing is embedded twice."""

from __future__ import annotations

import importlib.util

from rag_oracle.embed.base import Embedder
from rag_oracle.embed.cache import CachedEmbedder, default_cache_dir
from rag_oracle.embed.hashing import HashEmbedder
from rag_oracle.errors import ConfigError
from rag_oracle.settings import ComputeSettings, EmbedSettings


def make_embedder(settings: EmbedSettings, compute: ComputeSettings | None = None) -> Embedder:
    """The embedder the settings describe, wrapped in the cache unless cache_dir is 'off'.

    `embed.backend` picks ONNX Runtime (embed/onnx.py: no torch at query time, the same vectors) or
    sentence-transformers; 'auto' takes ONNX for every model it supports. Threads come from `compute`."""
    from rag_oracle.compute import configure

    compute = compute or ComputeSettings()
    threads = configure(compute)
    if settings.model == "hash" or settings.model.startswith("hash:"):
        dim = int(settings.model.split("=", 1)[1]) if "=" in settings.model else 256
        inner: Embedder = HashEmbedder(dimension=dim)
    elif _use_onnx(settings):
        from rag_oracle.embed.onnx import OnnxEmbedder

        inner = OnnxEmbedder(
            settings.model,
            batch_size=settings.batch_size,
            query_prompt=settings.query_prompt,
            document_prompt=settings.document_prompt,
            threads=threads,
            spinning=compute.wait_policy == "active",
            quantize=settings.quantize,
        )
    else:
        if settings.quantize:
            raise ConfigError(
                "embed.quantize needs the ONNX backend, which cannot run this model; set embed.quantize = false"
            )
        from rag_oracle.embed.sentence_transformer import SentenceTransformerEmbedder

        inner = SentenceTransformerEmbedder(
            settings.model,
            device=settings.device,
            batch_size=settings.batch_size,
            query_prompt=settings.query_prompt,
            document_prompt=settings.document_prompt,
            torch_threads=settings.torch_threads or threads,
        )
    if settings.cache_dir == "off":
        return inner
    return CachedEmbedder(inner, settings.cache_dir or default_cache_dir())


def _use_onnx(settings: EmbedSettings) -> bool:
    if settings.backend == "sentence-transformers":
        return False
    if settings.backend == "onnx":
        return True  # OnnxEmbedder says why when it cannot run the model
    if settings.device != "cpu":
        return False  # a GPU is torch's
    from rag_oracle.embed.onnx import supports

    if importlib.util.find_spec("onnxruntime") is None:
        return False
    return supports(settings.model)


__all__ = ["CachedEmbedder", "Embedder", "HashEmbedder", "make_embedder"]
