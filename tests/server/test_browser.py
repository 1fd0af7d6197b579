"""The web page in a real headless Chromium: ask, cite, follow up, edit a search, review, patient
context, a phone layout, errors with retry, abstention and the API key.

Needs Debian's chromium (`apt-get install chromium`) and Playwright for Python (never
`playwright install`: the browser comes from Debian). With CI set, a missing one fails the run
instead of skipping, so the page cannot go untested by accident.

Screenshots go to $RAG_ORACLE_ARTIFACTS (else artifacts/browser/, which git ignores); with
RAG_ORACLE_SAVE_SCREENSHOT set, the desktop and phone ones are also copied to docs/.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable, Iterator
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
DESKTOP = {"width": 1360, "height": 1000}
PHONE = {"width": 390, "height": 844}
ELDERLY_DOC = "Clonazepam in elderly patients"


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


def artifacts() -> Path:
    """Where screenshots are kept: $RAG_ORACLE_ARTIFACTS, else <repo>/artifacts/browser/."""
    folder = Path(os.environ.get("RAG_ORACLE_ARTIFACTS") or REPO / "artifacts" / "browser")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def screenshot(page, name: str, docs_name: str | None = None, **kwargs) -> Path:
    """Save a screenshot as an artefact (and as docs/<docs_name> with RAG_ORACLE_SAVE_SCREENSHOT)."""
    shot = artifacts() / name
    page.screenshot(path=str(shot), **kwargs)
    assert shot.stat().st_size > 10_000
    if docs_name and os.environ.get("RAG_ORACLE_SAVE_SCREENSHOT"):
        shutil.copy(shot, REPO / "docs" / docs_name)
    return shot


@contextmanager
def browser_page(url: str, viewport: dict | None = None, before: Callable | None = None) -> Iterator:
    """A Chromium tab on `url`; fails the test if the page loads anything from elsewhere or throws.

    `before(tab)` runs before the page loads (e.g. to install `tab.route` handlers)."""
    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        tab = browser.new_context(viewport=viewport or DESKTOP).new_page()
        outside, errors = [], []
        tab.on("request", lambda r: None if r.url.startswith(url) else outside.append(r.url))
        tab.on("pageerror", lambda e: errors.append(str(e)))
        tab.set_default_timeout(30_000)
        if before is not None:
            before(tab)
        tab.goto(url)
        yield tab
        browser.close()
    assert outside == [], f"the page loaded something from elsewhere: {outside}"
    assert errors == [], f"JavaScript errors: {errors}"


@pytest.fixture
def page(live_url: str) -> Iterator:
    with browser_page(live_url) as tab:
        yield tab


def ask(page, question: str):
    """Type `question`, send it, and return its turn once the answer (or the error) is shown."""
    from playwright.sync_api import expect

    count = page.locator(".turn").count()
    page.fill("#question", question)
    page.click("#ask")
    turn = page.locator(".turn").nth(count)
    expect(turn.locator(".answer-body > *, .error-box").first).to_be_visible()
    expect(turn.locator(".status")).to_be_hidden()
    return turn


def small_targets(page, root: str) -> list[str]:
    """Visible buttons, links and summaries under `root` smaller than 24 x 24 CSS px."""
    return page.evaluate(
        """root => [...document.querySelectorAll(`${root} button, ${root} a, ${root} summary, ${root} select`)]
            .filter(e => e.getClientRects().length)
            .map(e => [e, e.getBoundingClientRect()])
            .filter(([, r]) => r.width < 23.5 || r.height < 23.5)
            .map(([e, r]) => `${e.className || e.tagName} "${e.textContent.trim().slice(0, 30)}" ${r.width}x${r.height}`)""",
        root,
    )


def test_ask_cite_follow_up(page) -> None:
    from playwright.sync_api import expect

    expect(page.locator("#index-info")).to_have_text("8 documents indexed")
    page.locator(".seg[data-audience='patient']").click()
    expect(page.locator(".seg[data-audience='patient']")).to_have_attribute("aria-checked", "true")

    sent = []
    page.on("request", lambda r: sent.append(r.post_data_json) if r.url.endswith("/messages") else None)
    first = ask(page, QUESTION)
    expect(first.locator(".direct")).to_contain_text("clonazepam")
    expect(first.locator(".references .ref")).not_to_have_count(0)
    expect(first.locator(".disclaimer")).to_contain_text("not medical advice")
    expect(first.locator(".tag.audience")).to_have_text("Written for patients")
    expect(page.locator("#composer-label")).to_have_text("Follow-up")
    assert sent[0]["settings"] == {"answer": {"audience": "patient"}}  # the toggle reaches the API
    assert sent[0]["context"] is None  # no patient fields set: no context
    # the footer speaks to a clinician; the generator and milliseconds are in the details
    expect(first.locator(".footnote")).to_have_text(
        re.compile(r"^Answered in .+ from \d sources? · quotes its sources verbatim$")
    )
    expect(first.locator(".dates")).to_have_text(
        re.compile(r"^Index updated \d{1,2} \w{3,4} \d{4} · newest cited source 20\d\d")
    )
    expect(first.locator(".tech dd").first).to_be_hidden()
    expect(first.locator(".answer-head .review-pill")).to_have_text("Submitted")

    # a citation marker opens the exact passage with the cited sentence highlighted
    page.locator(".seg[data-audience='clinician']").click()
    first.locator(".direct .cite").first.click()
    panel = page.locator("#source-panel")
    expect(panel).to_be_visible()
    expect(page.locator("#source-kicker")).to_have_text("Source [1]")
    expect(page.locator("#source-title")).to_have_text("Clonazepam as an adjunct in depression")
    expect(page.locator("#source-meta")).to_contain_text("900100001")
    # developer ids only behind "Details"
    expect(page.locator("#source-meta")).not_to_contain_text("clz-depression#0")
    dev = page.locator("#source-dev")
    expect(dev.locator("dd").first).not_to_be_visible()
    dev.locator("summary").click()
    expect(dev).to_contain_text("clz-depression#0")
    expect(page.locator("#source-passage mark").first).to_contain_text("The usual dose of clonazepam")

    # the follow-up continues the session, is searched with its subject, and cites the new passage
    page.click("#close-source")
    second = ask(page, "and in the elderly?")
    expect(second.locator(".searched-as")).to_contain_text(
        "What is the dose of clonazepam for depression in the elderly?"
    )
    expect(second.locator(".references .ref").first).to_contain_text(ELDERLY_DOC)
    assert sent[1]["settings"] == {"answer": {"audience": "clinician"}}
    second.locator(".references .ref-open").first.click()
    expect(page.locator("#source-passage mark").first).to_contain_text("elderly")

    # a related question (offered only when the index can answer it) is asked in the same session
    related = page.locator(".related-q").first
    related_text = related.inner_text()
    related.click()
    expect(page.locator(".turn")).to_have_count(3)
    expect(page.locator(".turn").nth(2).locator(".question-text")).to_have_text(related_text)
    expect(page.locator(".turn").nth(2).locator(".footnote")).not_to_be_empty()

    # every citation marker and other click target is at least 24 x 24 px
    assert small_targets(page, "#thread") == []
    assert small_targets(page, "#composer") == []
    assert small_targets(page, ".topbar") == []

    page.locator(".turn").nth(1).scroll_into_view_if_needed()
    second.locator(".direct .cite").first.click()
    screenshot(page, "desktop-conversation.png", "screenshot.png")

    # the conversation is in the sessions list, with every question
    page.click("#toggle-sessions")
    expect(page.locator(".session-item.current .session-meta")).to_contain_text("3 questions")


def test_follow_up_chain_and_editing_the_search(page) -> None:
    from playwright.sync_api import expect

    first = ask(page, QUESTION)
    expect(first.locator(".searched-as")).to_be_hidden()  # asked as typed: nothing to show
    second = ask(page, "and in the elderly?")
    expect(second.locator(".searched-text")).to_have_text(
        "What is the dose of clonazepam for depression in the elderly?"
    )
    third = ask(page, "is it safe for them?")
    searched = third.locator(".searched-text").inner_text()
    assert "clonazepam" in searched and "elderly" in searched, searched
    assert not re.search(r"\b(it|them)\b", searched, re.IGNORECASE), searched
    fourth = ask(page, "and what is the starting dose?")
    searched = fourth.locator(".searched-text").inner_text()
    assert "starting dose" in searched and "clonazepam" in searched and "elderly" in searched, searched
    expect(fourth.locator(".direct")).to_contain_text("0.25 mg")

    # Escape cancels an edit and leaves the search as it was
    second.locator(".edit-search").click()
    box = second.locator(".search-input")
    expect(box).to_be_focused()
    expect(box).to_have_value("What is the dose of clonazepam for depression in the elderly?")
    box.fill("something else")
    box.press("Escape")
    expect(box).to_be_hidden()
    expect(second.locator(".searched-text")).to_have_text(
        "What is the dose of clonazepam for depression in the elderly?"
    )

    # an edited search re-answers that turn in place, streaming, and is stored
    sent = []
    page.on("request", lambda r: sent.append((r.url, r.post_data_json)) if "/regenerate" in r.url else None)
    second.locator(".edit-search").click()
    box.fill("What is the starting dose of clonazepam in the elderly?")
    box.press("Enter")
    expect(second.locator(".searched-text")).to_have_text("What is the starting dose of clonazepam in the elderly?")
    expect(second.locator(".status")).to_be_hidden()
    expect(second.locator(".direct")).to_contain_text("0.25 mg at bedtime")
    expect(second.locator(".question-text")).to_have_text("and in the elderly?")
    expect(page.locator(".turn")).to_have_count(4)
    assert (
        len(sent) == 1
        and sent[0][1]["standalone_question"] == "What is the starting dose of clonazepam in the elderly?"
    )
    assert sent[0][1]["stream"] is True

    page.click("#toggle-sessions")
    page.locator(".session-item.current .session-open").click()
    reopened = page.locator(".turn").nth(1)
    expect(reopened.locator(".searched-text")).to_have_text("What is the starting dose of clonazepam in the elderly?")
    expect(page.locator(".turn")).to_have_count(4)


def test_a_reviewer_approves_an_answer(page) -> None:
    from playwright.sync_api import expect

    turn = ask(page, QUESTION)
    pill = turn.locator(".review-pill")
    expect(pill).to_have_text("Submitted")
    turn.locator(".review-open").click()
    form = turn.locator(".review-form")
    expect(form).to_be_visible()
    form.locator(".review-reviewer").fill("Dr A. Rao")
    form.locator(".review-note-input").fill("Doses checked against the guideline.")
    screenshot(page, "review-form.png")
    saved = []
    page.on("response", lambda r: saved.append(r.status) if r.url.endswith("/review") else None)
    form.get_by_role("button", name="Approve").click()
    expect(pill).to_have_text("Approved")
    expect(turn.locator(".review-meta")).to_contain_text("by Dr A. Rao")
    expect(turn.locator(".review-meta")).to_contain_text(re.compile(r"\d{1,2} \w{3,4} \d{4}"))
    expect(turn.locator(".review-note")).to_contain_text("Doses checked against the guideline.")
    expect(turn.locator(".review-form")).to_be_hidden()
    assert saved == [200]
    screenshot(page, "review.png")

    # the status is stored: a reload and reopening the conversation shows it
    page.reload()
    expect(page.locator(".turn")).to_have_count(0)
    page.click("#toggle-sessions")
    page.locator(".session-item .session-open").first.click()
    reopened = page.locator(".turn").first
    expect(reopened.locator(".review-pill")).to_have_text("Approved")
    expect(reopened.locator(".review-note")).to_contain_text("Doses checked")
    # the reviewer's name is remembered for the next review
    reopened.locator(".review-open").click()
    expect(reopened.locator(".review-reviewer")).to_have_value("Dr A. Rao")
    reopened.locator(".review-note-input").fill("Missing the taper advice.")
    reopened.get_by_role("button", name="Flag").click()
    expect(reopened.locator(".review-pill")).to_have_text("Flagged")
    expect(reopened.locator(".review-note")).to_contain_text("Missing the taper advice.")


def test_references_link_out_without_navigating(page) -> None:
    from playwright.sync_api import expect

    turn = ask(page, QUESTION)
    refs = turn.locator(".references .ref")
    depression = refs.filter(has_text="Clonazepam as an adjunct in depression")
    elderly = refs.filter(has_text=ELDERLY_DOC)
    pmid = depression.locator("a.ref-link[data-id='pmid']")
    expect(pmid).to_have_text("PMID 900100001")
    expect(pmid).to_have_attribute("href", "https://pubmed.ncbi.nlm.nih.gov/900100001/")
    expect(pmid).to_have_attribute("target", "_blank")
    expect(pmid).to_have_attribute("rel", "noopener noreferrer")
    expect(depression.locator("a.ref-link[data-id='pmcid']")).to_have_attribute(
        "href", "https://pmc.ncbi.nlm.nih.gov/articles/PMC9001001/"
    )
    doi = elderly.locator("a.ref-link[data-id='doi']")
    expect(doi).to_have_attribute("href", "https://doi.org/10.5555/chat.elderly")
    expect(doi).to_have_attribute("target", "_blank")
    # authors (three, then et al.), journal, year and the study type
    expect(depression.locator(".ref-cite")).to_have_text(
        "Okafor A, Lindqvist M, Haddad R, et al. J Affect Disord. 2020."
    )
    expect(depression.locator(".study-type")).to_have_text("Review")
    expect(elderly.locator(".ref-cite")).to_have_text("Brennan T, Osei K. Age Ageing. 2022.")
    expect(elderly.locator(".study-type")).to_have_text("Guideline")
    expect(elderly.locator(".cited q").first).to_contain_text("elderly")
    # developer ids only behind "Details"
    ids = elderly.locator(".ref-details dd").first
    expect(ids).to_be_hidden()
    elderly.locator(".ref-details summary").click()
    expect(ids).to_have_text("clz-elderly")
    # the title still opens the source panel
    elderly.locator(".ref-open").click()
    expect(page.locator("#source-title")).to_have_text(ELDERLY_DOC)
    expect(page.locator("#source-meta a.ref-link")).to_have_attribute("href", "https://doi.org/10.5555/chat.elderly")


def test_patient_context_changes_the_answer(page) -> None:
    from playwright.sync_api import expect

    sent = []
    page.on("request", lambda r: sent.append(r.post_data_json) if r.url.endswith("/messages") else None)
    page.select_option("#ctx-age", "older_adult")
    expect(page.locator("#context-summary")).to_have_text("Older adult")
    turn = ask(page, "What is the starting dose of clonazepam?")
    assert sent[-1]["context"] == {"age_group": "older_adult"}
    expect(turn.locator(".searched-text")).to_have_text(re.compile(r"in older adults\?$"))
    expect(turn.locator(".tag.for")).to_have_text("For: Older adult (65+)")
    expect(turn.locator(".references .ref").first).to_contain_text(ELDERLY_DOC)
    expect(turn.locator(".direct")).to_contain_text("0.25 mg")
    screenshot(page, "patient-context.png")

    # the same question without the context: asked as typed, not about older adults
    page.click("#new-session")
    page.click("#ctx-clear")
    plain = ask(page, "What is the starting dose of clonazepam?")
    assert sent[-1]["context"] is None
    expect(plain.locator(".searched-as")).to_be_hidden()
    expect(plain.locator(".tag.for")).to_have_count(0)
    searched = page.evaluate("() => document.querySelector('.turn').turn.answer.question")
    assert "older" not in searched.lower(), searched


def test_phone_layout(live_url: str) -> None:
    from playwright.sync_api import expect

    with browser_page(live_url, viewport=PHONE) as page:
        header = page.locator(".topbar").bounding_box()
        assert header["height"] < 64, header  # one line: brand and compact buttons
        ask(page, QUESTION)
        last = ask(page, "and in the elderly?")
        assert (
            page.evaluate("() => document.documentElement.scrollHeight") <= PHONE["height"] + 1
        )  # only the thread scrolls
        scroller = page.locator("#scroller")
        composer = page.locator("#composer")
        end = last.locator(".answer-meta")
        for position in ("e => e.scrollTop = e.scrollHeight", "e => e.scrollTop = e.scrollHeight / 2"):
            scroller.evaluate(position)
            page.wait_for_timeout(100)
            box, bar = end.bounding_box(), composer.bounding_box()
            visible = scroller.bounding_box()
            assert visible["y"] + visible["height"] <= bar["y"] + 0.5, (visible, bar)  # the thread ends above it
        scroller.evaluate("e => e.scrollTop = e.scrollHeight")
        page.wait_for_timeout(100)
        box, bar = end.bounding_box(), composer.bounding_box()
        assert box["y"] + box["height"] <= bar["y"] + 0.5, (box, bar)  # the last line is above the composer
        expect(end).to_be_in_viewport()
        assert small_targets(page, "#thread") == []
        # the patient fields fold behind their summary on a phone
        expect(page.locator("#ctx-age")).to_be_hidden()
        page.click("#context-toggle")
        expect(page.locator("#ctx-age")).to_be_visible()
        page.click("#context-toggle")
        page.locator(".turn").nth(1).evaluate("e => e.scrollIntoView({block: 'start'})")
        screenshot(page, "mobile.png", "screenshot-mobile.png")


def test_an_error_keeps_the_question_and_retries(live_url: str) -> None:
    from playwright.sync_api import expect

    calls = {"messages": 0, "health": 0}

    def fail_first(route) -> None:
        calls["messages"] += 1
        if calls["messages"] == 1:
            body = {"error": {"code": "internal_error", "message": "the index could not be read"}}
            route.fulfill(status=500, content_type="application/json", body=json.dumps(body))
        else:
            route.continue_()

    def starting(route) -> None:
        calls["health"] += 1
        if calls["health"] <= 2:
            body = {"status": "starting", "ready": False}
            route.fulfill(status=503, content_type="application/json", body=json.dumps(body))
        else:
            route.continue_()

    def routes(tab) -> None:
        tab.route(lambda url: url.endswith("/messages"), fail_first)
        tab.route(lambda url: url.endswith("/healthz"), starting)

    with browser_page(live_url, before=routes) as page:
        banner = page.locator("#banner")
        expect(banner).to_contain_text("Loading the model…")
        expect(banner).to_be_hidden(timeout=10_000)  # polled every second until ready
        expect(page.locator("#index-info")).to_have_text("8 documents indexed")

        turn = ask(page, QUESTION)
        error = turn.locator(".error-box")
        expect(error).to_contain_text("HTTP 500")
        expect(error).to_contain_text("the index could not be read")
        expect(page.locator("#question")).to_have_value(QUESTION)  # the question is kept
        turn.locator(".retry").click()
        expect(turn.locator(".direct")).to_contain_text("clonazepam")
        expect(error).to_have_count(0)
        expect(page.locator(".turn")).to_have_count(1)  # in the same turn
        expect(page.locator("#question")).to_have_value("")
        assert calls["messages"] == 2


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
