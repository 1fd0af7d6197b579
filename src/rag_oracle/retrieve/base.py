"""The retriever contract: a question in, ranked chunk-level hits out.

Rankings are deterministic: equal scores are ordered by chunk id.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

import numpy as np

from rag_oracle.retrieve.filters import Filters
from rag_oracle.types import Chunk, DocumentInfo, Hit


class Retriever(Protocol):
    name: str

    def search(self, query: str, k: int = 10, filters: Filters | None = None) -> list[Hit]: ...


class ChunkRows:
    """(chunk, its document's info) by position, read from `index` only when asked for and at most
    once, several positions a query (`Index.chunks_and_infos`)."""

    def __init__(self, index) -> None:
        self.index = index
        self._rows: dict[int, tuple[Chunk, DocumentInfo]] = {}

    def read(self, positions: Iterable[int]) -> None:
        missing = [p for p in dict.fromkeys(positions) if p not in self._rows]
        if missing:
            self._rows.update(zip(missing, self.index.chunks_and_infos(missing), strict=True))

    def __getitem__(self, position: int) -> tuple[Chunk, DocumentInfo]:
        if position not in self._rows:
            self.read([position])
        return self._rows[position]

    def chunk_id(self, position: int) -> str:
        return self[position][0].id


def tied_positions(positions: np.ndarray, scores: np.ndarray) -> list[int]:
    """The positions whose score another position in the list shares: where a list's order, by
    score then chunk id, needs the chunk id."""
    if len(scores) < 2:
        return []
    values, counts = np.unique(scores, return_counts=True)
    return positions[np.isin(scores, values[counts > 1])].tolist()


def ranked(positions: np.ndarray, scores: np.ndarray, rows: ChunkRows) -> list[tuple[int, float]]:
    """(position, score) best first, equal scores by chunk id (read from `rows` only for those)."""
    tied = set(tied_positions(positions, scores))
    rows.read(tied)
    pairs = list(zip(positions.tolist(), scores.tolist(), strict=True))
    # The chunk id is compared only between equal scores, so the others need none ("").
    return sorted(pairs, key=lambda p: (-p[1], rows.chunk_id(p[0]) if p[0] in tied else ""))


def hits_from_positions(index, positions, scores, kind: str) -> list[Hit]:
    """Hits for chunk `positions` with their `scores`, ordered by score then chunk id (deterministic).

    `kind` is "dense" or "bm25": which component fields the score fills.
    """
    rows = ChunkRows(index)
    rows.read(positions.tolist())  # read together (one query), not one by one
    return [
        Hit(
            chunk=rows[pos][0],
            document=rows[pos][1],
            rank=rank,
            score=score,
            **{f"{kind}_score": score, f"{kind}_rank": rank},
        )
        for rank, (pos, score) in enumerate(ranked(positions, scores, rows), 1)
    ]
