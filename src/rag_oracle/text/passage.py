"""What gets embedded and BM25-indexed for a chunk: its document's title, then the passage."""

from __future__ import annotations


def embedding_text(title: str, chunk_text: str) -> str:
    """The title gives a passage its topic ("it is contraindicated" means nothing alone); it is
    cut to 32 words so title plus a default 200-token chunk fit MiniLM's 256-token window.

    >>> embedding_text("Warfarin", "Stop it 5 days before surgery.")
    'Warfarin\\nStop it 5 days before surgery.'
    """
    short = _short_title(title)
    return f"{short}\n{chunk_text}" if short else chunk_text


def _short_title(title: str) -> str:
    return " ".join(title.split()[:32])


def lexical_text(title: str, chunk_text: str, title_weight: int = 1, terms: tuple[str, ...] | list[str] = ()) -> str:
    """What BM25 indexes for a chunk: its title (cut as in `embedding_text`) `title_weight` times, so
    a match in the title counts that many times (field weighting by repetition), then the document's
    subject terms (MeSH headings, keywords) when given, then the passage. With the defaults it is
    `embedding_text`.

    >>> lexical_text("Warfarin", "Stop it 5 days before surgery.", 2, ["Anticoagulants"])
    'Warfarin\\nWarfarin\\nAnticoagulants\\nStop it 5 days before surgery.'
    """
    short = _short_title(title)
    head = [short] * title_weight if short else []
    if terms:
        head.append("; ".join(terms))
    return "\n".join([*head, chunk_text])
