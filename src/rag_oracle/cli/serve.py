"""`rag-oracle serve` (HTTP API and web page) and `rag-oracle chat` (terminal conversation).

Like the rest of the CLI they translate flags into settings (`[server]`, `[chat]`, `[answer]`,
`[llm]`) and call the library (`rag_oracle.chat.ChatService`, `rag_oracle.server.create_app`).
`python -m rag_oracle.server` runs `serve` on its own (`rag_oracle.cli.errors.run_standalone`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from rag_oracle.cli.options import (
    GeneratorFlags,
    current_settings,
    index_option,
    open_oracle,
    session_generator_options,
)
from rag_oracle.settings import ServerSettings, Settings

if TYPE_CHECKING:
    from rag_oracle.chat import ChatService

_LOOPBACK = {"127.0.0.1", "::1", "localhost"}


class _ServerSettingOption(click.Option):
    """A flag for the [server] setting of the same name. Left out, it is None and the setting
    decides; --help shows the setting's value as the default."""

    def get_help_extra(self, ctx: click.Context) -> Any:  # click >= 8.2; older click shows no default
        extra = super().get_help_extra(ctx)
        settings = (ctx.find_object(dict) or {}).get("settings")
        server = settings.server if isinstance(settings, Settings) else ServerSettings()
        extra["default"] = str(getattr(server, self.name))
        return extra


def _session_options(f):
    f = session_generator_options(f)
    f = click.option(
        "--db",
        "db_path",
        type=click.Path(dir_okay=False),
        help="Sessions file (default: $RAG_ORACLE_CHAT__DB, else ~/.local/share/rag-oracle/sessions.sqlite).",
    )(f)
    return index_option()(f)


def _chat_service(settings: Settings, index_dir: str | None) -> ChatService:
    """The ChatService over the opened index (the sample index when none is given)."""
    from rag_oracle.chat import ChatService, SessionStore

    oracle = open_oracle(settings, index_dir, quiet=False)
    return ChatService(
        oracle,
        SessionStore(settings.chat.db or None),
        index_path=str(oracle.index.path),
        history_turns=settings.chat.history_turns,
    )


@click.command()
@_session_options
@click.option("--host", cls=_ServerSettingOption, help="Address to listen on.")
@click.option("--port", cls=_ServerSettingOption, type=click.IntRange(0, 65535), help="TCP port.")
@click.option(
    "--rate-limit",
    type=click.FloatRange(min=0),
    cls=_ServerSettingOption,
    help="Requests per second per client on /v1 routes (0: no limit).",
)
@click.option(
    "--rate-burst",
    type=click.IntRange(min=1),
    cls=_ServerSettingOption,
    help="Requests allowed at once.",
)
@click.option(
    "--max-body-kib",
    type=click.IntRange(min=1),
    cls=_ServerSettingOption,
    help="Largest request body.",
)
@click.option("--log-level", type=click.Choice(["critical", "error", "warning", "info", "debug"]))
@click.pass_context
def serve(
    ctx: click.Context,
    index_dir: str | None,
    db_path: str | None,
    host: str | None,
    port: int | None,
    rate_limit: float | None,
    rate_burst: int | None,
    max_body_kib: int | None,
    log_level: str | None,
    generation: GeneratorFlags,
) -> None:
    """Serve the HTTP API (/v1/...), an OpenAI-compatible /v1/chat/completions and the web page at /.

    Set RAG_ORACLE_API_KEY to require 'Authorization: Bearer <key>' on every /v1 route.
    """
    from rag_oracle.optional import require
    from rag_oracle.server import create_app
    from rag_oracle.server.config import ServerConfig

    uvicorn = require("uvicorn", extra="server", purpose="The HTTP server")
    server_flags = {
        "host": host,
        "port": port,
        "rate_limit": rate_limit,
        "rate_burst": rate_burst,
        "max_body_kib": max_body_kib,
        "log_level": log_level,
    }
    settings = current_settings(ctx, generation.overrides(), {"chat": {"db": db_path}, "server": server_flags})
    server = settings.server
    service = _chat_service(settings, index_dir)
    config = ServerConfig.from_settings(server)
    app = create_app(service, config)
    service.warm_up()  # /healthz answering then means the model is loaded, not that it is about to be
    if server.host not in _LOOPBACK and not config.api_key:
        click.echo(f"warning: listening on {server.host} without an API key; set {server.api_key_env}", err=True)
    click.echo(
        f"rag-oracle: index {service.index_path}, sessions {service.store.path}, http://{server.host}:{server.port}/",
        err=True,
    )
    uvicorn.run(app, host=server.host, port=server.port, log_level=server.log_level)


@click.command()
@_session_options
@click.option("--session", "session_id", help="Continue a stored conversation (its id or a unique prefix).")
@click.pass_context
def chat(
    ctx: click.Context, index_dir: str | None, db_path: str | None, session_id: str | None, generation: GeneratorFlags
) -> None:
    """Converse in the terminal: follow-ups ("and in the elderly?") use the conversation so far.

    Commands: /new, /sessions, /open ID, /export FILE, /delete ID, /help, /quit.
    """
    from rag_oracle.chat.repl import ChatRepl

    try:
        import readline  # noqa: F401  (line editing and history for input())
    except ImportError:  # pragma: no cover - not on every platform
        pass
    settings = current_settings(ctx, generation.overrides(), {"chat": {"db": db_path}})
    service = _chat_service(settings, index_dir)
    on_token = None
    if service.oracle.settings.answer.generator == "llm":

        def on_token(piece: str) -> None:
            click.echo(piece, nl=False, err=True)

    click.echo(f"index {service.index_path}; sessions in {service.store.path}", err=True)
    ChatRepl(service, read=input, write=click.echo, session_id=session_id, on_token=on_token).run()
