"""`rag-oracle search` (ranked passages) and `rag-oracle ask` (a cited answer).

Passages, titles and answers are document text: printed through `terminal_safe` (the JSON through
`terminal_safe_json`, the same data), so a document's escape sequences never reach the terminal.
"""

from __future__ import annotations

import json

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
from rag_oracle.text.untrusted import terminal_safe, terminal_safe_json


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
@click.pass_context
def ask(
    ctx: click.Context,
    question: str,
    index_dir: str | None,
    as_json: bool,
    no_stream: bool,
    retrieval: RetrievalFlags,
    generation: GeneratorFlags,
) -> None:
    """A cited, guideline-style answer to QUESTION (or a plain statement that the index cannot answer it).

    With --generator llm the draft streams to stderr as it is written; the verified answer
    (unsupported sentences removed, citations renumbered) is printed when it is complete.
    """
    from rag_oracle.answer.render import render_markdown

    settings = current_settings(ctx, retrieval.overrides(), generation.overrides())
    oracle = open_oracle(settings, index_dir, as_json)
    stream = None
    if settings.answer.generator == "llm" and not as_json and not no_stream:
        click.echo("draft (verifying when complete):", err=True)

        def stream(piece: str) -> None:
            click.echo(terminal_safe(piece), nl=False, err=True)  # the draft quotes documents too

    answer = oracle.ask(question, retrieval.filters(), on_token=stream)
    if stream is not None:
        click.echo("\n", err=True)
    if as_json:
        click.echo(terminal_safe_json(answer.model_dump_json(indent=2)))
    else:
        click.echo(render_markdown(answer))  # terminal_safe
