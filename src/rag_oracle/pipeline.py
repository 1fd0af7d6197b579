"""The one question path. `ask`, `chat`, every server route, the OpenAI-compatible endpoint and
`eval run` all answer through `Pipeline.run`, so an evaluation measures the program users run.

A question goes:

1. retrieve: the retriever's top `max(retrieve.k, 3 * answer.top_k)` chunks (a pool deeper than
   the generator reads: room for source diversity and for conflicting passages);
   `callbacks.on_retrieved(hits)` is called;
2. select: the answer builder keeps at most `answer.max_passages_per_document` chunks per
   document, then those whose stored vector is similar enough to the question; none: the
   answer abstains and no generator is asked;
3. draft: the generator writes a `Draft` citing the passages by number (`callbacks.on_token`
   receives an LLM's text as it streams, or a non-streaming generator's whole draft at once);
4. finish: the answer builder verifies the draft, cites conflicts, adds related questions,
   decides yes/no questions and stamps provenance.

Per-request settings (`overrides`, nested like the settings tree) are arguments of `run`: a
request never changes the pipeline, so concurrent requests cannot see each other's settings.

Example::

    pipeline = Pipeline(index, embedder, settings)
    answer = pipeline.run("How long before surgery should warfarin be stopped?",
                          overrides={"answer": {"audience": "patient"}},
                          callbacks=Callbacks(on_retrieved=lambda hits: print(len(hits))))
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from time import perf_counter
from typing import Any

import numpy as np

from rag_oracle.answer.builder import AnswerBuilder, answer_dates
from rag_oracle.answer.context import context_notes, contextual_question
from rag_oracle.embed.base import Embedder
from rag_oracle.errors import LlmError
from rag_oracle.generate import make_generator
from rag_oracle.generate.base import Generator
from rag_oracle.index.store import Index, check_embedder
from rag_oracle.retrieve import make_retriever
from rag_oracle.retrieve.base import Retriever
from rag_oracle.settings import Settings
from rag_oracle.types import Answer, Draft, Filters, Hit, PatientContext, Provenance
from rag_oracle.version import __version__

log = logging.getLogger("rag_oracle")
Overrides = dict[str, dict[str, Any]]
_VARIANTS = 32  # distinct per-request settings kept ready (each a retriever and a generator)


@dataclass(frozen=True)
class Callbacks:
    """What a caller hears while a question is answered. Both are optional."""

    on_retrieved: Callable[[list[Hit]], None] | None = None
    on_token: Callable[[str], None] | None = None
    on_stage: Callable[[str], None] | None = None  # "retrieving", "composing", "verifying"

    def stage(self, name: str) -> None:
        if self.on_stage is not None:
            self.on_stage(name)


def draft_text(draft: Draft) -> str:
    """A draft's sections as text with the passage numbers the generator cited (unverified)."""
    blocks = []
    for section in draft.sections:
        lines = [f"{s.text} {''.join(f'[{n}]' for n in s.citations)}".strip() for s in section.sentences]
        if section.kind == "direct":
            blocks.append(" ".join(lines))
        else:
            blocks.append("\n".join([section.title, *(f"- {line}" for line in lines)]))
    return "\n\n".join(blocks)


def settings_hash(settings: Settings) -> str:
    """sha256 (16 hex) of every setting that shapes an answer (retrieval, answer, and the LLM when used)."""
    shaping: dict[str, Any] = {
        "embed": {"model": settings.embed.model, "query_prompt": settings.embed.query_prompt},
        "retrieve": settings.retrieve.model_dump(mode="json"),
        "answer": settings.answer.model_dump(mode="json"),
    }
    if settings.answer.generator == "llm":
        llm = settings.llm.model_dump(mode="json")
        for operational in ("timeout", "max_retries", "api_key_env"):
            llm.pop(operational, None)
        shaping["llm"] = llm
    return hashlib.sha256(json.dumps(shaping, sort_keys=True).encode()).hexdigest()[:16]


_QUERY_VECTORS: ContextVar[dict[str, np.ndarray] | None] = ContextVar("rag_oracle_query_vectors", default=None)


class OncePerQuestion:
    """An embedder that embeds each query text once per question.

    One question embeds the same text up to three times: the dense retriever, the relevance gate
    and the extractive generator each embed the question, and a related question is embedded by
    its retrieval and again by its gate. Inside `Pipeline.run` a text's query vector is computed
    once and reused (as a copy); outside it, and for documents, every call goes to `inner`. Nothing
    is kept after the question: a new question is embedded anew.
    """

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def embed_query(self, text: str) -> np.ndarray:
        vectors = _QUERY_VECTORS.get()
        if vectors is None:
            return self.inner.embed_query(text)
        vector = vectors.get(text)
        if vector is None:
            vector = vectors[text] = self.inner.embed_query(text)
        return vector.copy()


def pool_size(settings: Settings) -> int:
    """How many chunks a question retrieves before source diversity and the relevance gate."""
    return max(settings.retrieve.k, 3 * settings.answer.top_k)


class Pipeline:
    """An opened index with the embedder, retrievers, generators and answer builder that answer on it."""

    def __init__(
        self,
        index: Index,
        embedder: Embedder,
        settings: Settings,
        *,
        generator: Generator | None = None,
        retriever: Retriever | None = None,
    ) -> None:
        check_embedder(index.manifest, embedder, index.path)
        self.index = index
        self.embedder = embedder
        self.settings = settings
        self._query_embedder = OncePerQuestion(embedder)  # what the question path embeds with
        self.retriever = retriever or make_retriever(index, self._query_embedder, settings.retrieve)
        self.generator = generator or make_generator(self._query_embedder, settings, index)
        self._variants: OrderedDict[str, tuple[Settings, Retriever, Generator]] = OrderedDict()
        self._lock = threading.Lock()

    # --- the question path ------------------------------------------------------------------

    def run(
        self,
        question: str,
        filters: Filters | None = None,
        overrides: Overrides | None = None,
        callbacks: Callbacks | None = None,
        context: PatientContext | None = None,
    ) -> Answer:
        """A cited answer to `question`, or an abstention that says why (see the module docstring).

        `context` (the patient's age group, pregnancy, renal function) becomes the question's
        population: the answer is to `contextual_question(question, context)` (answer/context.py).
        """
        token = _QUERY_VECTORS.set({})
        try:
            return self._run(question, filters, overrides, callbacks, context)
        finally:
            _QUERY_VECTORS.reset(token)

    def _run(
        self,
        question: str,
        filters: Filters | None,
        overrides: Overrides | None,
        callbacks: Callbacks | None,
        context: PatientContext | None,
    ) -> Answer:
        callbacks = callbacks or Callbacks()
        settings, retriever, generator = self.components(overrides)
        context = context if context is not None and not context.empty else None
        asked = question
        question = contextual_question(question, context)
        start = perf_counter()
        callbacks.stage("retrieving")
        hits = retriever.search(question, pool_size(settings), filters)
        retrieved = perf_counter()
        if callbacks.on_retrieved is not None:
            callbacks.on_retrieved(hits)
        builder = AnswerBuilder(
            settings.answer, self.index, self._query_embedder, self._provenance(settings, generator), context=context
        )

        def answerable(candidate: str) -> bool:  # a related question is offered only if this holds
            return bool(builder.select(candidate, retriever.search(candidate, pool_size(settings), filters)).passages)

        builder.answerable = answerable
        callbacks.stage("composing")
        selection = builder.select(question, hits)
        if not selection.passages:
            answer = builder.abstain(question, selection, generator.label)
        else:
            draft = generator.draft(question, selection.passages, on_token=callbacks.on_token)
            if callbacks.on_token is not None and not draft.raw_text and draft.sections:
                # A generator that does not stream (the extractive one) hands over its whole draft at
                # once: the reader sees its sections while they are verified.
                callbacks.on_token(draft_text(draft))
            callbacks.stage("verifying")
            answer = builder.finish(question, draft, selection)
        done = perf_counter()
        timings = {
            "retrieve": round((retrieved - start) * 1000, 2),
            "generate": round((done - retrieved) * 1000, 2),
            "total": round((done - start) * 1000, 2),
        }
        notes = context_notes(asked, context)
        return answer.model_copy(
            update={
                "timings_ms": timings,
                "dates": answer_dates(self.index.manifest.updated_at, answer),
                "patient_context": context,
                "audience": settings.answer.audience,
                "notes": [*answer.notes, *notes] if notes else answer.notes,
            }
        )

    def search(
        self, query: str, k: int | None = None, filters: Filters | None = None, overrides: Overrides | None = None
    ) -> list[Hit]:
        """Ranked chunks for `query` (no generation)."""
        settings, retriever, _ = self.components(overrides)
        return retriever.search(query, settings.retrieve.k if k is None else k, filters)

    def warm_up(self) -> None:
        """Load what loads on first use (the embedding model, tokenizers) and answer one question.

        Through the embedding cache a repeated warm-up query never reaches the model, so the model
        is loaded explicitly: without that, the first new question after a restart waited ~10 s
        for it, and every request that arrived meanwhile waited too.
        """
        load = getattr(self.embedder, "warm_up", None)
        if load is not None:
            load()
        try:
            self.run("What is the recommended dose?")
        except LlmError as exc:
            # The model and the index are ready; an LLM that is down now may be up at the first
            # question, and each question reports its own LLM error. Readiness is ours, not the LLM's.
            log.warning("the warm-up question got no LLM answer (questions will try again): %s", exc)

    # --- per-request settings --------------------------------------------------------------

    def components(self, overrides: Overrides | None) -> tuple[Settings, Retriever, Generator]:
        """The settings, retriever and generator for a request with these overrides.

        No overrides (or overrides equal to the pipeline's settings) give the pipeline's own; other
        combinations are built once and kept (at most 32, least recently used dropped).
        """
        if not overrides:
            return self.settings, self.retriever, self.generator
        settings = self.settings.with_overrides(overrides)
        if settings == self.settings:
            return self.settings, self.retriever, self.generator
        key = json.dumps(settings.model_dump(mode="json"), sort_keys=True)
        with self._lock:
            found = self._variants.get(key)
            if found is not None:
                self._variants.move_to_end(key)
                return found
        retriever = (
            self.retriever
            if settings.retrieve == self.settings.retrieve
            else make_retriever(self.index, self._query_embedder, settings.retrieve)
        )
        same_generator = settings.answer == self.settings.answer and settings.llm == self.settings.llm
        generator = self.generator if same_generator else make_generator(self._query_embedder, settings, self.index)
        with self._lock:
            found = self._variants.setdefault(key, (settings, retriever, generator))
            self._variants.move_to_end(key)
            while len(self._variants) > _VARIANTS:
                self._variants.popitem(last=False)
        return found

    def _provenance(self, settings: Settings, generator: Generator) -> Provenance:
        identity = generator.identity
        manifest = self.index.manifest
        return Provenance(
            package_version=__version__,
            settings_hash=settings_hash(settings),
            index_fingerprint=manifest.fingerprint,
            index_checksum=manifest.chunks_checksum,
            embedder=self.embedder.model_id,
            generator=generator.label,
            prompt_id=identity.get("prompt_id"),  # type: ignore[arg-type]
            prompt_version=identity.get("prompt_version"),  # type: ignore[arg-type]
            prompt_sha256=identity.get("prompt_sha256"),  # type: ignore[arg-type]
            model=identity.get("model"),  # type: ignore[arg-type]
        )
