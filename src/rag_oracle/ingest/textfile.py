"""Markdown and plain text.

Markdown: optional YAML front matter (id, title, year, authors, doi, pmid, source,
publication_types, url, mesh_terms); the first `#` heading is the title; `#`..`###` headings
open sections; emphasis, code and link markup are removed from the stored text.
Plain text: the first line is the title when it is short; blank lines separate paragraphs.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from rag_oracle.errors import CorruptFileError, EmptyFileError
from rag_oracle.ingest.base import LoadResult, TextBuilder, make_document
from rag_oracle.types import DocumentMetadata

_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.S)
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_EMPHASIS = re.compile(r"(\*\*|__|\*|`)(?=\S)(.+?)(?<=\S)\1")

_META_FIELDS = {
    "year",
    "authors",
    "journal",
    "pmid",
    "pmcid",
    "doi",
    "url",
    "mesh_terms",
    "publication_types",
    "source",
}


def read_text(path: Path) -> str:
    raw = path.read_bytes()
    if not raw.strip():
        raise EmptyFileError(path, "file is empty")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CorruptFileError(path, f"not UTF-8 text (byte {exc.start}); convert it with iconv -t UTF-8") from None
    if "\x00" in text:
        raise CorruptFileError(path, "contains NUL bytes: a binary file with a text extension?")
    return text


def metadata_from_mapping(data: dict[str, Any], *, fmt: str, path: Path) -> DocumentMetadata:
    """DocumentMetadata from loose keys (front matter or a JSONL record); unknown keys go to `extra`."""
    known: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for key, value in data.items():
        if key == "mesh":
            key = "mesh_terms"
        if key in _META_FIELDS:
            known[key] = value
        else:
            extra[key] = value
    for key in ("authors", "mesh_terms", "publication_types"):
        if isinstance(known.get(key), str):
            known[key] = [known[key]]
    if "year" in known:
        try:
            known["year"] = int(str(known["year"])[:4]) if known["year"] not in (None, "") else None
        except ValueError:
            extra["year_raw"] = known.pop("year")
    for key in ("pmid", "pmcid", "doi", "url", "journal", "source"):
        if key in known and known[key] is not None:
            known[key] = str(known[key])
        elif key in known:
            known.pop(key)
    return DocumentMetadata(format=fmt, source_path=str(path), extra=extra, **known)


_TABLE_SEPARATOR = re.compile(r"^\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)*\|?$")


def _table_row(line: str) -> str:
    """A Markdown table row as `| cell | cell |`, emphasis and links removed from each cell."""
    cells = [_clean_markdown(c.strip()) for c in line.strip().strip("|").split("|")]
    return "| " + " | ".join(cells) + " |"


def _clean_markdown(line: str) -> str:
    line = _LINK.sub(r"\1", line)
    return _EMPHASIS.sub(r"\2", line)


class MarkdownLoader:
    name = "markdown"
    suffixes = (".md", ".markdown")

    def load(self, path: Path) -> LoadResult:
        text = read_text(path)
        front: dict[str, Any] = {}
        match = _FRONT_MATTER.match(text)
        if match:
            try:
                front = yaml.safe_load(match.group(1)) or {}
            except yaml.YAMLError as exc:
                raise CorruptFileError(path, f"front matter is not valid YAML: {exc}") from None
            if not isinstance(front, dict):
                raise CorruptFileError(path, "front matter must be a YAML mapping (key: value lines)")
            text = text[match.end() :]
        title = str(front.pop("title", "") or "")
        doc_id = str(front.pop("id", "") or "")
        builder = TextBuilder()
        heading = ""
        paragraphs: list[str] = []
        current: list[str] = []
        in_code = False

        def end_paragraph() -> None:
            if current:
                # List items and table rows keep one line each; prose lines are joined.
                lines = current[0].startswith(("- ", "* ", "|")) or bool(re.match(r"\d+[.)]\s", current[0]))
                paragraphs.append("\n".join(current) if lines else " ".join(current))
                current.clear()

        for raw in text.splitlines():
            line = raw.rstrip()
            if line.startswith("```"):
                in_code = not in_code
                continue
            heading_match = None if in_code else _HEADING.match(line)
            if heading_match:
                end_paragraph()
                builder.add_section(heading, paragraphs)
                paragraphs = []
                level, name = len(heading_match.group(1)), _clean_markdown(heading_match.group(2))
                if level == 1 and not title:
                    title = name
                    heading = ""
                else:
                    heading = name
            elif not line.strip():
                end_paragraph()
            else:
                stripped = line.strip()
                if stripped.startswith("|"):
                    # A table: one "| cell | cell |" line per row, header first, no separator line.
                    if current and not current[0].startswith("|"):
                        end_paragraph()
                    if not _TABLE_SEPARATOR.match(stripped):
                        current.append(_table_row(stripped))
                    continue
                if current and current[0].startswith("|"):
                    end_paragraph()
                if stripped.startswith(("- ", "* ", "+ ")) or re.match(r"\d+[.)]\s", stripped):
                    end_paragraph() if current and not current[0].startswith(("- ", "* ")) else None
                    stripped = "- " + stripped[2:].strip() if stripped[0] in "*+" else stripped
                current.append(_clean_markdown(stripped))
        end_paragraph()
        builder.add_section(heading, paragraphs)
        if not builder.sections:
            raise EmptyFileError(path, "Markdown file has no text besides headings/front matter")
        meta = metadata_from_mapping(front, fmt=self.name, path=path)
        doc = make_document(
            text=builder.text, title=title or path.stem, sections=builder.sections, metadata=meta, doc_id=doc_id
        )
        return LoadResult(documents=[doc])


class PlainTextLoader:
    name = "text"
    suffixes = (".txt",)

    def load(self, path: Path) -> LoadResult:
        text = read_text(path).replace("\r\n", "\n")
        blocks = [re.sub(r"[ \t]*\n[ \t]*", " ", b).strip() for b in re.split(r"\n\s*\n", text)]
        blocks = [b for b in blocks if b]
        title = ""
        first_line = text.strip().splitlines()[0].strip()
        if (
            len(first_line.split()) <= 15
            and blocks
            and blocks[0].startswith(first_line)
            and len(blocks[0]) == len(first_line)
        ):
            title = blocks.pop(0)
        if not blocks:
            raise EmptyFileError(path, "text file has no body besides a title line")
        builder = TextBuilder()
        builder.add_section("", blocks)
        meta = DocumentMetadata(format=self.name, source_path=str(path))
        return LoadResult(
            documents=[
                make_document(text=builder.text, title=title or path.stem, sections=builder.sections, metadata=meta)
            ]
        )
