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
    assert "(searched as: Is clonazepam safe for depression in the elderly?)" in again.output
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


EDITED = "How many days before surgery should warfarin be stopped?"


def test_edit_answers_the_last_turn_again_in_place_with_the_edited_search(chat_index, tmp_path: Path) -> None:
    db = tmp_path / "s.sqlite"
    saved = tmp_path / "talk.json"
    result = _run(
        chat_index, db, [f"/edit {EDITED}", QUESTION, "and in the elderly?", f"/edit {EDITED}", f"/export {saved}"]
    )
    assert result.exit_code == 0, result.output
    assert "nothing to edit yet: ask a question first" in result.output
    edited = result.output.split(f"(searched as: {EDITED})", 1)
    assert len(edited) == 2, result.output  # the edit says what it searched for
    assert "Holding warfarin before surgery" in edited[1] and "Holding warfarin" not in edited[0]
    messages = json.loads(saved.read_text())["session"]["messages"]
    assert len(messages) == 4  # answered again in place, not appended
    assert messages[2]["content"] == "and in the elderly?" and messages[2]["standalone_question"] == EDITED
    assert messages[3]["content"].startswith("Stop warfarin 5 days before surgery.")

    # a resumed conversation: /edit finds the stored last answer
    session_id = json.loads(saved.read_text())["session"]["id"]
    again = _run(
        chat_index,
        db,
        ["/edit What is the dose of clonazepam for depression in the elderly?", f"/export {saved}"],
        "--session",
        session_id,
    )
    assert again.exit_code == 0, again.output
    messages = json.loads(saved.read_text())["session"]["messages"]
    assert len(messages) == 4 and "0.25 mg at bedtime" in messages[3]["content"]


def test_help_lists_edit_and_edit_needs_a_question(chat_index, tmp_path: Path) -> None:
    result = _run(chat_index, tmp_path / "s.sqlite", ["/help", QUESTION, "/edit"])
    assert "/edit QUESTION" in result.output
    assert "unknown command or missing argument: /edit" in result.output


class RecordedProgress:
    """A stand-in for the CLI's spinner: records the stages and when it was left."""

    def __init__(self, events: list[str]) -> None:
        self.events = events

    def __enter__(self) -> RecordedProgress:
        self.events.append("start")
        return self

    def __exit__(self, *exc: object) -> None:
        self.events.append("end")

    def stage(self, name: str) -> None:
        self.events.append(name)

    def stop(self) -> None:
        self.events.append("stop")


def test_progress_hears_every_stage_and_ends_before_the_answer_is_written(service) -> None:
    from rag_oracle.chat.repl import ChatRepl

    events: list[str] = []
    lines = iter([QUESTION, f"/edit {EDITED}", "/quit"])
    repl = ChatRepl(
        service,
        read=lambda prompt: next(lines),
        write=lambda text: events.append("write") if text.startswith(("Question:", "(searched")) else None,
        progress=lambda: RecordedProgress(events),
    )
    repl.run()
    assert events == [
        *["start", "rewriting", "retrieving", "composing", "verifying", "end", "write"],
        *["start", "retrieving", "composing", "verifying", "end", "write", "write"],  # searched as, then the answer
    ]
