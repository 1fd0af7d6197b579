"""What a Markdown client makes of a reply or an export: rendered with markdown-it-py, an independent
CommonMark implementation (with GFM tables and strikethrough; with linkify as well when linkify-it-py
is installed), and searched for the markup that document text must never become.

markdown-it-py is not a dependency of rag-oracle, so the tests that render skip without it.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Iterator
from typing import Any

import pytest

# Text GFM's autolink extension links with no markup at all: a scheme or "www." anywhere, an e-mail.
LINKABLE = re.compile(r"(?:https?|ftp)://|www\.|mailto:|xmpp:|[\w.+-]+@[\w-]+\.\w", re.IGNORECASE)
MARKUP_TOKENS = {"link_open", "image", "html_inline", "html_block"}
HTML_TAGS = ("<a ", "<a>", "<img", "<script", "<iframe", "<div", "<svg")


def _renderers() -> list[Any]:
    markdown_it = pytest.importorskip("markdown_it")
    renderers = [markdown_it.MarkdownIt("commonmark").enable(["table", "strikethrough"])]
    if importlib.util.find_spec("linkify_it") is not None:
        renderers.append(markdown_it.MarkdownIt("gfm-like"))
    return renderers


def _walk(tokens: list[Any]) -> Iterator[Any]:
    for token in tokens:
        yield token
        if token.children:
            yield from _walk(token.children)


def tokens(markdown: str) -> list[Any]:
    """The CommonMark tokens of `markdown`, inline children included, in order."""
    return list(_walk(_renderers()[0].parse(markdown)))


def markup(markdown: str) -> list[str]:
    """Each link, image, HTML element or linkable URL a renderer makes of `markdown`; [] when none."""
    found = []
    for md in _renderers():
        for token in _walk(md.parse(markdown)):
            if token.type in MARKUP_TOKENS:
                found.append(f"{token.type}: {token.content or token.attrs}")
            elif token.type == "text" and LINKABLE.search(token.content):
                found.append(f"linkable text: {token.content!r}")
        html = md.render(markdown)
        found += [f"rendered {tag}" for tag in HTML_TAGS if tag in html]
    return found


def rendered_text(markdown: str) -> str:
    """The words a reader sees: the rendered HTML without its tags, entities decoded."""
    import html

    return html.unescape(re.sub(r"<[^>]+>", "", _renderers()[0].render(markdown)))
