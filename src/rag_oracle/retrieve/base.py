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
    found = index.chunks_and_infos(positions.tolist())  # read together (one query), not one by one
    order = sorted(zip(found, scores.tolist(), strict=True), key=lambda p: (-p[1], p[0][0].id))
    return [
        Hit(
            chunk=chunk,
            document=info,
            rank=rank,
            score=float(score),
            **{f"{kind}_score": float(score), f"{kind}_rank": rank},
        )
        for rank, ((chunk, info), score) in enumerate(order, 1)
    ]
