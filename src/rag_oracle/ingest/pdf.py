"""PDF via pypdf: text per page (page numbers kept), title from metadata or the first lines.

Lines wrapped by the PDF layout are joined back into paragraphs; short title-like lines become
section headings, so chunks respect the document's own structure.
"""

from __future__ import annotations

import re
from pathlib import Path

from rag_oracle.errors import CorruptFileError, EmptyFileError, EncryptedFileError
from rag_oracle.ingest.base import LoadResult, make_document
from rag_oracle.types import DocumentMetadata, Section

_BULLET = re.compile(r"^(?:[-*\u2022\u25aa]|\d+[.)])\s")
_HEADING = re.compile(r"^(?:\d+(?:\.\d+)*\.?\s+)?[A-Z][A-Za-z0-9 ,/&()'-]{1,70}$")


def _is_heading(line: str) -> bool:
    words = line.split()
    return (
        0 < len(words) <= 8
        and not line.endswith((".", ",", ";", ":"))
        and bool(_HEADING.match(line))
        and (line.isupper() or sum(w[0].isupper() for w in words if w[0].isalpha()) >= max(1, len(words) // 2))
    )


def _paragraphs(page_text: str) -> list[tuple[str, bool]]:
    """(paragraph, is_heading) pairs from a page's raw text."""
    out: list[tuple[str, bool]] = []
    current: list[str] = []

    def flush() -> None:
        if current:
            para = " ".join(current)
            para = re.sub(r"(\w)- (\w)", r"\1\2", para) if "- " in para else para
            out.append((re.sub(r"\s+", " ", para).strip(), False))
            current.clear()

    for raw in page_text.splitlines():
        line = raw.strip()
        if not line:
            flush()
        elif _is_heading(line) and not current:
            out.append((line, True))
        elif _is_heading(line) and current and current[-1].endswith((".", ":", "?")):
            flush()
            out.append((line, True))
        elif _BULLET.match(line):
            flush()  # a list item starts its own paragraph; its wrapped lines join it
            current.append(line)
        else:
            current.append(line)
    flush()
    return out


class PdfLoader:
    name = "pdf"
    suffixes = (".pdf",)

    def load(self, path: Path) -> LoadResult:
        from pypdf import PdfReader
        from pypdf.errors import FileNotDecryptedError, PdfReadError

        if path.stat().st_size == 0:
            raise EmptyFileError(path, "file is empty (0 bytes)")
        try:
            reader = PdfReader(str(path), strict=False)
            if reader.is_encrypted:
                try:
                    if not reader.decrypt(""):
                        raise EncryptedFileError(
                            path, "PDF is encrypted with a password; decrypt it first (qpdf --decrypt)"
                        )
                except (FileNotDecryptedError, NotImplementedError) as exc:
                    raise EncryptedFileError(path, f"PDF is encrypted and cannot be opened ({exc})") from None
            pages = [page.extract_text() or "" for page in reader.pages]
            info = reader.metadata
        except (EncryptedFileError, EmptyFileError):
            raise
        except FileNotDecryptedError as exc:
            raise EncryptedFileError(path, f"PDF is encrypted ({exc})") from None
        except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, OSError, RecursionError) as exc:
            raise CorruptFileError(path, f"not a readable PDF ({type(exc).__name__}: {exc})") from None
        except Exception as exc:  # pypdf raises a wide variety on damaged files
            raise CorruptFileError(path, f"not a readable PDF ({type(exc).__name__}: {exc})") from None

        text_parts: list[str] = []
        sections: list[Section] = []
        page_starts: list[int] = []
        length = 0
        heading = ""
        section_start = 0
        first_lines: list[str] = []
        for page_text in pages:
            page_starts.append(length + (2 if text_parts else 0))
            for para, is_heading in _paragraphs(page_text):
                if len(first_lines) < 3:
                    first_lines.append(para)
                if is_heading:
                    if length > section_start:
                        sections.append(Section(title=heading, start=section_start, end=length))
                    heading = para
                    section_start = length + (2 if text_parts else 0)
                    continue
                if text_parts:
                    text_parts.append("\n\n")
                    length += 2
                text_parts.append(para)
                length += len(para)
        text = "".join(text_parts)
        if not text.strip():
            raise EmptyFileError(path, "PDF has no extractable text (a scanned image?); run OCR first")
        if length > section_start:
            sections.append(Section(title=heading, start=min(section_start, length), end=length))
        sections = [s for s in sections if s.end > s.start]

        title = (str(info.title).strip() if info is not None and info.title else "") or (
            first_lines[0] if first_lines else ""
        )
        # The file's creation date is when it was made, not when the work was published: no year.
        meta = DocumentMetadata(
            format=self.name,
            source_path=str(path),
            authors=[a.strip() for a in str(info.author).split(";")] if info is not None and info.author else [],
        )
        return LoadResult(
            documents=[make_document(text=text, title=title, sections=sections, page_starts=page_starts, metadata=meta)]
        )
