"""Markdown and plain text.

Markdown: optional YAML front matter (id, title, year, authors, doi, pmid, source,
publication_types, url, mesh_terms); the first `#` heading is the title; `#`..`###` headings
open sections; emphasis, code and link markup are removed from the stored text.
Plain text: the first line is the title when it is short; blank lines separate paragraphs.

`metadata_from_mapping` (shared with the JSONL loader) turns loose keys into DocumentMetadata:
it coerces a value whose intent is plain (a number author, a single author, a year "2019", a
YAML date) and refuses one of the wrong shape with a FieldError naming the field, so a
pydantic ValidationError never leaves a loader. In front matter that fails the file
(CorruptFileError); in JSONL it costs only the line.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from rag_oracle.errors import CorruptFileError, EmptyFileError
from rag_oracle.ingest.base import LoadResult, TextBuilder, make_document, without_surrogates
from rag_oracle.ingest.limits import Deadline, Limits, budget, read_regular
from rag_oracle.types import DocumentMetadata

_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.S)
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_EMPHASIS = re.compile(r"(\*\*|__|\*|`)(?=\S)(.+?)(?<=\S)\1")

_LIST_FIELDS = {"authors": "names", "mesh_terms": "MeSH terms", "publication_types": "publication types"}
_TEXT_FIELDS = ("pmid", "pmcid", "doi", "url", "journal", "source")
_LEADING_YEAR = re.compile(r"\s*(\d{4})(?!\d)")
_MAX_DEPTH = 32  # nesting of an `extra` value; deeper is a mistake (or a YAML alias cycle)


def read_text(path: Path, limits: Limits | None = None) -> str:
    """A UTF-8 text file's text (a BOM dropped); EmptyFileError / CorruptFileError otherwise."""
    raw = read_regular(path, limits)
    if not raw.strip():
        raise EmptyFileError(path, "file is empty")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CorruptFileError(path, f"not UTF-8 text (byte {exc.start}); convert it with iconv -t UTF-8") from None
    if "\x00" in text:
        raise CorruptFileError(path, "contains NUL bytes: a binary file with a text extension?")
    return text


class FieldError(ValueError):
    """A metadata field whose value has the wrong type, named in the message.

    Never leaves a loader: the JSONL loader turns it into a warning for the line, the Markdown
    loader into a CorruptFileError for the file.
    """

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        super().__init__(f"field '{field}': {problem}")


def _kind(value: object) -> str:
    """What a value is, in the words of JSON (and YAML), for a message."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a text"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list | tuple | set | frozenset):
        return "a list"
    if isinstance(value, date):
        return "a date"
    if isinstance(value, bytes):
        return "binary data"
    return f"a {type(value).__name__}"


def _expected(field: str, what: str, value: object) -> FieldError:
    return FieldError(field, f"expected {what}, got {_kind(value)}")


def _scalar_text(value: str | int | float | date) -> str:
    """A text, number or date as the text a user would have written."""
    if isinstance(value, str):
        return without_surrogates(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _is_scalar(value: object) -> bool:
    return isinstance(value, str | int | float | date) and not isinstance(value, bool)


def coerce_text(field: str, value: object) -> str:
    """A text field: a text, or a number or date written as one (pmid 123 -> "123"); null is ""."""
    if value is None:
        return ""
    if not _is_scalar(value):
        raise _expected(field, "a text", value)
    return _scalar_text(value)  # type: ignore[arg-type]


def coerce_id(value: object) -> str:
    """A document id as given (a number becomes its digits); null, absent or blank is "" (derive one)."""
    if value is None:
        return ""
    if not _is_scalar(value):
        raise _expected("id", "a text or a number", value)
    text = _scalar_text(value)  # type: ignore[arg-type]
    return text if text.strip() else ""


def _names(field: str, value: object) -> list[str]:
    what = f"a list of {_LIST_FIELDS[field]}"
    if value is None:
        return []
    items = [value] if _is_scalar(value) else value
    if not isinstance(items, list | tuple):
        raise _expected(field, what, value)
    out = []
    for item in items:
        if item is None:
            continue
        if not _is_scalar(item):
            raise FieldError(field, f"expected {what}, got a list holding {_kind(item)}")
        text = _scalar_text(item).strip()
        if text:
            out.append(text)
    return out


def _year(value: object, extra: dict[str, object]) -> int | None:
    """A year from 2019, 2019.0, "2019", "2019-05-01" or a YAML date; other texts kept in extra['year_raw']."""
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value.year
    if isinstance(value, float) and value.is_integer() and abs(value) < 10_000:
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) < 10_000:
        return value
    if isinstance(value, str):
        match = _LEADING_YEAR.match(value)
        if match:
            return int(match.group(1))
        extra["year_raw"] = without_surrogates(value)
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        extra["year_raw"] = value
        return None
    raise _expected("year", "a year such as 2019", value)


def _plain(field: str, value: object, depth: int = 0) -> object:
    """An `extra` value made of JSON types only (the index stores metadata as JSON)."""
    if depth > _MAX_DEPTH:
        raise FieldError(field, f"nested more than {_MAX_DEPTH} levels deep")
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str | date):
        return _scalar_text(value)
    if isinstance(value, bytes):
        return without_surrogates(value.decode("utf-8", errors="replace"))
    if isinstance(value, dict):
        return {_scalar_text(k) if _is_scalar(k) else str(k): _plain(field, v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(field, v, depth + 1) for v in value]
    if isinstance(value, set | frozenset):
        return sorted((_plain(field, v, depth + 1) for v in value), key=repr)
    return without_surrogates(str(value))


def metadata_from_mapping(data: dict[Any, Any], *, fmt: str, path: Path) -> DocumentMetadata:
    """DocumentMetadata from loose keys (front matter or a JSONL record); unknown keys go to `extra`.

    Values are coerced where the intent is plain (an author 1 is "1", a single author a list of
    one, a year "2019" is 2019, a pmid number a text); a value of the wrong shape (an object
    where names are expected) raises FieldError naming the field.

    >>> metadata_from_mapping({"authors": "Okafor A", "year": "2019"}, fmt="jsonl", path=Path("a.jsonl")).authors
    ['Okafor A']
    """
    known: dict[str, Any] = {}
    extra: dict[str, object] = {}
    for raw_key, value in data.items():
        key = _scalar_text(raw_key) if _is_scalar(raw_key) else str(raw_key)
        if key == "mesh":
            key = "mesh_terms"
        if key in _LIST_FIELDS:
            known[key] = _names(key, value)
        elif key == "year":
            known["year"] = _year(value, extra)
        elif key in _TEXT_FIELDS:
            known[key] = coerce_text(key, value).strip()
        else:
            extra[key] = _plain(key, value)
    try:
        return DocumentMetadata(format=fmt, source_path=str(path), extra=extra, **known)
    except ValidationError as exc:  # the coercions above leave none; a field added later might
        first = exc.errors()[0]
        raise FieldError(".".join(map(str, first["loc"])) or "metadata", first["msg"]) from None


_TABLE_SEPARATOR = re.compile(r"^\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)*\|?$")


def _table_row(line: str) -> str:
    """A Markdown table row as `| cell | cell |`, emphasis and links removed from each cell."""
    cells = [_clean_markdown(c.strip()) for c in line.strip().strip("|").split("|")]
    return "| " + " | ".join(cells) + " |"


def _clean_markdown(line: str) -> str:
    line = _LINK.sub(r"\1", line)
    return _EMPHASIS.sub(r"\2", line)


def _yaml_problem(exc: Exception) -> str:
    """One line: PyYAML's marked errors span several lines (context, snippet, caret)."""
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem:
        mark = exc.problem_mark
        return f"{exc.problem} (line {mark.line + 1}, column {mark.column + 1})" if mark else exc.problem
    return " ".join(str(exc).split())


class _FrontMatterLoader(yaml.SafeLoader):
    """PyYAML's safe loader without aliases: front matter has no use for `*anchor`, and aliases
    are how a few hundred bytes of YAML expand into billions of nodes (a "billion laughs")."""

    def compose_node(self, parent, index):  # type: ignore[no-untyped-def]
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None, None, "aliases (*name) are not allowed in front matter", event.start_mark
            )
        return super().compose_node(parent, index)


class MarkdownLoader:
    name = "markdown"
    suffixes = (".md", ".markdown")

    def load(self, path: Path, *, limits: Limits | None = None, deadline: Deadline | None = None) -> LoadResult:
        limits, deadline = budget(path, limits, deadline)
        text = read_text(path, limits)
        deadline.check()
        front: dict[Any, Any] = {}
        match = _FRONT_MATTER.match(text)
        if match:
            try:
                front = yaml.load(match.group(1), Loader=_FrontMatterLoader) or {}  # safe: SafeLoader without aliases
            # PyYAML's constructors raise their own errors too: a date 2019-13-45, deep nesting.
            except (yaml.YAMLError, ValueError, TypeError, OverflowError, RecursionError) as exc:
                raise CorruptFileError(path, f"front matter is not valid YAML: {_yaml_problem(exc)}") from None
            if not isinstance(front, dict):
                raise CorruptFileError(path, "front matter must be a YAML mapping (key: value lines)")
            text = text[match.end() :]
        try:
            title = coerce_text("title", front.pop("title", None))
            doc_id = coerce_id(front.pop("id", None))
            meta = metadata_from_mapping(front, fmt=self.name, path=path)
        except FieldError as exc:
            raise CorruptFileError(path, f"front matter {exc}; correct it or remove the field") from None
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
        doc = make_document(
            text=builder.text, title=title or path.stem, sections=builder.sections, metadata=meta, doc_id=doc_id
        )
        return LoadResult(documents=[doc])


class PlainTextLoader:
    name = "text"
    suffixes = (".txt",)

    def load(self, path: Path, *, limits: Limits | None = None, deadline: Deadline | None = None) -> LoadResult:
        limits, deadline = budget(path, limits, deadline)
        text = read_text(path, limits).replace("\r\n", "\n")
        deadline.check()
        blocks = [re.sub(r"[ \t]*\n[ \t]*", " ", b).strip() for b in re.split(r"\n\s*\n", text)]
        blocks = [b for b in blocks if b]
        title = ""
        first_line = text.lstrip().split("\n", 1)[0].strip()  # not splitlines(): no copy of every line
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
