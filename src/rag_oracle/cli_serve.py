"""`rag-oracle serve` (HTTP API and web page) and `rag-oracle chat` (terminal conversation).

Registered on the main group in cli.py with `main.add_command`. Like the rest of the CLI they
translate arguments into library calls (`rag_oracle.chat.ChatService`) and nothing more.
"""

from __future__ import annotations

import sys

import click

from rag_oracle.errors import MissingDependencyError, RagOracleError
from rag_oracle.settings import Settings, load_settings

_LOOPBACK = {"127.0.0.1", "::1", "localhost"}


def _common_options(f):
    options = [
        click.option(
            "--index",
            "index_dir",
            type=click.Path(file_okay=False),
            help="Index directory (default: the sample index, built from ./corpus on first use).",
        ),
        click.option(
            "--db",
            "db_path",
            type=click.Path(dir_okay=False),
            help="Sessions file (default: $RAG_ORACLE_CHAT__DB, else ~/.local/share/rag-oracle/sessions.sqlite).",
        ),
        click.option(
            "--generator", type=click.Choice(["extractive", "llm"]), help="Answer writer (default extractive: no LLM)."
        ),
        click.option(
            "--audience",
            type=click.Choice(["clinician", "patient", "researcher"]),
            help="Default audience (a request may choose another).",
        ),
        click.option("--llm-url", help="OpenAI-compatible base URL for --generator llm."),
        click.option("--llm-model", help="Model name served by that endpoint."),
    ]
    for option in reversed(options):  # click lists options in decorator order, top first
        f = option(f)
    return f


def _service(ctx: click.Context, index_dir, db_path, generator, audience, llm_url, llm_model):
    """The ChatService over the opened index (the sample index when none is given)."""
    from rag_oracle.chat import ChatService, SessionStore
    from rag_oracle.cli import _open

    obj = ctx.find_object(dict) or {}
    base: Settings = obj.get("settings") or load_settings()
    settings = base.with_overrides(
        {
            "answer": {"generator": generator, "audience": audience},
            "llm": {"base_url": llm_url, "model": llm_model},
        }
    )
    oracle = _open(settings, index_dir, quiet=False)
    return ChatService(oracle, SessionStore(db_path), index_path=str(oracle.index.path))


@click.command()
@_common_options
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="TCP port.")
@click.option(
    "--rate-limit",
    type=click.FloatRange(min=0),
    default=5.0,
    show_default=True,
    help="Requests per second per client on /v1 routes (0: no limit).",
)
@click.option(
    "--rate-burst", type=click.IntRange(min=1), default=20, show_default=True, help="Requests allowed at once."
)
@click.option("--max-body-kib", type=click.IntRange(min=1), default=64, show_default=True, help="Largest request body.")
@click.option("--log-level", type=click.Choice(["critical", "error", "warning", "info", "debug"]), default="info")
@click.pass_context
def serve(
    ctx,
    index_dir,
    db_path,
    generator,
    audience,
    llm_url,
    llm_model,
    host,
    port,
    rate_limit,
    rate_burst,
    max_body_kib,
    log_level,
):
    """Serve the HTTP API (/v1/...), an OpenAI-compatible /v1/chat/completions and the web page at /.

    Set RAG_ORACLE_API_KEY to require 'Authorization: Bearer <key>' on every /v1 route.
    """
    from rag_oracle.server import create_app
    from rag_oracle.server.config import ServerConfig

    try:
        import uvicorn
    except ImportError:
        raise MissingDependencyError("uvicorn", "server", "The HTTP server") from None
    service = _service(ctx, index_dir, db_path, generator, audience, llm_url, llm_model)
    config = ServerConfig.from_env(rate_limit=rate_limit, rate_burst=rate_burst, max_body_bytes=max_body_kib * 1024)
    app = create_app(service, config)
    service.warm_up()  # /healthz answering then means the model is loaded, not that it is about to be
    if host not in _LOOPBACK and not config.api_key:
        click.echo(f"warning: listening on {host} without an API key; set RAG_ORACLE_API_KEY", err=True)
    click.echo(
        f"rag-oracle: index {service.index_path}, sessions {service.store.path}, http://{host}:{port}/", err=True
    )
    uvicorn.run(app, host=host, port=port, log_level=log_level)


@click.command()
@_common_options
@click.option("--session", "session_id", help="Continue a stored conversation (its id or a unique prefix).")
@click.pass_context
def chat(ctx, index_dir, db_path, generator, audience, llm_url, llm_model, session_id):
    """Converse in the terminal: follow-ups ("and in the elderly?") use the conversation so far.

    Commands: /new, /sessions, /open ID, /export FILE, /delete ID, /help, /quit.
    """
    from rag_oracle.chat.repl import ChatRepl

    try:
        import readline  # noqa: F401  (line editing and history for input())
    except ImportError:  # pragma: no cover - not on every platform
        pass
    service = _service(ctx, index_dir, db_path, generator, audience, llm_url, llm_model)
    on_token = None
    if service.oracle.settings.answer.generator == "llm":

        def on_token(piece: str) -> None:
            click.echo(piece, nl=False, err=True)

    click.echo(f"index {service.index_path}; sessions in {service.store.path}", err=True)
    ChatRepl(service, read=input, write=click.echo, session_id=session_id, on_token=on_token).run()


def run_standalone(command: click.Command) -> None:
    """Run one command outside the main group (python -m rag_oracle.server), with the same error mapping."""
    try:
        command.main(standalone_mode=False)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        sys.exit(130)
    except RagOracleError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
