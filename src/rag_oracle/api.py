"""The Python API. Everything the CLI (and later the server) does is a call here.

Example::

    oracle = RagOracle("indexes/sample", load_settings())
    for hit in oracle.search("warfarin before surgery", k=5):
        print(hit.rank, hit.chunk.id, hit.score)
    print(oracle.ask("How many days before surgery should warfarin be stopped?").text)
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from rag_oracle.embed import make_embedder
from rag_oracle.embed.base import Embedder
from rag_oracle.errors import IndexNotFoundError
from rag_oracle.generate.base import Generator
from rag_oracle.index.atomic import is_index
from rag_oracle.index.store import Index, check_embedder
from rag_oracle.pipeline import Callbacks, Overrides, Pipeline
from rag_oracle.retrieve.base import Retriever
from rag_oracle.settings import Settings, load_settings
from rag_oracle.types import Answer, Filters, Hit, PatientContext

if TYPE_CHECKING:
    from rag_oracle.ingest.pipeline import IngestReport, Progress

# Ingest (its loaders, YAML, PDF) is imported when first used, not by every question.
_INGEST_NAMES = ("IngestReport", "Progress", "ingest", "remove")


def __getattr__(name: str):
    if name in _INGEST_NAMES:
        import importlib

        return getattr(importlib.import_module("rag_oracle.ingest.pipeline"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


SAMPLE_SUBDIRS = ("markdown", "pubmed", "pmc", "jsonl", "pdf")


def open_index(path: str | Path, settings: Settings | None = None, embedder: Embedder | None = None) -> Index:
    """Open the index at `path`, refusing it if it was built with another embedder."""
    settings = settings or load_settings()
    return Index.open(path, embedder or make_embedder(settings.embed, settings.compute))


class RagOracle:
    """An opened index with its embedder and question pipeline, ready to search and answer.

    `generator` replaces the one the settings name (a test's scripted LLM, a custom generator).
    """

    def __init__(
        self,
        index: str | Path | Index,
        settings: Settings | None = None,
        *,
        embedder: Embedder | None = None,
        generator: Generator | None = None,
    ):
        self.settings = settings or load_settings()
        self.embedder = embedder or make_embedder(self.settings.embed, self.settings.compute)
        if isinstance(index, Index):
            check_embedder(index.manifest, self.embedder, index.path)
            self.index = index
        else:
            self.index = Index.open(index, self.embedder)
        self.pipeline = Pipeline(self.index, self.embedder, self.settings, generator=generator)

    @property
    def retriever(self) -> Retriever:
        return self.pipeline.retriever

    @property
    def generator(self) -> Generator:
        return self.pipeline.generator

    def document_frequency(self, term: str) -> int:
        """Chunks of the index containing an analysed term (how specific a word is here)."""
        return self.index.document_frequency(term)

    def search(
        self, query: str, k: int | None = None, filters: Filters | None = None, overrides: Overrides | None = None
    ) -> list[Hit]:
        return self.pipeline.search(query, k, filters, overrides)

    def search_documents(self, query: str, k: int = 10, filters: Filters | None = None) -> list[str]:
        """The top `k` document ids: chunk hits aggregated per document ([retrieve] document_score:
        its best chunk, or the sum of its best document_chunks chunks)."""
        depth = max(k * 5, self.settings.retrieve.k)
        retrieve = self.settings.retrieve
        while True:
            hits = self.pipeline.search(query, depth, filters)
            docs = document_ranking(hits, retrieve.document_score, retrieve.document_chunks)
            if len(docs) >= k or len(hits) < depth:
                return docs[:k]
            depth *= 2

    def run(
        self,
        question: str,
        filters: Filters | None = None,
        overrides: Overrides | None = None,
        callbacks: Callbacks | None = None,
        context: PatientContext | None = None,
    ) -> Answer:
        """The one question path (`Pipeline.run`): what the CLI, the server, chat and `eval run` call.

        `context`: the patient the question is about (age group, pregnancy, renal function); it
        becomes the question's population (answer/context.py)."""
        return self.pipeline.run(question, filters, overrides, callbacks, context)

    def ask(
        self,
        question: str,
        filters: Filters | None = None,
        on_token: Callable[[str], None] | None = None,
        *,
        overrides: Overrides | None = None,
    ) -> Answer:
        """`run` with only a token callback: the LLM's draft as it streams; the answer returned is the verified one."""
        return self.pipeline.run(question, filters, overrides, Callbacks(on_token=on_token))


def sample_index_path(settings: Settings) -> Path:
    """Where the sample corpus's index lives: named by the settings fingerprint, so changing
    chunking or the embedder builds a new index instead of silently reusing the old one."""
    import hashlib

    from rag_oracle.version import __version__

    # The package version is part of the name too: a new release may load or chunk differently.
    digest = hashlib.sha256(f"{settings.index_fingerprint()}|{__version__}".encode()).hexdigest()[:8]
    return Path(settings.index.root) / f"sample-{digest}"


def ensure_sample_index(
    settings: Settings,
    corpus_dir: str | Path = "corpus",
    progress: Progress | None = None,
    embedder: Embedder | None = None,
) -> tuple[Path, IngestReport | None]:
    """The sample index, built from `corpus_dir` on first use. Returns (path, report or None if it existed)."""
    path = sample_index_path(settings)
    if is_index(path):
        return path, None
    corpus = Path(corpus_dir)
    folders = [corpus / sub for sub in SAMPLE_SUBDIRS if (corpus / sub).is_dir()]
    if not folders:
        raise IndexNotFoundError(
            f"no --index given and no sample corpus at {corpus.resolve()}; run from the repository root "
            "or pass --index DIR"
        )
    from rag_oracle.ingest.pipeline import ingest

    # Two first uses at once (a server and a CLI): the second waits for the first's build, then finds it.
    report = ingest(
        folders,
        path,
        settings,
        embedder=embedder,
        progress=progress,
        command="rag-oracle (sample index, first use)",
        wait=True,
    )
    return path, report


__all__ = [
    "RagOracle",
    "document_ranking",
    "ensure_sample_index",
    "ingest",  # noqa: F822 (module __getattr__ imports it on first use)
    "open_index",
    "remove",  # noqa: F822 (module __getattr__)
    "sample_index_path",
]


def document_ranking(hits: list[Hit], method: str = "max", chunks: int = 2) -> list[str]:
    """Document ids ranked from chunk hits (best first): "max", in order of their best-ranked chunk;
    "sum", by the sum of the scores of their best `chunks` hits (a document that matches in several
    places ranks higher), equal sums in order of their best chunk."""
    if method not in ("max", "sum"):
        raise ValueError(f"unknown document aggregation {method!r}; use 'max' or 'sum'")
    best: dict[str, int] = {}  # doc id -> index of its best-ranked hit
    totals: dict[str, list[float]] = {}
    for i, hit in enumerate(hits):
        best.setdefault(hit.chunk.doc_id, i)
        totals.setdefault(hit.chunk.doc_id, []).append(hit.score)
    if method == "max":
        return list(best)
    summed = {doc: sum(sorted(scores, reverse=True)[:chunks]) for doc, scores in totals.items()}
    return sorted(best, key=lambda doc: (-summed[doc], best[doc]))
