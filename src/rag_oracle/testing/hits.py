"""A retrieved passage built from a string, for tests of the answer and verification stages.

Example::

    from rag_oracle.testing.hits import passage_hit

    hit = passage_hit("guide", "Stop warfarin 5 days before surgery.", title="Perioperative guide")
"""

from __future__ import annotations

from collections.abc import Sequence

from rag_oracle.types import Chunk, DocumentInfo, Hit


def passage_hit(
    doc: str,
    text: str,
    *,
    rank: int = 1,
    title: str = "",
    section: str = "",
    publication_types: Sequence[str] = (),
    token_count: int | None = None,
) -> Hit:
    """A hit whose chunk is the whole of `text` (chunk id `<doc>#0`), scored 1/rank."""
    chunk = Chunk(
        id=f"{doc}#0",
        doc_id=doc,
        ordinal=0,
        text=text,
        section=section,
        char_start=0,
        char_end=len(text),
        token_count=len(text.split()) if token_count is None else token_count,
    )
    info = DocumentInfo(id=doc, title=title, publication_types=list(publication_types))
    return Hit(chunk=chunk, document=info, rank=rank, score=1.0 / rank)
