"""The retriever contract: a question in, ranked chunk-level hits out.

Rankings are deterministic: equal scores are ordered by chunk id.
"""

from __future__ import annotations

from typing import Protocol

from rag_oracle.retrieve.filters import Filters
from rag_oracle.types import Hit


class Retriever(Protocol):
    name: str

    def search(self, query: str, k: int = 10, filters: Filters | None = None) -> list[Hit]: ...


def hits_from_positions(index, positions, scores, kind: str) -> list[Hit]:
    """Hits for chunk `positions` with their `scores`, ordered by score then chunk id (deterministic).

    `kind` is "dense" or "bm25": which component fields the score fills.
    """
    chunks = index.chunks
    order = sorted(zip(positions.tolist(), scores.tolist(), strict=True), key=lambda p: (-p[1], chunks[p[0]].id))
    return [
        Hit(
            chunk=chunks[pos],
            document=index.info(chunks[pos].doc_id),
            rank=rank,
            score=float(score),
            **{f"{kind}_score": float(score), f"{kind}_rank": rank},
        )
        for rank, (pos, score) in enumerate(order, 1)
    ]
