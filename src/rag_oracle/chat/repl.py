"""The terminal conversation loop behind `rag-oracle chat`, with input and output injected.

Lines starting with "/" are commands; anything else is a question in the current session.
It never prints by itself: `write` (the CLI passes click.echo) receives every line, and `on_token`
every piece of an LLM's draft, both through `terminal_safe`: answers, titles and drafts carry
document text, and a document's escape sequences must reach the terminal as nothing. While a
question is answered, `progress()` (the CLI passes a `rag_oracle.cli.progress.Spinner` factory)
is entered and told each stage; without it nothing is shown.

Example::

    ChatRepl(service, read=input, write=print).run()
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Protocol

from rag_oracle.answer.render import render_markdown
from rag_oracle.chat.service import ChatService
from rag_oracle.errors import QueryError, RagOracleError
from rag_oracle.text.untrusted import terminal_safe
from rag_oracle.types import Turn

HELP = """Commands:
  /new [TITLE]      start a new conversation
  /sessions         list stored conversations
  /open ID          continue a stored conversation (a unique prefix of its id is enough)
  /edit QUESTION    answer the last question again, searching for QUESTION (an edited "searched as")
  /export FILE      save this conversation (.json: complete; anything else: Markdown)
  /delete ID        delete a stored conversation
  /help             this list
  /quit             leave (Ctrl-D works too)
Anything else is a question; follow-ups such as "and in the elderly?" use the conversation."""

PROMPT = "you> "


class Progress(Protocol):
    """What the loop shows while a question is answered (the CLI's spinner)."""

    def stage(self, name: str) -> None: ...

    def stop(self) -> None: ...


class _Silent:
    def stage(self, name: str) -> None:
        pass

    def stop(self) -> None:
        pass


class ChatRepl:
    """Reads questions and commands until /quit or end of input."""

    def __init__(
        self,
        service: ChatService,
        *,
        read: Callable[[str], str] = input,
        write: Callable[[str], None],
        session_id: str | None = None,
        on_token: Callable[[str], None] | None = None,
        progress: Callable[[], AbstractContextManager[Progress]] | None = None,
    ) -> None:
        self.service = service
        self.read = read
        self.write: Callable[[str], None] = lambda text: write(terminal_safe(text))
        self.session_id = session_id
        # Each piece is made safe on its own: a sequence cut between pieces loses its ESC in the
        # first, and what follows in the next is plain characters.
        self.on_token = (lambda piece: on_token(terminal_safe(piece))) if on_token is not None else None
        self.progress = progress or (lambda: nullcontext(_Silent()))
        self.last_seq: int | None = None  # the seq of this session's last answer, once known

    def run(self) -> None:
        if self.session_id is not None:
            self._open(self.session_id)
        self.write('Ask a clinical question. "/help" lists commands, "/quit" leaves.')
        while True:
            try:
                line = self.read(PROMPT).strip()
            except (EOFError, KeyboardInterrupt):
                self.write("")
                return
            if not line:
                continue
            try:
                if line.startswith("/"):
                    if not self.command(line):
                        return
                else:
                    self.question(line)
            except RagOracleError as exc:
                self.write(f"error: {exc}")

    def question(self, text: str) -> None:
        if self.session_id is None:
            self.session_id = self.service.start_session().id
        session_id = self.session_id
        with self.progress() as progress:
            turn = self.service.send(session_id, text, on_token=self._streaming(progress), **self._stages(progress))
        self._show(turn)

    def edit(self, standalone: str) -> None:
        """Answer the session's last question again, searching for `standalone` (stored in its place)."""
        last = self._last_answer()
        if last is None:
            self.write("nothing to edit yet: ask a question first")
            return
        session_id, seq = last
        with self.progress() as progress:
            turn = self.service.regenerate(
                session_id, seq, standalone=standalone, on_token=self._streaming(progress), **self._stages(progress)
            )
        self._show(turn)

    def _show(self, turn: Turn) -> None:
        self.last_seq = turn.seq
        if turn.standalone_question != turn.question:
            self.write(f"(searched as: {turn.standalone_question})")
        self.write(render_markdown(turn.answer))

    def _stages(self, progress: Progress) -> dict[str, Callable[[str], None]]:
        # Without a progress display no stage callback is passed, so a service that takes none
        # (a test's stand-in) still works.
        return {} if isinstance(progress, _Silent) else {"on_stage": progress.stage}

    def _streaming(self, progress: Progress) -> Callable[[str], None] | None:
        """`on_token` that first stops the progress line: the draft is written where it was."""
        on_token = self.on_token
        if on_token is None:
            return None
        if isinstance(progress, _Silent):
            return on_token

        def streamed(piece: str) -> None:
            progress.stop()
            on_token(piece)

        return streamed

    def _last_answer(self) -> tuple[str, int] | None:
        """(session id, seq of its last answer), or None before the first answer."""
        if self.session_id is None:
            return None
        if self.last_seq is None:
            answers = [m.seq for m in self.service.session(self.session_id).messages if m.role == "assistant"]
            self.last_seq = answers[-1] if answers else None
        return None if self.last_seq is None else (self.session_id, self.last_seq)

    def command(self, line: str) -> bool:
        """Runs one /command; False when the loop should end."""
        name, _, arg = line.partition(" ")
        arg = arg.strip()
        name = name.lower()
        if name in {"/quit", "/exit", "/q"}:
            return False
        if name == "/help":
            self.write(HELP)
        elif name == "/edit" and arg:
            self.edit(arg)
        elif name == "/new":
            self.session_id = self.service.start_session(title=arg).id
            self.last_seq = None
            self.write(f"new conversation {self.session_id}")
        elif name == "/sessions":
            self._list()
        elif name == "/open" and arg:
            self._open(arg)
        elif name == "/export" and arg:
            self._export(Path(arg))
        elif name == "/delete" and arg:
            session_id = self._resolve(arg)
            self.service.delete_session(session_id)
            if session_id == self.session_id:
                self.session_id = self.last_seq = None
            self.write(f"deleted {session_id}")
        else:
            self.write(f"unknown command or missing argument: {line}\n{HELP}")
        return True

    def _list(self) -> None:
        sessions = self.service.sessions()
        if not sessions:
            self.write("no stored conversations")
        for s in sessions:
            mark = "*" if s.id == self.session_id else " "
            self.write(f"{mark} {s.id}  {s.updated_at}  {s.message_count // 2:>3} turns  {s.title or '(untitled)'}")

    def _resolve(self, prefix: str) -> str:
        matches = [s.id for s in self.service.sessions() if s.id.startswith(prefix)]
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise QueryError(f"{prefix!r} matches {len(matches)} sessions; type more of the id")
        return prefix  # unknown: the store's error names it

    def _open(self, prefix: str) -> None:
        session = self.service.session(self._resolve(prefix))
        self.session_id = session.id
        self.last_seq = None  # found in the session when /edit needs it
        self.write(f"continuing {session.id}: {session.title or '(untitled)'} ({len(session.messages) // 2} turns)")

    def _export(self, path: Path) -> None:
        if self.session_id is None:
            self.write("nothing to export yet: ask a question first")
            return
        fmt = "json" if path.suffix.lower() == ".json" else "markdown"
        try:
            path.write_text(self.service.export(self.session_id, fmt), encoding="utf-8")
        except OSError as exc:
            self.write(f"error: cannot write {path}: {exc.strerror}")
            return
        self.write(f"saved {fmt} to {path}")
