"""`rag-oracle chat`: the terminal conversation, driven through click with scripted input."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from rag_oracle.cli.serve import chat
from tests.chat.chat_corpus import QUESTION


def _run(chat_index, db: Path, lines: list[str], *extra: str):
    settings, index = chat_index
    return CliRunner().invoke(
        chat,
        ["--index", str(index), "--db", str(db), *extra],
        input="\n".join(lines) + "\n",
        obj={"settings": settings},
    )


def test_conversation_follow_up_export_and_resume(chat_index, tmp_path: Path) -> None:
    db = tmp_path / "s.sqlite"
    out = tmp_path / "talk.md"
    result = _run(chat_index, db, [QUESTION, "and in the elderly?", f"/export {out}", "/sessions", "/quit"])
    assert result.exit_code == 0, result.output
    assert "(searched as: What is the dose of clonazepam for depression in the elderly?)" in result.output
    assert "References" in result.output and "Clonazepam in elderly patients" in result.output
    assert f"saved markdown to {out}" in result.output
    assert "## 2. and in the elderly?" in out.read_text()
    assert "   2 turns  " + QUESTION in result.output

    # a new process on the same file continues the conversation: the follow-up still has its subject
    session_id = result.output.split("*", 1)[1].split()[0]
    json_out = tmp_path / "talk.json"
    again = _run(
        chat_index, db, ["Is it safe?", f"/export {json_out}", "/delete nope", "/quit"], "--session", session_id[:8]
    )
    assert again.exit_code == 0, again.output
    assert f"continuing {session_id}" in again.output
    assert "(searched as: Is clonazepam safe?)" in again.output
    assert "error: no session 'nope'" in again.output
    assert len(json.loads(json_out.read_text())["session"]["messages"]) == 6


def test_commands_and_bad_input(chat_index, tmp_path: Path) -> None:
    result = _run(chat_index, tmp_path / "s.sqlite", ["/export x.md", "/bogus", "   ", "/new Warfarin", "/sessions"])
    assert result.exit_code == 0, result.output  # end of input leaves like /quit
    assert "nothing to export yet" in result.output
    assert "unknown command or missing argument: /bogus" in result.output
    assert "0 turns  Warfarin" in result.output
    missing = _run(chat_index, tmp_path / "s.sqlite", [], "--session", "0000")
    assert missing.exit_code != 0 and "no session '0000'" in str(missing.exception or missing.output)
