"""The terminal conversation loop behind `rag-oracle chat`, with input and output injected.

Lines starting with "/" are commands; anything else is a question in the current session.
It never prints by itself: `write` (the CLI passes click.echo) receives every line, and `on_token`
every piece of an LLM's draft, both through `terminal_safe`: answers, titles and drafts carry
document text, and a document's escape sequences must reach the terminal as nothing.

Example::

    ChatRepl(service, read=input, write=print).run()
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from rag_oracle.answer.render import render_markdown
from rag_oracle.chat.service import ChatService
from rag_oracle.errors import QueryError, RagOracleError
from rag_oracle.text.untrusted import terminal_safe

HELP = """Commands:
  /new [TITLE]      start a new conversation
  /sessions         list stored conversations
  /open ID          continue a stored conversation (a unique prefix of its id is enough)
  /export FILE      save this conversation (.json: complete; anything else: Markdown)
  /delete ID        delete a stored conversation
  /help             this list
  /quit             leave (Ctrl-D works too)
Anything else is a question; follow-ups such as "and in the elderly?" use the conversation."""

PROMPT = "you> "


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
    ) -> None:
        self.service = service
        self.read = read
        self.write: Callable[[str], None] = lambda text: write(terminal_safe(text))
        self.session_id = session_id
        # Each piece is made safe on its own: a sequence cut between pieces loses its ESC in the
        # first, and what follows in the next is plain characters.
        self.on_token = (lambda piece: on_token(terminal_safe(piece))) if on_token is not None else None

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
        turn = self.service.send(self.session_id, text, on_token=self.on_token)
        if turn.standalone_question != turn.question:
            self.write(f"(searched as: {turn.standalone_question})")
        self.write(render_markdown(turn.answer))

    def command(self, line: str) -> bool:
        """Runs one /command; False when the loop should end."""
        name, _, arg = line.partition(" ")
        arg = arg.strip()
        name = name.lower()
        if name in {"/quit", "/exit", "/q"}:
            return False
        if name == "/help":
            self.write(HELP)
        elif name == "/new":
            self.session_id = self.service.start_session(title=arg).id
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
                self.session_id = None
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
