"""Filters (rag_oracle.types.Filters) turned into the chunk positions a search may return."""

from __future__ import annotations

import numpy as np

from rag_oracle.types import Filters


def allowed_positions(index, filters: Filters | None) -> np.ndarray | None:
    """Chunk positions that pass the filters, or None when no filter is active."""
    if filters is None or not filters.active:
        return None
    doc_ok = index.document_mask(filters)  # filters.accepts per document, without reading documents
    return np.flatnonzero(doc_ok[index.chunk_doc_positions]).astype(np.int64)
