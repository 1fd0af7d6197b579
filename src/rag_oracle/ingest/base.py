"""The loader contract: a file in, documents out, or a LoaderError saying why not.

A loader never partially succeeds at the file level: it returns every document of the file
or raises. Problems confined to one record (a bad line in a JSONL file, an article without
a PMID in a PubMed set) are returned as warnings and the rest of the file is kept.

A loader raises nothing but a `LoaderError` for anything in the file's content (an `OSError`
from the disk itself passes through). It opens files only through `ingest/limits.py`, so a
FIFO or a device is refused rather than read, a .gz file cannot expand past its limits, and
it calls `deadline.check()` between records, pages or articles so a slow file stops.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from rag_oracle.ingest.limits import Deadline, Limits
from rag_oracle.types import Document, DocumentMetadata, Section


@dataclass
class LoadResult:
    documents: list[Document] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


class Loader(Protocol):
    """Turns one file into documents. Raise a LoaderError subclass when the file is unusable.

    `limits` None means `Limits()`; `deadline` None means `limits.deadline(path)`.

    >>> result = JsonlLoader().load(Path("records.jsonl"), limits=Limits())  # doctest: +SKIP
    """

    name: str
    suffixes: tuple[str, ...]

    def load(self, path: Path, *, limits: Limits | None = None, deadline: Deadline | None = None) -> LoadResult: ...


_WS = re.compile(r"\s+")
_WORDS = re.compile(r"\S+")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def without_surrogates(text: str) -> str:
    """`text` with unpaired UTF-16 surrogates (a JSON or YAML `\\ud800` escape) replaced by U+FFFD.

    They are not text and cannot be written as UTF-8; one of them must not cost the document.
    """
    return _SURROGATE.sub("\ufffd", text) if not text.isascii() else text


def content_hash(title: str, text: str) -> str:
    """sha256 of the whitespace-normalised title and text: identical documents hash alike."""
    digest = hashlib.sha256((_WS.sub(" ", title).strip() + "\n").encode("utf-8"))
    # The text's words joined by single spaces, fed in batches: the same bytes as
    # `_WS.sub(" ", text).strip()`, without building that copy (and its pieces) of a large file.
    batch: list[str] = []
    separator = ""
    for match in _WORDS.finditer(text):
        batch.append(match.group())
        if len(batch) == 4096:
            digest.update((separator + " ".join(batch)).encode("utf-8"))
            batch, separator = [], " "
    if batch:
        digest.update((separator + " ".join(batch)).encode("utf-8"))
    return digest.hexdigest()


def make_document(
    *,
    text: str,
    title: str = "",
    sections: list[Section] | None = None,
    page_starts: list[int] | None = None,
    metadata: DocumentMetadata,
    doc_id: str = "",
) -> Document:
    """Build a Document with its content hash, choosing a stable id when none is given.

    Id preference: the given id, then pmid:, pmcid:, doi:, then sha256:<first 16 hex>.
    """
    text, title, doc_id = without_surrogates(text), without_surrogates(title), without_surrogates(doc_id)
    digest = content_hash(title, text)
    if not doc_id:
        if metadata.pmid:
            doc_id = f"pmid:{metadata.pmid}"
        elif metadata.pmcid:
            doc_id = f"pmcid:{metadata.pmcid}"
        elif metadata.doi:
            doc_id = f"doi:{metadata.doi.lower()}"
        else:
            doc_id = f"sha256:{digest[:16]}"
    if not sections:
        sections = [Section(title="", start=0, end=len(text))]
    return Document(
        id=doc_id,
        title=title,
        text=text,
        sections=sections,
        page_starts=page_starts or [],
        metadata=metadata,
        content_hash=digest,
    )


class TextBuilder:
    """Accumulates titled paragraphs into one text, recording each section's span.

    >>> b = TextBuilder()
    >>> b.add_section("METHODS", ["We did it."])
    >>> b.text, b.sections[0].start, b.sections[0].end
    ('We did it.', 0, 10)
    """

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._length = 0
        self.sections: list[Section] = []

    def add_section(self, title: str, paragraphs: list[str]) -> None:
        paragraphs = [p.strip() for p in paragraphs if p and p.strip()]
        if not paragraphs:
            return
        if self._parts:
            self._parts.append("\n\n")
            self._length += 2
        start = self._length
        body = "\n\n".join(paragraphs)
        self._parts.append(body)
        self._length += len(body)
        self.sections.append(Section(title=title.strip(), start=start, end=self._length))

    @property
    def text(self) -> str:
        return "".join(self._parts)


def keywords_extra(words: list[str]) -> dict[str, object]:
    """metadata.extra holding a document's keywords (deduplicated, empty ones dropped), or {} when it
    has none; BM25 may index them ([index] bm25_mesh)."""
    kept = list(dict.fromkeys(w for w in words if w))
    return {"keywords": kept} if kept else {}


def clean_inline(text: str) -> str:
    """Collapse runs of whitespace inside a paragraph (XML and PDF line wraps)."""
    return _WS.sub(" ", text).strip()
