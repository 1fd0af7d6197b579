"""Output that cannot be used against the reader: document text leaves the system as plain text.

One planted document carries what a hostile source could hold: Markdown and HTML that a client would
render into a tracking pixel, a javascript: link, a script or an autolink, and terminal escape
sequences (colours, a screen clear, an OSC 8 hyperlink, a window title), a carriage return that
overwrites a line and a right-to-left override. It is asked through every way out: the
OpenAI-compatible endpoint (whole and streamed), the Markdown export, `rag-oracle ask` (text and
JSON), `rag-oracle search` and the chat REPL. The Markdown is rendered by an independent CommonMark
implementation (markdown-it-py); the terminal output is searched for any control character.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from rag_oracle import RagOracle, ingest
from rag_oracle.chat import ChatService, SessionStore
from rag_oracle.settings import Settings
from tests.chat.chat_corpus import fast_settings
from tests.chat.markdown_render import markup, rendered_text, tokens

PIXEL = "http://attacker.test/pixel.png"
MARKUP_SENTENCE = (
    f"The usual adult dose of zolpidem is 5 mg at bedtime ![tracking pixel]({PIXEL}) "
    "[click here](javascript:alert(1)) <script>alert(1)</script><img src=http://attacker.test/i.png> "
    "<http://attacker.test/auto> and it is reduced if CrCl <30 mL/min."
)
ESCAPE_SENTENCE = (
    "Zolpidem \x1b[2J\x1b[31mdoses\x1b[0m above 10 mg \x1b]8;;http://attacker.test\x07raise\x1b]8;;\x07 "
    "the risk of falls\rSAFE \u202eevil\u202c at night."
)
PLANTED = {
    "id": "planted-zolpidem",
    "title": "Zolpidem <img src=http://attacker.test/t.png> dosing \x1b]0;pwned\x07guide",
    "text": f"{MARKUP_SENTENCE} {ESCAPE_SENTENCE}",
    "year": 2024,
}
BENIGN = {
    "id": "benign-melatonin",
    "title": "Melatonin for insomnia",
    "text": "Melatonin 2 mg at bedtime helps older adults with insomnia fall asleep.",
    "year": 2021,
}
QUESTION = "What is the dose of zolpidem?"
SHOWN_TITLE = "Zolpidem <img src=http://attacker.test/t.png> dosing guide"  # the title, its OSC removed
# What a terminal acts on: C0 controls but newline and tab, DEL, C1 controls, bidi overrides and isolates.
TERMINAL_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, Path]:
    root = tmp_path_factory.mktemp("planted")
    corpus = root / "corpus.jsonl"
    corpus.write_text("".join(json.dumps(r) + "\n" for r in (PLANTED, BENIGN)), encoding="utf-8")
    settings = fast_settings(root)
    path = root / "indexes" / "planted"
    report = ingest([corpus], path, settings)
    assert report.count("failed") == 0, report.files
    return settings, path


@pytest.fixture
def service(planted: tuple[Settings, Path], tmp_path: Path) -> ChatService:
    settings, path = planted
    return ChatService(RagOracle(path, settings), SessionStore(tmp_path / "sessions.sqlite"))


def test_the_planted_text_reaches_the_answer(service: ChatService) -> None:
    # The premise of every test below: both planted sentences are quoted, hostile parts and all.
    answer = service.ask(QUESTION).answer
    assert "![tracking pixel]" in answer.text and "\x1b]8;;" in answer.text
    assert answer.references[0].title == PLANTED["title"]


def _assert_plain(markdown: str) -> None:
    """No link, image, HTML or autolink once rendered; the planted words still there to read."""
    assert markup(markdown) == []
    assert TERMINAL_CONTROL.search(markdown) is None
    seen = " ".join(rendered_text(markdown).split())
    assert "5 mg at bedtime tracking pixel click here" in seen
    assert "reduced if CrCl <30 mL/min" in seen
    assert "raise the risk of falls" in seen and "evil" in seen
    assert "[1] Zolpidem dosing" in seen  # our own reference list is still there


def _client(service: ChatService):
    pytest.importorskip("fastapi")
    pytest.importorskip("sse_starlette")
    from fastapi.testclient import TestClient

    from rag_oracle.server import create_app
    from rag_oracle.server.config import ServerConfig

    return TestClient(create_app(service, ServerConfig(rate_limit=0)), base_url="http://127.0.0.1")


def test_openai_completion_content_is_plain_text(service: ChatService) -> None:
    with _client(service) as client:
        response = client.post(
            "/v1/chat/completions", json={"model": "rag-oracle", "messages": [{"role": "user", "content": QUESTION}]}
        )
    assert response.status_code == 200, response.text
    _assert_plain(response.json()["choices"][0]["message"]["content"])


def test_openai_streamed_content_is_plain_text(service: ChatService) -> None:
    messages = [{"role": "user", "content": QUESTION}]
    with _client(service) as client:
        whole = client.post("/v1/chat/completions", json={"model": "rag-oracle", "messages": messages})
        streamed = client.post(
            "/v1/chat/completions", json={"model": "rag-oracle", "messages": messages, "stream": True}
        )
    assert streamed.status_code == 200, streamed.text
    pieces = []
    for line in streamed.text.splitlines():
        if line.startswith("data: {"):
            pieces.append(json.loads(line[len("data: ") :])["choices"][0]["delta"].get("content") or "")
    content = "".join(pieces)
    _assert_plain(content)
    assert content == whole.json()["choices"][0]["message"]["content"]


def test_markdown_export_is_plain_text_with_our_structure(service: ChatService) -> None:
    session = service.start_session()
    service.send(session.id, QUESTION)
    exported = service.export(session.id, "markdown")
    _assert_plain(exported)
    headings = [t.tag for t in tokens(exported) if t.type == "heading_open"]
    assert headings == ["h1", "h2"]  # the title and "## 1. <question>": ours, still headings
    assert "## 1. What is the dose of zolpidem?" in exported
    assert '    > "Zolpidem doses above 10 mg raise the risk of falls' in exported.replace("\n", " ")
    assert PIXEL not in exported  # the image address is gone, not merely escaped


def test_json_export_stays_faithful(service: ChatService) -> None:
    session = service.start_session()
    service.send(session.id, QUESTION)
    data = json.loads(service.export(session.id, "json"))
    assert data["session"]["messages"][1]["answer"]["references"][0]["title"] == PLANTED["title"]


def _assert_terminal_safe(text: str) -> None:
    found = TERMINAL_CONTROL.search(text)
    assert found is None, f"{found.group(0)!r} reaches the terminal: {text!r}"


def test_ask_prints_no_terminal_controls(planted: tuple[Settings, Path]) -> None:
    from rag_oracle.cli.answer import ask

    settings, path = planted
    result = CliRunner().invoke(ask, [QUESTION, "--index", str(path)], obj={"settings": settings})
    assert result.exit_code == 0, result.output
    _assert_terminal_safe(result.stdout)
    _assert_terminal_safe(result.stderr)
    assert "Zolpidem doses above 10 mg raise the risk of falls\nSAFE evil at night." in result.stdout
    assert f"[1] {SHOWN_TITLE}. 2024." in result.stdout  # a terminal renders no Markdown: shown as written


def test_ask_json_is_faithful_and_prints_no_terminal_controls(planted: tuple[Settings, Path]) -> None:
    from rag_oracle.cli.answer import ask

    settings, path = planted
    result = CliRunner().invoke(ask, [QUESTION, "--index", str(path), "--json"], obj={"settings": settings})
    assert result.exit_code == 0, result.output
    _assert_terminal_safe(result.stdout)
    answer = json.loads(result.stdout)
    assert ESCAPE_SENTENCE in answer["text"]  # the data itself is what the document says
    assert answer["references"][0]["title"] == PLANTED["title"]


def test_search_prints_no_terminal_controls(planted: tuple[Settings, Path]) -> None:
    from rag_oracle.cli.answer import search

    settings, path = planted
    result = CliRunner().invoke(search, ["zolpidem dose falls", "--index", str(path)], obj={"settings": settings})
    assert result.exit_code == 0, result.output
    _assert_terminal_safe(result.stdout)
    assert f"{SHOWN_TITLE} (2024)" in result.stdout and "zolpidem is 5 mg at bedtime" in result.stdout


def test_chat_repl_prints_no_terminal_controls(planted: tuple[Settings, Path], tmp_path: Path) -> None:
    from rag_oracle.cli.serve import chat

    settings, path = planted
    result = CliRunner().invoke(
        chat,
        ["--index", str(path), "--db", str(tmp_path / "s.sqlite")],
        input=f"/new Zolpidem \x1b[31mred\x1b[0m\n{QUESTION}\n/sessions\n/quit\n",
        obj={"settings": settings},
    )
    assert result.exit_code == 0, result.output
    _assert_terminal_safe(result.stdout)
    _assert_terminal_safe(result.stderr)
    assert "raise the risk of falls" in result.stdout and "Zolpidem red" in result.stdout


def test_chat_repl_makes_the_llm_draft_terminal_safe(service: ChatService) -> None:
    from rag_oracle.chat.repl import ChatRepl

    class DraftingService:
        """The real service, but its LLM draft streams a piece quoted from the planted document."""

        def __getattr__(self, name: str):
            return getattr(service, name)

        def send(self, session_id: str, text: str, on_token=None):
            on_token("Zolpidem \x1b]8;;http://attacker.test\x07raise\x1b]8;;\x07 \x1b[2J")
            return service.send(session_id, text)

    lines: list[str] = []
    draft: list[str] = []
    replies = iter([QUESTION, "/quit"])
    ChatRepl(DraftingService(), read=lambda _: next(replies), write=lines.append, on_token=draft.append).run()
    assert draft == ["Zolpidem raise "]
    _assert_terminal_safe("\n".join(lines))
