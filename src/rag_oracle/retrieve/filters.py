"""Filters (rag_oracle.types.Filters) turned into the chunk positions a search may return."""

from __future__ import annotations

import numpy as np

from rag_oracle.types import Filters


def allowed_positions(index, filters: Filters | None) -> np.ndarray | None:
    """Chunk positions that pass the filters, or None when no filter is active."""
    if filters is None or not filters.active:
        return None
    doc_ok = np.fromiter((filters.accepts(d) for d in index.documents.values()), dtype=bool, count=len(index.documents))
    return np.flatnonzero(doc_ok[index.chunk_doc_positions]).astype(np.int64)
