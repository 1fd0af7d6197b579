"""The `rag-oracle` command: argument parsing and error mapping over the Python API, nothing more.

One module per command (or command group), sharing the option groups of `options.py`:

    ingest.py    ingest                      index.py     index info | verify
    answer.py    search, ask                 evaluate.py  eval import | run | compare | report
    prompts.py   prompts list | show | ...   serve.py     serve, chat
    pubmed.py    pubmed fetch

Exit codes: 0 success; 1 finished but something failed (a file could not be ingested, an
index failed verification); 2 bad input or an error that stopped the command (the message
says what and how to fix it; a library error exits with its `exit_code`); 130 interrupted.
"""

from __future__ import annotations

import logging

import click

from rag_oracle.cli import answer, evaluate, index, ingest, prompts, pubmed, serve
from rag_oracle.cli.errors import ErrorMappingGroup
from rag_oracle.cli.progress import TqdmProgress
from rag_oracle.settings import load_settings
from rag_oracle.version import __version__


@click.group(cls=ErrorMappingGroup)
@click.version_option(__version__, prog_name="rag-oracle")
@click.option(
    "--config", "config_file", type=click.Path(dir_okay=False), help="TOML settings file (default: ./rag-oracle.toml)."
)
@click.pass_context
def main(ctx: click.Context, config_file: str | None) -> None:
    """Cited answers to clinical questions from the literature you index."""
    # Damaged PDFs make pypdf log recoverable problems; the ingest report already says what failed.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    ctx.obj = {"settings": load_settings(config_file)}  # a ConfigError is mapped by the group


for _command in (
    ingest.ingest,
    pubmed.pubmed_group,
    index.index_group,
    answer.search,
    answer.ask,
    evaluate.eval_group,
    prompts.prompts_group,
    serve.serve,
    serve.chat,
):
    main.add_command(_command)

__all__ = ["TqdmProgress", "main"]
