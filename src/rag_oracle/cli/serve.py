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
from rag_oracle.server.workers import MAX_WORKERS
from rag_oracle.settings import ServerSettings, Settings

if TYPE_CHECKING:
    from rag_oracle.chat import ChatService

_LOOPBACK = {"127.0.0.1", "::1", "localhost"}
_ENV_LIST = "a JSON list in the environment, e.g. RAG_ORACLE_SERVER__{}='[\"{}\"]'"


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
@click.option(
    "--allowed-host",
    "allowed_hosts",
    multiple=True,
    metavar="NAME",
    help="A Host name to answer besides server.allowed_hosts (default localhost, 127.0.0.1, ::1, any port); "
    "repeatable. '*.example.org' for subdomains; '*' for any name (unsafe: DNS rebinding).",
)
@click.option(
    "--allowed-origin",
    "allowed_origins",
    multiple=True,
    metavar="ORIGIN",
    help="A web origin (https://app.example.org) besides the server's own whose pages may POST, PUT, PATCH or "
    "DELETE; adds to server.allowed_origins; repeatable.",
)
@click.option(
    "--trusted-proxy",
    "trusted_proxies",
    multiple=True,
    metavar="IP|CIDR",
    help="A reverse proxy whose X-Forwarded-For / Forwarded headers name the client; adds to "
    "server.trusted_proxies; repeatable. From anyone else those headers are ignored.",
)
@click.option("--log-level", type=click.Choice(["critical", "error", "warning", "info", "debug"]))
@click.option(
    "--workers",
    type=click.IntRange(1, MAX_WORKERS),
    default=1,
    show_default=True,
    help="Server processes. One process answers one question at a time (answers are composed in Python); "
    "N processes use N cores. About one per core the server may use; each loads its own model (~250 MB) and "
    "has its own rate limit, so a client may make N times --rate-limit requests a second.",
)
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
    allowed_hosts: tuple[str, ...],
    allowed_origins: tuple[str, ...],
    trusted_proxies: tuple[str, ...],
    log_level: str | None,
    workers: int,
    generation: GeneratorFlags,
) -> None:
    """Serve the HTTP API (/v1/...), an OpenAI-compatible /v1/chat/completions and the web page at /.

    Set RAG_ORACLE_API_KEY to require 'Authorization: Bearer <key>' on every /v1 route. Only
    requests for the Host names in server.allowed_hosts are answered (loopback names by default):
    listening on another address, add the names clients use with --allowed-host. With --workers N,
    N processes serve the same port (rag_oracle/server/workers.py says what they share).
    """
    from rag_oracle.optional import require

    uvicorn = require("uvicorn", extra="server", purpose="The HTTP server")
    from rag_oracle.server import create_app
    from rag_oracle.server.config import ServerConfig
    from rag_oracle.server.workers import WorkerSpec, run_workers

    server_flags = {
        "host": host,
        "port": port,
        "rate_limit": rate_limit,
        "rate_burst": rate_burst,
        "max_body_kib": max_body_kib,
        "log_level": log_level,
    }
    settings = current_settings(ctx, generation.overrides(), {"chat": {"db": db_path}, "server": server_flags})
    # The list flags add to the configured lists: `--allowed-host rag.lan` keeps localhost answering.
    added = {"allowed_hosts": allowed_hosts, "allowed_origins": allowed_origins, "trusted_proxies": trusted_proxies}
    if any(added.values()):
        current = settings.server
        lists = {name: [*getattr(current, name), *values] for name, values in added.items() if values}
        settings = settings.with_overrides({"server": lists})
    server = settings.server
    service = _chat_service(settings, index_dir)
    config = ServerConfig.from_settings(server)
    for warning in _exposure_warnings(server, bool(config.api_key)):
        click.echo(f"warning: {warning}", err=True)
    if workers > 1 and config.rate_limited:
        click.echo(
            f"warning: each of the {workers} workers has its own rate limit: a client may make up to "
            f"{workers * server.rate_limit:g} requests a second, not {server.rate_limit:g}",
            err=True,
        )
    processes = f", {workers} worker processes" if workers > 1 else ""
    click.echo(
        f"rag-oracle: index {service.index_path}, sessions {service.store.path}, http://{server.host}:{server.port}/"
        f"{processes} (loading the model: /healthz says ready when done)",
        err=True,
    )
    if workers > 1:
        # The index was opened (the sample one built) and the sessions file made here, once, so the
        # workers neither build it N times over nor race to create the file; each opens its own.
        service.store.check()
        spec = WorkerSpec.from_settings(
            settings, index=service.index_path, sessions_db=str(service.store.path), workers=workers
        )
        service.oracle.index.close()
        run_workers(spec)
        return
    # It listens at once and loads the model in the background: /healthz says "starting" (503) until
    # it has, and questions sent meanwhile wait for it rather than each loading it.
    app = create_app(service, config, warm_up=True)
    # proxy_headers=False: uvicorn's own handling believes X-Forwarded-For from 127.0.0.1 and rewrites
    # the client with it, so any local caller could name itself. The app reads those headers only
    # from server.trusted_proxies (rag_oracle/server/proxies.py).
    uvicorn.run(app, host=server.host, port=server.port, log_level=server.log_level, proxy_headers=False)


def _exposure_warnings(server: ServerSettings, has_key: bool) -> list[str]:
    """What the operator should know about who can reach the server, before it starts."""
    warnings = []
    loopback = server.host in _LOOPBACK or server.host.startswith("127.")
    if not loopback and not has_key:
        warnings.append(f"listening on {server.host} without an API key; set {server.api_key_env}")
    if "*" in server.allowed_hosts:
        warnings.append(
            "server.allowed_hosts has '*': any Host name is answered, so a web page can read this server "
            "through DNS rebinding; list the server's names instead"
        )
    elif not loopback and set(server.allowed_hosts) <= _LOOPBACK | {"[::1]"}:
        hosts = ", ".join(server.allowed_hosts)
        warnings.append(
            f"listening on {server.host}, but only requests for {hosts} are answered (others get 400); add "
            "the names clients use with --allowed-host NAME (server.allowed_hosts, "
            + _ENV_LIST.format("ALLOWED_HOSTS", "NAME")
            + ")"
        )
    return warnings


@click.command()
@_session_options
@click.option("--session", "session_id", help="Continue a stored conversation (its id or a unique prefix).")
@click.pass_context
def chat(
    ctx: click.Context, index_dir: str | None, db_path: str | None, session_id: str | None, generation: GeneratorFlags
) -> None:
    """Converse in the terminal: follow-ups ("and in the elderly?") use the conversation so far.

    Commands: /new, /sessions, /open ID, /edit QUESTION, /export FILE, /delete ID, /help, /quit.
    """
    from rag_oracle.chat.repl import ChatRepl
    from rag_oracle.cli.progress import Spinner

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

    def progress() -> Spinner:  # on stderr, and only when it is a terminal
        spinner = Spinner("rewriting")
        spinner.watch_model(service.oracle.embedder)
        return spinner

    click.echo(f"index {service.index_path}; sessions in {service.store.path}", err=True)
    ChatRepl(service, read=input, write=click.echo, session_id=session_id, on_token=on_token, progress=progress).run()
