"""`rag-oracle ask` on a terminal: bold headings on stdout (not piped, not under NO_COLOR) and the
spinner on stderr, erased before the answer; piped, not one escape code."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from rag_oracle.cli import progress
from rag_oracle.cli.answer import ask, bold_headings
from rag_oracle.errors import QueryError
from tests.chat.chat_corpus import QUESTION

BOLD, PLAIN = "\x1b[1m", "\x1b[0m"


@pytest.fixture
def run_ask(chat_index, monkeypatch: pytest.MonkeyPatch):
    """Runs ask; `terminal=True` makes stdout and stderr terminals (CliRunner's streams never are)."""
    settings, index = chat_index
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.delenv("NO_COLOR", raising=False)

    def run(*args: str, terminal: bool = False):
        if terminal:
            monkeypatch.setattr(progress, "is_terminal", lambda stream: True)
        # color=True: click keeps escape codes in captured output, so only ours decide what is there
        return CliRunner().invoke(ask, [QUESTION, "--index", str(index), *args], obj={"settings": settings}, color=True)

    return run


def test_on_a_terminal_headings_are_bold_and_the_spinner_is_erased(run_ask) -> None:
    result = run_ask(terminal=True)
    assert result.exit_code == 0, result.output
    out = result.stdout
    for heading in ("Dosing and administration", "References", "Related questions"):
        assert f"\n{BOLD}{heading}{PLAIN}\n" in out, heading
    assert f"{BOLD}Question" not in out and out.count(BOLD) == 3  # only headings
    for stage in ("opening the index… ", "retrieving… ", "composing… ", "verifying… "):
        assert stage in result.stderr, stage
    assert result.stderr.endswith("\r\x1b[K")  # erased before the answer was printed


def test_piped_there_is_no_escape_code_anywhere(run_ask) -> None:
    result = run_ask()
    assert result.exit_code == 0, result.output
    assert "References" in result.stdout
    assert "\x1b" not in result.stdout and "\x1b" not in result.stderr and "retrieving" not in result.stderr


def test_no_color_keeps_headings_plain_on_a_terminal(run_ask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    result = run_ask(terminal=True)
    assert result.exit_code == 0, result.output
    assert "\nReferences\n" in result.stdout and "\x1b" not in result.stdout


def test_json_gets_neither_spinner_nor_style(run_ask) -> None:
    result = run_ask("--json", terminal=True)
    assert result.exit_code == 0, result.output
    assert result.stdout.lstrip().startswith("{") and "\x1b" not in result.stdout + result.stderr


def test_an_error_leaves_no_spinner_behind(run_ask) -> None:
    result = run_ask("--year-min", "2020", "--year-max", "2000", terminal=True)
    assert isinstance(result.exception, QueryError)  # the main group maps it to "error: ..." after this
    assert "opening the index… " in result.stderr and result.stderr.endswith("\r\x1b[K")


def test_only_a_line_that_starts_a_block_is_a_heading() -> None:
    text = "Question: q\n\nKey points\n- Key points\nKey points\n\nReferences\n[1] x"
    styled = bold_headings(text, {"Key points", "References"})
    assert (
        styled == f"Question: q\n\n{BOLD}Key points{PLAIN}\n- Key points\nKey points\n\n{BOLD}References{PLAIN}\n[1] x"
    )
