"""How the CLI reports a failure: one line on stderr and an exit code, never a traceback.

A library error carries its own exit code (`RagOracleError.exit_code`, see rag_oracle.errors);
an interruption exits 130.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import click

from rag_oracle.errors import RagOracleError
from rag_oracle.text.untrusted import terminal_safe

INTERRUPTED = 130


def fail(message: str, code: int = 2) -> NoReturn:
    """Print `error: message` on stderr and exit with `code`."""
    click.echo(f"error: {terminal_safe(message)}", err=True)
    sys.exit(code)


@contextmanager
def mapped_errors() -> Iterator[None]:
    """Turn a library error or Ctrl-C raised inside the block into `fail(...)`."""
    try:
        yield
    except RagOracleError as exc:
        fail(str(exc), exc.exit_code)
    except OSError as exc:
        # A full disk, a permission, a vanished folder outside what the library maps: one line, not a traceback.
        where = f"{exc.filename}: " if exc.filename else ""
        fail(f"{where}{exc.strerror or exc}", 1)
    except KeyboardInterrupt:
        fail("interrupted", INTERRUPTED)


class ErrorMappingGroup(click.Group):
    """A command group whose commands' library errors become a one-line message and exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        with mapped_errors():
            return super().invoke(ctx)


def run_standalone(command: click.Command) -> None:
    """Run one command outside the main group (python -m rag_oracle.server), with the same error mapping."""
    try:
        with mapped_errors():
            command.main(standalone_mode=False)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:  # click's form of Ctrl-C outside standalone mode
        sys.exit(INTERRUPTED)
