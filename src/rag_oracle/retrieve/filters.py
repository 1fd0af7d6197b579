"""Metadata filters: year range, publication type, source. Applied inside the search, not after it,
so a filtered search still returns k results when k exist."""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from rag_oracle.errors import QueryError


class Filters(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    year_min: int | None = Field(None, description="Keep documents published in or after this year.")
    year_max: int | None = Field(None, description="Keep documents published in or before this year.")
    publication_types: list[str] = Field(
        default_factory=list, description="Keep documents with any of these types (case-insensitive)."
    )
    sources: list[str] = Field(
        default_factory=list,
        description="Keep documents whose format (pdf, pubmed, jats, markdown, text, jsonl), source label "
        "or file path contains any of these (case-insensitive).",
    )

    @model_validator(mode="after")
    def _check(self) -> Filters:
        if self.year_min is not None and self.year_max is not None and self.year_min > self.year_max:
            raise QueryError(f"year range is empty: year_min {self.year_min} > year_max {self.year_max}")
        return self

    @property
    def active(self) -> bool:
        return bool(self.year_min or self.year_max or self.publication_types or self.sources)

    def accepts(self, doc) -> bool:
        meta = doc.metadata
        if self.year_min is not None and (meta.year is None or meta.year < self.year_min):
            return False
        if self.year_max is not None and (meta.year is None or meta.year > self.year_max):
            return False
        if self.publication_types:
            wanted = {t.lower() for t in self.publication_types}
            if not wanted & {t.lower() for t in meta.publication_types}:
                return False
        if self.sources:
            haystack = " ".join((meta.format, meta.source, meta.source_path)).lower()
            if not any(s.lower() in haystack for s in self.sources):
                return False
        return True


def allowed_positions(index, filters: Filters | None) -> np.ndarray | None:
    """Chunk positions that pass the filters, or None when no filter is active."""
    if filters is None or not filters.active:
        return None
    doc_ok = np.fromiter((filters.accepts(d) for d in index.documents.values()), dtype=bool, count=len(index.documents))
    return np.flatnonzero(doc_ok[index.chunk_doc_positions]).astype(np.int64)
