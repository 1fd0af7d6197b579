"""The web page in a real headless Chromium: ask, open a cited passage, follow up, abstain.

Needs Debian's chromium (`apt-get install chromium`) and Playwright for Python (never
`playwright install`: the browser comes from Debian). With CI set, a missing one fails the run
instead of skipping, so the page cannot go untested by accident.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.server.conftest import require_extra

require_extra()

from tests.chat.chat_corpus import QUESTION  # noqa: E402
from tests.server.conftest import running  # noqa: E402

CHROMIUM = os.environ.get("RAG_ORACLE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
REPO = Path(__file__).resolve().parents[2]


def _require_browser() -> None:
    problems = []
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        problems.append("Playwright for Python is not installed (pip install -e '.[server,dev]')")
    if not Path(CHROMIUM).is_file():
        problems.append(f"no Chromium at {CHROMIUM} (apt-get install -y chromium chromium-driver)")
    if problems:
        message = "browser test cannot run: " + "; ".join(problems)
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


@contextmanager
def browser_page(url: str) -> Iterator:
    """A Chromium tab on `url`; fails the test if the page loads anything from elsewhere or throws."""
    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        tab = browser.new_context(viewport={"width": 1360, "height": 1000}).new_page()
        outside, errors = [], []
        tab.on("request", lambda r: None if r.url.startswith(url) else outside.append(r.url))
        tab.on("pageerror", lambda e: errors.append(str(e)))
        tab.set_default_timeout(30_000)
        tab.goto(url)
        yield tab
        browser.close()
    assert outside == [], f"the page loaded something from elsewhere: {outside}"
    assert errors == [], f"JavaScript errors: {errors}"


@pytest.fixture
def page(live_url: str) -> Iterator:
    with browser_page(live_url) as tab:
        yield tab


def test_ask_cite_follow_up(page, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    expect(page.locator("#index-info")).to_have_text("8 documents indexed")
    page.locator(".seg[data-audience='patient']").click()
    expect(page.locator(".seg[data-audience='patient']")).to_have_attribute("aria-checked", "true")

    sent = []
    page.on("request", lambda r: sent.append(r.post_data_json) if r.url.endswith("/messages") else None)
    page.fill("#question", QUESTION)
    page.click("#ask")
    first = page.locator(".turn").nth(0)
    expect(first.locator(".direct")).to_contain_text("clonazepam")
    expect(first.locator(".references .ref")).not_to_have_count(0)
    expect(first.locator(".disclaimer")).to_contain_text("not medical advice")
    expect(page.locator("#composer-label")).to_have_text("Follow-up")
    assert sent[0]["settings"] == {"answer": {"audience": "patient"}}  # the toggle reaches the API

    # a citation marker opens the exact passage with the cited sentence highlighted
    first.locator(".direct .cite").first.click()
    panel = page.locator("#source-panel")
    expect(panel).to_be_visible()
    expect(page.locator("#source-kicker")).to_have_text("Source [1]")
    expect(page.locator("#source-title")).to_have_text("Clonazepam as an adjunct in depression")
    expect(page.locator("#source-meta")).to_contain_text("900100001")
    expect(page.locator("#source-passage mark").first).to_contain_text("The usual dose of clonazepam")
    page.screenshot(path=str(tmp_path / "citation.png"), full_page=True)

    # the follow-up continues the session, is searched with its subject, and cites the new passage
    page.click("#close-source")
    page.fill("#question", "and in the elderly?")
    page.keyboard.press("Enter")
    second = page.locator(".turn").nth(1)
    expect(second.locator(".searched-as")).to_contain_text(
        "What is the dose of clonazepam for depression in the elderly?"
    )
    expect(second.locator(".references .ref").first).to_contain_text("Clonazepam in elderly patients")
    second.locator(".references .ref-open").first.click()
    expect(page.locator("#source-passage mark").first).to_contain_text("elderly")

    # a related question (offered only when the index can answer it) is asked in the same session
    related = page.locator(".related-q").first
    related_text = related.inner_text()
    related.click()
    expect(page.locator(".turn")).to_have_count(3)
    expect(page.locator(".turn").nth(2).locator(".question-text")).to_have_text(related_text)
    expect(page.locator(".turn").nth(2).locator(".footnote")).not_to_be_empty()

    shot = tmp_path / "conversation.png"
    page.locator(".turn").nth(1).scroll_into_view_if_needed()
    second.locator(".direct .cite").first.click()
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000
    if os.environ.get("RAG_ORACLE_SAVE_SCREENSHOT"):
        shutil.copy(shot, REPO / "docs" / "screenshot.png")

    # the conversation is in the sessions list, with both questions
    page.click("#toggle-sessions")
    expect(page.locator(".session-item.current .session-meta")).to_contain_text("3 questions")


def test_abstention_is_a_clear_state(page) -> None:
    from playwright.sync_api import expect

    page.fill("#question", "quantum chromodynamics lattice gauge?")
    page.click("#ask")
    card = page.locator(".turn .answer-card")
    expect(card.locator(".abstain h3")).to_have_text("The indexed literature does not answer this question")
    expect(card.locator(".references")).to_have_count(0)


def test_the_page_sends_the_api_key(make_app, monkeypatch: pytest.MonkeyPatch) -> None:
    from playwright.sync_api import expect

    from rag_oracle.server.config import ServerConfig

    monkeypatch.setenv("RAG_ORACLE_API_KEY", "browser-key")
    with running(make_app(ServerConfig.from_env(rate_limit=0))) as url, browser_page(url) as page:
        dialog = page.locator("#key-dialog")
        expect(dialog).to_be_visible()  # /healthz says a key is needed: the page asks first
        page.fill("#api-key", "browser-key")
        page.click("#key-save")
        page.fill("#question", QUESTION)
        page.click("#ask")
        expect(page.locator(".turn .direct")).to_contain_text("clonazepam")
