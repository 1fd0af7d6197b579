"""What gets embedded and BM25-indexed for a chunk: its document's title, then the passage."""

from __future__ import annotations


def embedding_text(title: str, chunk_text: str) -> str:
    """The title gives a passage its topic ("it is contraindicated" means nothing alone); it is
    cut to 32 words so title plus a default 200-token chunk fit MiniLM's 256-token window.

    >>> embedding_text("Warfarin", "Stop it 5 days before surgery.")
    'Warfarin\\nStop it 5 days before surgery.'
    """
    words = title.split()
    short = " ".join(words[:32])
    return f"{short}\n{chunk_text}" if short else chunk_text
