"""`rag-oracle search` (ranked passages) and `rag-oracle ask` (a cited answer).

Passages, titles and answers are document text: printed through `terminal_safe` (the JSON through
`terminal_safe_json`, the same data), so a document's escape sequences never reach the terminal.
The only escape codes `ask` writes are its own: the spinner on stderr and bold headings on
stdout, each only when that stream is a terminal (and bold not under NO_COLOR).
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

import click

from rag_oracle.cli.options import (
    GeneratorFlags,
    RetrievalFlags,
    current_settings,
    generator_options,
    index_option,
    json_option,
    open_oracle,
    retrieval_options,
)
from rag_oracle.cli.progress import Spinner, may_style
from rag_oracle.text.untrusted import terminal_safe, terminal_safe_json

if TYPE_CHECKING:
    from rag_oracle.settings import Settings
    from rag_oracle.types import Answer

BOLD, PLAIN = "\x1b[1m", "\x1b[0m"
# Headings render_markdown and the answer body write on a line of their own, after a blank line.
FIXED_HEADINGS = ("Conflicting evidence", "Related questions", "References")


@click.command()
@click.argument("query")
@click.option("-k", "k", type=int, help="Number of chunks (default 10).")
@retrieval_options
@index_option()
@json_option("Structured output.")
@click.pass_context
def search(
    ctx: click.Context, query: str, k: int | None, index_dir: str | None, as_json: bool, retrieval: RetrievalFlags
) -> None:
    """Ranked passages for QUERY, with dense and BM25 score components."""
    settings = current_settings(ctx, retrieval.overrides(), {"retrieve": {"k": k}})
    oracle = open_oracle(settings, index_dir, as_json)
    hits = oracle.search(query, settings.retrieve.k, retrieval.filters())
    if as_json:
        click.echo(json.dumps([h.model_dump() for h in hits], indent=2))  # ASCII: every control is escaped
        return
    if not hits:
        click.echo("no matching passages")
    for h in hits:
        parts = [f"score {h.score:.4f}"]
        if h.dense_score is not None:
            parts.append(f"dense {h.dense_score:.3f} (#{h.dense_rank})")
        if h.bm25_score is not None:
            parts.append(f"bm25 {h.bm25_score:.2f} (#{h.bm25_rank})")
        title = h.document.title or h.document.id
        year = f" ({h.document.year})" if h.document.year else ""
        click.echo(terminal_safe(f"{h.rank:>3}. {h.chunk.id}  {' | '.join(parts)}"))
        click.echo(terminal_safe(f"     {title}{year}" + (f" [{h.chunk.section}]" if h.chunk.section else "")))
        text = " ".join(terminal_safe(h.chunk.text).split())
        click.echo(f"     {text[:300]}{'…' if len(text) > 300 else ''}")


@click.command()
@click.argument("question")
@retrieval_options
@index_option()
@json_option("Structured output.")
@generator_options
@click.option("--no-stream", is_flag=True, help="Do not show the LLM's draft as it is written.")
@click.option(
    "--age-group",
    type=click.Choice(["child", "adult", "older_adult"]),
    help="The patient's age group (older_adult: 65+).",
)
@click.option(
    "--pregnancy", type=click.Choice(["pregnant", "breastfeeding"]), help="The patient is pregnant or breastfeeding."
)
@click.option(
    "--renal",
    "renal_function",
    type=click.Choice(["normal", "mild", "moderate", "severe", "dialysis"]),
    help="Renal function (mild 60-89, moderate 30-59, severe 15-29 mL/min, dialysis).",
)
@click.option("--crcl", type=click.FloatRange(0, 250), help="Measured creatinine clearance in mL/min.")
@click.pass_context
def ask(
    ctx: click.Context,
    question: str,
    index_dir: str | None,
    as_json: bool,
    no_stream: bool,
    age_group: str | None,
    pregnancy: str | None,
    renal_function: str | None,
    crcl: float | None,
    retrieval: RetrievalFlags,
    generation: GeneratorFlags,
) -> None:
    """A cited, guideline-style answer to QUESTION (or a plain statement that the index cannot answer it).

    With --generator llm the draft streams to stderr as it is written; the verified answer
    (unsupported sentences removed, citations renumbered) is printed when it is complete.
    --age-group, --pregnancy, --renal and --crcl describe the patient: they become the question's
    population ("... in older adults"), and the answer says which patient it is for.
    """
    from rag_oracle.types import PatientContext

    context = PatientContext(
        age_group=age_group, pregnancy=pregnancy, renal_function=renal_function, creatinine_clearance=crcl
    )
    from rag_oracle.answer.render import render_markdown
    from rag_oracle.pipeline import Callbacks

    settings = current_settings(ctx, retrieval.overrides(), generation.overrides())
    # --json is for programs: nothing but the JSON, as with --quiet elsewhere.
    with Spinner("opening the index", enabled=False if as_json else None) as spinner:
        if index_dir is None and not _sample_index_exists(settings):
            spinner.stop()  # building it draws progress bars of its own
        oracle = open_oracle(settings, index_dir, as_json)
        spinner.start()
        spinner.watch_model(oracle.embedder)
        stream = None
        if settings.answer.generator == "llm" and not as_json and not no_stream:
            drafting: list[bool] = []

            def stream(piece: str) -> None:
                if not drafting:  # the draft is written where the spinner was
                    spinner.stop()
                    click.echo("draft (verifying when complete):", err=True)
                    drafting.append(True)
                click.echo(terminal_safe(piece), nl=False, err=True)  # the draft quotes documents too

        answer = oracle.run(
            question,
            retrieval.filters(),
            callbacks=Callbacks(on_token=stream, on_stage=spinner.stage),
            context=context,
        )
    if stream is not None:
        click.echo("\n", err=True)
    if as_json:
        click.echo(terminal_safe_json(answer.model_dump_json(indent=2)))
    else:
        text = render_markdown(answer)  # terminal_safe
        click.echo(bold_headings(text, headings(answer)) if may_style(sys.stdout) else text)


def headings(answer: Answer) -> set[str]:
    """The heading lines of `answer` as `render_markdown` writes them: its section titles (not the
    untitled direct answer), "Conflicting evidence", "Related questions" and "References"."""
    titles = [section.title for section in answer.sections if section.kind != "direct" and section.title]
    return {terminal_safe(title) for title in [*titles, *FIXED_HEADINGS]}


def bold_headings(text: str, names: set[str]) -> str:
    """`text` with each line that is one of `names` and starts a block (first, or after a blank
    line) in bold; a sentence that happens to equal a title inside a block stays plain."""
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if line in names and (i == 0 or not lines[i - 1]):
            lines[i] = f"{BOLD}{line}{PLAIN}"
    return "\n".join(lines)


def _sample_index_exists(settings: Settings) -> bool:
    from rag_oracle.api import sample_index_path
    from rag_oracle.index.atomic import is_index

    return is_index(sample_index_path(settings))
