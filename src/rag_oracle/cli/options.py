"""The options commands share, each defined once, and what their values become.

- `retrieval_options`: --mode, the approximate-search knobs (--ef-search, --nprobe) and the filters
  (--year-min, --year-max, --type, --source); `ann_options` is the two knobs alone (eval run);
- `generator_options`: --generator, --prompt, --audience and the --llm-* flags (`session_generator_options`
  is the subset serve and chat take);
- `index_option`: --index (by default the optional one that falls back on the sample index,
  opened by `open_oracle`);
- `json_option`, `quiet_option`: output.

A group decorator adds its click options and hands the command one value object
(`RetrievalFlags`, `GeneratorFlags`) in place of a parameter per flag; the object knows the
settings overrides (and filters) it stands for. Flags left unset are None and override nothing,
so the settings tree (defaults < rag-oracle.toml < RAG_ORACLE_* < flags) decides.

Example::

    @click.command()
    @retrieval_options
    @click.pass_context
    def search(ctx, retrieval: RetrievalFlags):
        settings = current_settings(ctx, retrieval.overrides())
"""

from __future__ import annotations

import dataclasses
import functools
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

from rag_oracle.cli.progress import TqdmProgress
from rag_oracle.settings import Settings, load_settings

if TYPE_CHECKING:
    from rag_oracle.api import RagOracle
    from rag_oracle.types import Filters

Overrides = dict[str, dict[str, Any]]
Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]

SAMPLE_INDEX_HELP = "Index directory (default: the sample index, built from ./corpus on first use)."


# --- settings ------------------------------------------------------------------------------


def current_settings(ctx: click.Context, *overrides: Overrides) -> Settings:
    """The settings the main group loaded (or, for a command run on its own, freshly loaded),
    with `overrides` (CLI flags; None values ignored) applied on top, later ones winning."""
    obj = ctx.find_object(dict) or {}
    settings: Settings = obj.get("settings") or load_settings()
    merged = merge_overrides(*overrides)
    return settings.with_overrides(merged) if merged else settings


def merge_overrides(*overrides: Overrides) -> Overrides:
    merged: Overrides = {}
    for override in overrides:
        for section, values in override.items():
            merged.setdefault(section, {}).update(values)
    return merged


def command_line(words: list[str], flags: Mapping[str, object]) -> str:
    """The command as typed, for manifests: argv is not used, since under a test runner or a
    wrapper it names something else. Flags left at None (defaults) are omitted."""
    return shlex.join(
        words + [part for flag, value in flags.items() if value is not None for part in (flag, str(value))]
    )


# --- option groups -------------------------------------------------------------------------


def _grouped(flags_cls: type, param: str, options: list[Decorator]) -> Decorator:
    """A decorator adding `options` (listed as --help shows them) and passing their values to the
    command as one `flags_cls` object in the keyword argument `param`."""
    names = [f.name for f in dataclasses.fields(flags_cls)]

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(command)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            kwargs[param] = flags_cls(**{name: kwargs.pop(name) for name in names if name in kwargs})
            return command(*args, **kwargs)

        for option in reversed(options):  # click lists options in decorator order, top first
            wrapper = option(wrapper)
        return wrapper

    return decorate


def mode_option() -> Decorator:
    return click.option("--mode", type=click.Choice(["hybrid", "dense", "bm25"]), help="Retriever (default hybrid).")


def _ef_search_option() -> Decorator:
    return click.option(
        "--ef-search",
        "ef_search",
        type=int,
        help="HNSW efSearch for an HNSW index: higher, better recall and slower (default [retrieve] ef_search).",
    )


def _nprobe_option() -> Decorator:
    return click.option(
        "--nprobe",
        type=int,
        help="IVF lists a search visits for an IVF index: higher, better recall and slower "
        "(default [retrieve] nprobe).",
    )


@dataclass(frozen=True)
class AnnFlags:
    """--ef-search and --nprobe: search-time settings of approximate FAISS indexes (no rebuild)."""

    ef_search: int | None = None
    nprobe: int | None = None

    def overrides(self) -> Overrides:
        return {"retrieve": {"ef_search": self.ef_search, "nprobe": self.nprobe}}

    def command_flags(self) -> dict[str, object]:
        """The flags as typed, for `command_line`."""
        return {"--ef-search": self.ef_search, "--nprobe": self.nprobe}


ann_options = _grouped(AnnFlags, "ann", [_ef_search_option(), _nprobe_option()])


@dataclass(frozen=True)
class RetrievalFlags:
    """--mode, --ef-search, --nprobe and the metadata filters."""

    mode: str | None = None
    ef_search: int | None = None
    nprobe: int | None = None
    year_min: int | None = None
    year_max: int | None = None
    pub_types: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    grades: tuple[str, ...] = ()

    def overrides(self) -> Overrides:
        return {"retrieve": {"mode": self.mode, "ef_search": self.ef_search, "nprobe": self.nprobe}}

    def filters(self) -> Filters:
        from rag_oracle.types import Filters

        return Filters(
            year_min=self.year_min,
            year_max=self.year_max,
            publication_types=list(self.pub_types),
            sources=list(self.sources),
            grades=list(self.grades),
        )


retrieval_options = _grouped(
    RetrievalFlags,
    "retrieval",
    [
        mode_option(),
        _ef_search_option(),
        _nprobe_option(),
        click.option("--year-min", type=int, help="Only documents published in or after this year."),
        click.option("--year-max", type=int, help="Only documents published in or before this year."),
        click.option(
            "--type",
            "pub_types",
            multiple=True,
            help="Publication type, e.g. 'Randomized Controlled Trial' (repeatable).",
        ),
        click.option(
            "--source",
            "sources",
            multiple=True,
            help="Format (pdf, pubmed, jats, markdown, jsonl), source label or path part (repeatable).",
        ),
        click.option(
            "--grade",
            "grades",
            multiple=True,
            type=click.Choice(
                [
                    "guideline",
                    "systematic_review",
                    "rct",
                    "observational",
                    "case_report",
                    "drug_label",
                    "review",
                    "other",
                ],
                case_sensitive=False,
            ),
            help="Evidence grade from the publication types (repeatable), e.g. --grade guideline --grade systematic_review.",
        ),
    ],
)


@dataclass(frozen=True)
class GeneratorFlags:
    """Which generator writes the draft, for whom, and the LLM behind it."""

    generator: str | None = None
    prompt_ref: str | None = None
    audience: str | None = None
    llm_backend: str | None = None
    llm_url: str | None = None
    llm_model: str | None = None
    llm_model_path: str | None = None
    unsupported: str | None = None

    def overrides(self) -> Overrides:
        return {
            "answer": {
                "generator": self.generator,
                "prompt": self.prompt_ref,
                "audience": self.audience,
                "unsupported_policy": self.unsupported,
            },
            "llm": {
                "backend": self.llm_backend,
                "base_url": self.llm_url,
                "model": self.llm_model,
                "model_path": self.llm_model_path,
            },
        }

    def command_flags(self) -> dict[str, object]:
        """The flags as typed, for `command_line`."""
        return {
            "--generator": self.generator,
            "--prompt": self.prompt_ref,
            "--audience": self.audience,
            "--llm-backend": self.llm_backend,
            "--llm-url": self.llm_url,
            "--llm-model": self.llm_model,
            "--llm-model-path": self.llm_model_path,
            "--unsupported": self.unsupported,
        }


_AUDIENCES = click.Choice(["clinician", "patient", "researcher"])


def _generator() -> Decorator:
    return click.option(
        "--generator", type=click.Choice(["extractive", "llm"]), help="Answer writer (default extractive: no LLM)."
    )


def _audience(help: str) -> Decorator:
    return click.option("--audience", type=_AUDIENCES, help=help)


def _llm_url(help: str) -> Decorator:
    return click.option("--llm-url", help=help)


def _llm_model(help: str) -> Decorator:
    return click.option("--llm-model", help=help)


generator_options = _grouped(
    GeneratorFlags,
    "generation",
    [
        _generator(),
        click.option("--prompt", "prompt_ref", help="Prompt id@version for the LLM generator, e.g. answer@2."),
        _audience("Who the answer is for."),
        click.option(
            "--llm-backend",
            type=click.Choice(["openai", "llamacpp"]),
            help="OpenAI-compatible endpoint or in-process GGUF.",
        ),
        _llm_url("OpenAI-compatible base URL, e.g. http://127.0.0.1:8080/v1."),
        _llm_model("Model name served by the endpoint."),
        click.option("--llm-model-path", help="GGUF file for the llamacpp backend."),
        click.option(
            "--unsupported",
            type=click.Choice(["remove", "flag"]),
            help="Remove unsupported sentences (default) or keep them flagged.",
        ),
    ],
)

# serve and chat: the defaults for a whole session or server (a request may choose another audience).
session_generator_options = _grouped(
    GeneratorFlags,
    "generation",
    [
        _generator(),
        _audience("Default audience (a request may choose another)."),
        _llm_url("OpenAI-compatible base URL for --generator llm."),
        _llm_model("Model name served by that endpoint."),
    ],
)


# --- index and output ----------------------------------------------------------------------


def index_option(*, required: bool = False, help: str | None = SAMPLE_INDEX_HELP) -> Decorator:
    """--index DIR (`index_dir`). Optional by default: without it `open_oracle` uses the sample index."""
    return click.option("--index", "index_dir", required=required, type=click.Path(file_okay=False), help=help)


def json_option(help: str | None = None) -> Decorator:
    return click.option("--json", "as_json", is_flag=True, help=help)


def quiet_option(help: str | None = None) -> Decorator:
    return click.option("--quiet", is_flag=True, help=help)


def open_oracle(settings: Settings, index_dir: str | None, quiet: bool) -> RagOracle:
    """The oracle over `index_dir`, or over the sample index (built from ./corpus on first use)."""
    from rag_oracle.api import RagOracle, ensure_sample_index
    from rag_oracle.embed import make_embedder

    embedder = make_embedder(settings.embed, settings.compute)
    if index_dir is None:
        path, report = ensure_sample_index(settings, progress=TqdmProgress(not quiet), embedder=embedder)
        if report is not None:
            from rag_oracle.text.untrusted import terminal_safe

            click.echo(terminal_safe(f"built the sample index at {path}: {report.summary()}"), err=True)
        index_dir = str(path)
    return RagOracle(index_dir, settings, embedder=embedder)
