"""PDF via pypdf, keeping the document's structure: pages, headings, tables, lists.

Each page is read twice. Layout mode keeps where text sits on the line, so table columns can
be told from prose; plain mode, with a visitor, tells each line's font and left edge, so a
bold or larger line is a heading and a page set in two columns is recognised. Then:

- running headers and footers (a line at the top or bottom of most pages) and page numbers
  ("page 2 of 3") are dropped;
- a table becomes one line per row, ``| cell | cell |``, header row first (the format the
  Markdown loader writes, so one parser reads both);
- headings become section titles;
- lines wrapped by the layout join into paragraphs; list items start their own paragraph.

Layout mode sets text in fixed-width characters, so a long line of a left column can run into
the right one: a page of two-column running text is taken from plain mode, whose order is the
content stream's (column by column), as are pages layout mode cannot read or reads with text
missing (it drops rotated text). Such pages keep their words but not their table columns.

An encrypted PDF that opens without a password (only an owner password set, as many journals
do to forbid editing) is decrypted and read; one that needs a password raises
EncryptedFileError ("needs a password"). AES decryption needs `cryptography` (pypdf[crypto]).
"""

from __future__ import annotations

import math
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any, BinaryIO

from rag_oracle.errors import CorruptFileError, EmptyFileError, EncryptedFileError, LoaderError
from rag_oracle.ingest.base import LoadResult, make_document
from rag_oracle.ingest.limits import Deadline, Limits, budget, open_regular
from rag_oracle.types import DocumentMetadata, Section

_MARKS = "-*\u2022\u25aa\u25e6\u2023\u2219\u00b7\u25cf\u25a0\u2013"  # hyphen, asterisk and bullet glyphs
_BULLET = re.compile(rf"^(?:[{_MARKS}]|\d+[.)])\s")
_LIST_MARKER = re.compile(rf"^(?:[{_MARKS}]|\(?(?:\d{{1,3}}|[A-Za-z]|[ivxIVX]{{1,4}})[.)])$")
_HEADING = re.compile(r"^(?:\d+(?:\.\d+)*\.?\s+)?[A-Z][A-Za-z0-9 ,/&()'-]{1,70}$")
_WS = re.compile(r"\s+")
_PAGE_NUMBER = re.compile(r"^(?:page\s*)?[-\u2013\s]*\d{1,4}(?:\s*(?:of|/)\s*\d{1,4})?[-\u2013\s]*$", re.IGNORECASE)
_PAGE_X_OF_Y = re.compile(r"\bpage\s+\d{1,4}\s+of\s+\d{1,4}\b", re.IGNORECASE)
_LEADER_DOTS = re.compile(r"(?:\. ?){4,}")  # a table of contents, not a table
_BOLD_FONT = re.compile(r"bold|black|heavy|semibold|demi", re.IGNORECASE)
# A word after a line-final hyphen that marks a suspended compound ("two-" / "to three-fold").
_SUSPENDED = frozenset({"to", "and", "or", "nor"})
_MIN_GUTTER = 2  # spaces between table columns in layout mode, at the least
_DASHES = ("-", "\u2010", "\u2013", "\u2014")  # hyphen, Unicode hyphen, en and em dash
_EDGE_LINES = 2  # lines at the top and at the bottom of a page that may be running furniture
_MAX_TRAILING = 3  # lines of a last row's wrapped cell text below the table's last full line


# --- reading pages ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Style:
    size: float
    bold: bool


@dataclass
class _Page:
    lines: list[str]  # layout-mode lines (horizontal positions kept as spaces), or plain-mode lines
    styles: dict[str, _Style]  # whitespace-free, lower-cased line text -> font of the whole line
    chars: Counter[_Style]  # characters per font, to find the body font
    words: frozenset[str] = frozenset()  # plain mode's words, whose spacing layout mode can lose
    split: dict[str, str] = field(default_factory=dict)  # two plain words run together -> with a space


def _key(text: str) -> str:
    return _WS.sub("", text).lower()


def _two_columns(line_starts: list[tuple[float, int]], width: float) -> bool:
    """Whether many lines of running text start at a second left edge near the middle of the page.

    `line_starts` holds (x, words) per line. A table's cells start mid-page too, but each holds
    a few words.
    """
    text_lines = [(x, words) for x, words in line_starts if words >= 4]
    if len(text_lines) < 10 or width <= 0:
        return False
    left = min(x for x, _ in text_lines)
    right = [(x, words) for x, words in text_lines if x - left > 0.3 * width]
    if len(right) < 6 or len(right) < 0.3 * len(text_lines) or sum(w for _, w in right) / len(right) < 6:
        return False
    _, at_one_edge = Counter(round(x / 4) for x, _ in right).most_common(1)[0]
    return at_one_edge >= 0.6 * len(right)


@dataclass
class _RawPage:
    """What pypdf read from a page, before any analysis."""

    plain: str
    layout: str | None  # None when layout mode failed, or was not tried on a two-column page
    lines: list[tuple[float, str, list[_Style]]]  # plain mode's lines: left edge, text, fonts
    chars: Counter[_Style]  # characters per font


def _extract(page: Any) -> _RawPage:
    """Read a page in plain mode (with fonts and positions) and in layout mode; pypdf's work only."""
    fragments: list[tuple[bool, float, float, str, _Style]] = []  # (starts a line, x, y, text, style)

    def visit(text: str, cm: list[float], tm: list[float], font: Any, font_size: float) -> None:
        # the text matrix times the current transformation matrix: where the text sits, how tall
        c = tm[2] * cm[0] + tm[3] * cm[2]
        d = tm[2] * cm[1] + tm[3] * cm[3]
        x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
        y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
        name = str(font.get("/BaseFont", "")) if font is not None else ""
        style = _Style(size=round(abs(font_size) * math.hypot(c, d) * 2) / 2, bold=bool(_BOLD_FONT.search(name)))
        for i, piece in enumerate(text.split("\n")):
            if piece.strip():
                fragments.append((i > 0, x, y, piece, style))

    plain = page.extract_text(visitor_text=visit) or ""
    lines: list[tuple[float, str, list[_Style]]] = []
    chars: Counter[_Style] = Counter()
    last_y: float | None = None
    for new_line, x, y, text, style in fragments:
        chars[style] += len(text.strip())
        if new_line or last_y is None or abs(y - last_y) > 1:
            lines.append((x, text, [style]))
        else:
            lines[-1] = (lines[-1][0], lines[-1][1] + text, [*lines[-1][2], style])
        last_y = y
    if _two_columns([(x, len(text.split())) for x, text, _ in lines], float(page.mediabox.width)):
        return _RawPage(plain=plain, layout=None, lines=lines, chars=chars)
    try:
        layout = page.extract_text(extraction_mode="layout") or ""
    except Exception:  # layout mode trips on some fonts that plain mode reads; keep the text
        return _RawPage(plain=plain, layout=None, lines=lines, chars=chars)
    return _RawPage(plain=plain, layout=layout, lines=lines, chars=chars)


def _analyse(raw: _RawPage) -> _Page:
    """The page's lines to read, layout mode's unless plain mode serves better, and its fonts."""
    chars = raw.chars
    styles: dict[str, _Style] = {}
    for _, text, line_styles in raw.lines:
        styles.setdefault(
            _key(text), _Style(size=max(s.size for s in line_styles), bold=all(s.bold for s in line_styles))
        )
    plain_page = _Page(lines=[line.rstrip() for line in raw.plain.splitlines()], styles=styles, chars=chars)
    # Layout mode drops rotated text; lose no words for the sake of columns.
    if raw.layout is None or len(_WS.sub("", raw.layout)) < 0.9 * len(_WS.sub("", raw.plain)):
        return plain_page
    layout_lines = [line.rstrip() for line in raw.layout.splitlines()]
    if _layout_items(layout_lines) is None:  # columns of running text after all
        return plain_page
    words = raw.plain.split()
    return _Page(
        lines=layout_lines,
        styles=styles,
        chars=chars,
        words=frozenset(words),
        # not across a line-final hyphen: "low-molecular-" "weight" is one word, joined on purpose
        split={a + b: f"{a} {b}" for a, b in pairwise(words) if not a.endswith(_DASHES)},
    )


def _respace(text: str, page: _Page) -> str:
    """Mend words layout mode ran together or split, where plain mode read them otherwise."""
    if not page.words:
        return text
    tokens = text.split(" ")
    out: list[str] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token and token not in page.words:
            if token in page.split:
                out.append(page.split[token])
                i += 1
                continue
            if i + 1 < len(tokens) and token + tokens[i + 1] in page.words:
                out.append(token + tokens[i + 1])
                i += 2
                continue
        out.append(token)
        i += 1
    return " ".join(out)


def _drop_furniture(pages: list[_Page]) -> None:
    """Blank running headers/footers (a top or bottom line on most pages) and page numbers."""

    def edges(lines: list[str]) -> list[int]:
        filled = [i for i, line in enumerate(lines) if line.strip()]
        return sorted(set(filled[:_EDGE_LINES] + filled[-_EDGE_LINES:]))

    def furniture_key(line: str) -> str:
        return re.sub(r"\d+", "#", _WS.sub(" ", line).strip().lower())

    counts: Counter[str] = Counter()
    for page in pages:
        counts.update({furniture_key(page.lines[i]) for i in edges(page.lines)})
    repeated = max(2, math.ceil(len(pages) / 2))
    for page in pages:
        for i in edges(page.lines):
            line = _WS.sub(" ", page.lines[i]).strip()
            if (
                counts[furniture_key(line)] >= repeated
                or _PAGE_NUMBER.match(line)
                or (_PAGE_X_OF_Y.search(line) and len(line.split()) <= 15)
            ):
                page.lines[i] = ""


# --- columns: tables in layout-mode lines -------------------------------------------------


@dataclass
class _Table:
    rows: list[list[str]]

    def render(self, page: _Page) -> str:
        # A pipe inside a cell would split it in two for the parser.
        return "\n".join(
            "| " + " | ".join(_respace(c, page).replace("|", "/") for c in row) + " |" for row in self.rows
        )


_Item = str | _Table | None  # a line (positions kept), a table, or a blank line


def _occupied(line: str) -> set[int]:
    return {i for i, ch in enumerate(line) if not ch.isspace()}


def _runs(columns: set[int], min_width: int) -> list[tuple[int, int]]:
    """Maximal runs [start, end) of consecutive column numbers at least min_width long."""
    runs: list[tuple[int, int]] = []
    for c in sorted(columns):
        if runs and runs[-1][1] == c:
            runs[-1] = (runs[-1][0], c + 1)
        else:
            runs.append((c, c + 1))
    return [r for r in runs if r[1] - r[0] >= min_width]


def _crosses(line: str, gutter: tuple[int, int]) -> bool:
    """Whether the line has text on both sides of the gutter."""
    return bool(line[: gutter[0]].strip()) and bool(line[gutter[1] :].strip())


def _internal_gaps(line: str) -> set[int]:
    occupied = _occupied(line)
    if not occupied:
        return set()
    return {i for i in range(min(occupied), max(occupied)) if i not in occupied}


def _aligned(region: list[str], column: tuple[int, int]) -> bool:
    """Whether the cells of a column share a left edge or a centre in two lines or more."""
    starts: list[int] = []
    centres: list[int] = []
    for line in region:
        cell = line[column[0] : column[1]]
        if cell.strip():
            start = column[0] + len(cell) - len(cell.lstrip())
            end = column[0] + len(cell.rstrip())
            starts.append(start)
            centres.append((start + end) // 2)

    def shared(positions: list[int], slack: int) -> bool:
        counts = Counter(positions)
        return any(sum(counts[p + d] for d in range(-slack, slack + 1)) >= 2 for p in counts)

    return shared(starts, 0) or shared(centres, 1)


def _find_region(lines: list[str], start: int) -> tuple[int, list[tuple[int, int]]] | None:
    """Lines from `start` that share blank gutters (columns free of text in every line).

    Returns (end, gutters) for the gutters with text on both sides in two lines or more and
    an aligned column after them. A blank line ends the region unless the next line again
    has text across a gutter, or only right of one (a cell's wrapped text): prose after a
    table starts at the left edge.
    """
    free = _internal_gaps(lines[start])
    if not _runs(free, _MIN_GUTTER):
        return None
    end = i = start + 1
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            j = next((k for k in range(i + 1, len(lines)) if lines[k].strip()), None)
            if j is None:
                break
            narrowed = free - _occupied(lines[j])
            first = len(lines[j]) - len(lines[j].lstrip())
            if not any(_crosses(lines[j], g) or first >= g[1] for g in _runs(narrowed, _MIN_GUTTER)):
                break
            i = j
            continue
        narrowed = free - _occupied(line)
        if not _runs(narrowed, _MIN_GUTTER):
            break
        free = narrowed
        end = i = i + 1
    # Text below a table that merely stays clear of its gutters is prose, not a cell's wrapped
    # text, once it runs on for more lines than a cell would.
    crossing = [k for k in range(start, end) if any(_crosses(lines[k], g) for g in _runs(free, _MIN_GUTTER))]
    if not crossing:
        return None
    end = min(end, crossing[-1] + 1 + _MAX_TRAILING)
    region = lines[start:end]
    filled = sum(1 for line in region if line.strip())
    width = max(len(line) for line in region)
    candidates = [
        g for g in _runs(free, _MIN_GUTTER) if sum(_crosses(line, g) for line in region) >= max(2, 0.3 * filled)
    ]
    word_gap = _cell_word_gap(region, candidates)
    gutters = []
    for n, gutter in enumerate(candidates):
        next_start = candidates[n + 1][0] if n + 1 < len(candidates) else width
        if _aligned(region, (gutter[1], next_start)) and _wider_than_words(region, gutter, word_gap):
            gutters.append(gutter)
    return (end, gutters) if gutters else None


def _space_runs(line: str) -> list[tuple[int, int]]:
    return [m.span() for m in re.finditer(r"(?<=\S) +(?=\S)", line)]


def _cell_word_gap(region: list[str], gutters: list[tuple[int, int]]) -> int:
    """The usual space between words inside cells: 1, or 2 where layout mode spreads justified text."""
    gaps = Counter(
        b - a for line in region for a, b in _space_runs(line) if not any(a < g[1] and g[0] < b for g in gutters)
    )
    return gaps.most_common(1)[0][0] if gaps else 1


def _wider_than_words(region: list[str], gutter: tuple[int, int], word_gap: int) -> bool:
    """Whether every line crossing the gutter leaves more space there than between its words.

    Justified prose set out by layout mode has wide word gaps that can line up by chance; a
    table's gutter is wider than the gaps between the words of its cells.
    """
    for line in region:
        if _crosses(line, gutter):
            run = next(((a, b) for a, b in _space_runs(line) if a <= gutter[0] and gutter[1] <= b), None)
            if run is None or run[1] - run[0] <= word_gap:
                return False
    return True


def _join_lines(lines: list[str]) -> str:
    """Join wrapped lines with a space; a line-final hyphen joins without one.

    "antico-" + "agulant" loses the hyphen (a word broken by the layout); "low-molecular-" +
    "weight" and "2-" + "day" keep it (a compound); "two-" + "to three-fold" keeps the space.
    """
    out = ""
    for raw in lines:
        line = _WS.sub(" ", raw).strip()
        if not line:
            continue
        if not out:
            out = line
        elif out.endswith("\xad"):
            out = out[:-1] + line
        elif out.endswith(_DASHES) and len(out) > 1 and not out[:-1].endswith(" "):
            word = out.rsplit(" ", 1)[-1]
            following = line.split(" ", 1)[0]
            before, after = word[-2:-1], following[:1]
            broken_word = (before.islower() and after.islower()) or (before.isupper() and after.isupper())
            if following.lower().strip(",.;:") in _SUSPENDED:
                out += " " + line
            elif out.endswith("-") and broken_word and "-" not in word[:-1]:
                out = out[:-1] + line
            else:
                out += line
        else:
            out += " " + line
    return out


def _columns_of(gutters: list[tuple[int, int]], width: int) -> list[tuple[int, int]]:
    bounds = [0] + [x for g in gutters for x in g] + [width]
    return [(bounds[k], bounds[k + 1]) for k in range(0, len(bounds), 2)]


def _is_list(cells: list[list[str]]) -> bool:
    """A list set with hanging indents: bullet glyphs (or, beside one text column, numbers) first."""
    markers = [row[0] for row in cells if row[0]]
    if not markers:
        return False
    if len(cells[0]) == 2:
        return all(_LIST_MARKER.match(m) for m in markers)
    return all(len(m) == 1 and m in _MARKS for m in markers)


def _long_cells(cells: list[list[str]]) -> bool:
    """Whether every column's lines hold several words: running text, not a table.

    Tables have at least one column of short cells (a drug, a dose, "5 to 7 days").
    """
    for k in range(len(cells[0])):
        words = [len(row[k].split()) for row in cells if row[k]]
        if not words or sum(words) / len(words) < 4:
            return False
    return True


def _starts_row(cells: list[str]) -> bool:
    """Whether a line of cells starts a table row rather than continuing the row's cells.

    Every cell filled starts a row; so do two cells or more whose first is filled and opens
    with a capital or a digit. A line with the first cell empty, or only a lower-case first
    cell ("more"), is text that wrapped inside cells.
    """
    filled = [bool(c) for c in cells]
    if all(filled):
        return True
    return filled[0] and sum(filled) >= 2 and not cells[0][:1].islower()


def _table_rows(cells: list[list[str]]) -> list[list[str]]:
    """Rows from the lines of a table, wrapped cell text joined to its cell.

    Wrapped text belongs to the row above, except when the next row leaves exactly those
    cells empty: then the row's other cells were centred vertically against a taller cell,
    and the text above them is that cell's beginning.
    """
    rows: list[list[list[str]]] = []
    pending: list[list[str]] = []  # wrapped lines held for the next row
    for n, line_cells in enumerate(cells):
        if not rows or _starts_row(line_cells):
            row: list[list[str]] = [[] for _ in line_cells]
            for held in [*pending, line_cells]:
                for k, c in enumerate(held):
                    if c:
                        row[k].append(c)
            pending.clear()
            rows.append(row)
            continue
        following = next((c for c in cells[n + 1 :] if _starts_row(c)), None)
        if following is not None and all(not following[k] for k, c in enumerate(line_cells) if c):
            pending.append(line_cells)
            continue
        for k, c in enumerate(line_cells):
            if c:
                rows[-1][k].append(c)
    for held in pending:  # nothing followed: the text wrapped in the last row
        for k, c in enumerate(held):
            if c:
                rows[-1][k].append(c)
    return [[_join_lines(parts) for parts in row] for row in rows]


def _layout_items(lines: list[str]) -> list[_Item] | None:
    """Lines, tables and blank lines of a page, in reading order; None for columns of running text."""
    items: list[_Item] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            items.append(None)
            i += 1
            continue
        found = _find_region(lines, i)
        if found is None:
            items.append(line)
            i += 1
            continue
        end, gutters = found
        region = lines[i:end]
        columns = _columns_of(gutters, max(len(line) for line in region))
        cells = [[line[a:b].strip() for a, b in columns] for line in region if line.strip()]
        if _long_cells(cells) and len(columns) <= 3 and len(cells) >= 3:
            return None  # columns of running text
        if _is_list(cells):  # a list with hanging indents: the marker, then the item's text
            items.extend(" ".join(line[a:b].strip() for a, b in columns).strip() or None for line in region)
        elif (
            not _long_cells(cells)  # or justified prose whose wide word gaps happen to line up
            and sum(all(row) for row in cells) >= 2  # a column count kept over two rows or more
            and not any(_LEADER_DOTS.search(c) for row in cells for c in row)
        ):
            items.extend([None, _Table(_table_rows(cells)), None])
        else:  # not a table: this line is text, and a table may still start below it
            items.append(line)
            i += 1
            continue
        i = end
    return items


def _page_items(page: _Page) -> list[_Item]:
    items = _layout_items(page.lines)
    return items if items is not None else [line if line.strip() else None for line in page.lines]


# --- paragraphs and headings --------------------------------------------------------------


@dataclass
class _Block:
    text: str
    kind: str  # "paragraph", "heading" or "table"
    style: _Style | None = None  # the font of a heading told by its font


def _is_heading(line: str) -> bool:
    """A heading told by its words alone: short, title-cased, no closing punctuation."""
    words = line.split()
    return (
        0 < len(words) <= 8
        and not line.endswith((".", ",", ";", ":", "-"))
        and bool(_HEADING.match(line))
        and (line.isupper() or sum(w[0].isupper() for w in words if w[0].isalpha()) >= max(1, len(words) // 2))
    )


def _heading_style(line: str, page: _Page, body: _Style) -> _Style | None:
    """The line's font when the whole line is set larger than the body text, or bold in a plain body."""
    style = page.styles.get(_key(line))
    if style is None or not (
        style.size >= body.size + 1 or (style.bold and not body.bold and style.size >= body.size - 0.5)
    ):
        return None
    words = line.split()
    if not 0 < len(words) <= 20 or not any(ch.isalpha() for ch in line) or line.endswith((",", ";")):
        return None
    if (line.endswith(".") and len(words) > 6) or re.match(rf"^[{_MARKS}]\s", line):
        return None
    return style


def _mid_sentence(line: str) -> bool:
    """Whether a paragraph's last line stops where its sentence cannot (a heading cannot follow)."""
    return bool(re.search(r"[a-z,;(&/\-\u2013]$", line))


def _blocks(items: list[_Item], page: _Page, body: _Style) -> list[_Block]:
    out: list[_Block] = []
    current: list[str] = []
    heading_open = False  # the last block is a heading with nothing after it yet

    def flush() -> None:
        if current:
            out.append(_Block(_respace(_join_lines(current), page), "paragraph"))
            current.clear()

    for item in items:
        if item is None:
            flush()
            heading_open = False
            continue
        if isinstance(item, _Table):
            flush()
            out.append(_Block(item.render(page), "table"))
            heading_open = False
            continue
        line = _WS.sub(" ", item).strip()
        style = _heading_style(line, page, body)
        if style is not None and not (current and _mid_sentence(current[-1])):
            flush()
            if heading_open and out[-1].style == style:  # a heading wrapped over two lines
                out[-1].text += " " + _respace(line, page)
            else:
                out.append(_Block(_respace(line, page), "heading", style))
            heading_open = True
            continue
        heading_open = False
        if _is_heading(line) and (not current or current[-1].endswith((".", ":", "?"))):
            flush()
            out.append(_Block(_respace(line, page), "heading"))
        elif _BULLET.match(line):
            flush()  # a list item starts its own paragraph; its wrapped lines join it
            current.append(line)
        else:
            current.append(line)
    flush()
    return out


def _body_style(pages: list[_Page]) -> _Style:
    chars: Counter[_Style] = Counter()
    for page in pages:
        chars.update(page.chars)
    return chars.most_common(1)[0][0] if chars else _Style(size=0, bold=False)


def _keep_title_in_text(page_blocks: list[list[_Block]]) -> None:
    """The document's title, set larger than every heading, opens the text rather than a section."""
    if not page_blocks or not page_blocks[0] or page_blocks[0][0].kind != "heading":
        return
    first = page_blocks[0][0]
    others = [b.style.size for blocks in page_blocks for b in blocks if b.style is not None and b is not first]
    if first.style is not None and all(first.style.size > size for size in others):
        first.kind = "paragraph"


_NEEDS_CRYPTOGRAPHY = (
    "needs the Python package 'cryptography' to decrypt it (AES encryption), which is not installed; "
    "install it with: pip install 'pypdf[crypto]'"
)


@dataclass
class _Read:
    pages: list[_RawPage]
    title: str
    authors: list[str]


def _read(path: Path, stream: BinaryIO, deadline: Deadline) -> _Read:
    """Every page of the PDF as pypdf reads it, and its title and authors; LoaderErrors for what goes wrong.

    An encrypted PDF with an empty user password (only the owner password set, which forbids
    editing or printing, not reading) is decrypted and read; one that needs a password to open
    raises EncryptedFileError.
    """
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError

    try:
        reader = PdfReader(stream, strict=False)  # tries the empty user password itself
        if reader.is_encrypted and not reader.decrypt(""):
            raise EncryptedFileError(
                path,
                "needs a password: the PDF is encrypted for reading; decrypt it first "
                "(qpdf --password=PASSWORD --decrypt in.pdf out.pdf)",
            )
        raw_pages = []
        for page in reader.pages:
            deadline.check()
            raw_pages.append(_extract(page))
        # Read while the file is open: the info dictionary's values are fetched on access.
        info = reader.metadata
        title = str(info.title).strip() if info is not None and info.title else ""
        authors = [a.strip() for a in str(info.author).split(";")] if info is not None and info.author else []
        return _Read(pages=raw_pages, title=title, authors=authors)
    except LoaderError:
        raise
    except DependencyError as exc:
        if "cryptography" in str(exc) or "AES" in str(exc):
            raise EncryptedFileError(path, _NEEDS_CRYPTOGRAPHY) from None
        raise CorruptFileError(path, f"not readable: {exc}") from None
    except (FileNotDecryptedError, NotImplementedError) as exc:
        raise EncryptedFileError(path, f"encrypted and cannot be opened ({exc})") from None
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, OSError, RecursionError) as exc:
        raise CorruptFileError(path, f"not a readable PDF ({type(exc).__name__}: {exc})") from None
    except Exception as exc:  # pypdf raises a wide variety on damaged files
        raise CorruptFileError(path, f"not a readable PDF ({type(exc).__name__}: {exc})") from None


class PdfLoader:
    """Loads a PDF into one Document with its pages, sections and tables.

    >>> doc = PdfLoader().load(Path("protocol.pdf")).documents[0]  # doctest: +SKIP
    >>> [s.title for s in doc.sections][:2]  # doctest: +SKIP
    ['', 'Scope']
    """

    name = "pdf"
    suffixes = (".pdf",)

    def load(self, path: Path, *, limits: Limits | None = None, deadline: Deadline | None = None) -> LoadResult:
        limits, deadline = budget(path, limits, deadline)
        with open_regular(path, limits) as fh:
            if os.fstat(fh.fileno()).st_size == 0:
                raise EmptyFileError(path, "file is empty (0 bytes)")
            read = _read(path, fh, deadline)

        pages = []
        for raw in read.pages:
            deadline.check()
            pages.append(_analyse(raw))
        _drop_furniture(pages)
        body = _body_style(pages)
        page_blocks = [_blocks(_page_items(page), page, body) for page in pages]
        _keep_title_in_text(page_blocks)

        text_parts: list[str] = []
        sections: list[Section] = []
        page_starts: list[int] = []
        length = 0
        heading = ""
        section_start = 0
        first_lines: list[str] = []
        for blocks in page_blocks:
            page_starts.append(length + (2 if text_parts else 0))
            for block in blocks:
                if len(first_lines) < 3 and block.kind != "table":
                    first_lines.append(block.text)
                if block.kind == "heading":
                    if length > section_start:
                        sections.append(Section(title=heading, start=section_start, end=length))
                    heading = block.text
                    section_start = length + (2 if text_parts else 0)
                    continue
                if text_parts:
                    text_parts.append("\n\n")
                    length += 2
                text_parts.append(block.text)
                length += len(block.text)
        text = "".join(text_parts)
        if not text.strip():
            raise EmptyFileError(path, "PDF has no extractable text (a scanned image?); run OCR first")
        if length > section_start:
            sections.append(Section(title=heading, start=min(section_start, length), end=length))
        sections = [s for s in sections if s.end > s.start]

        title = read.title or (first_lines[0] if first_lines else "")
        # The file's creation date is when it was made, not when the work was published: no year.
        meta = DocumentMetadata(
            format=self.name,
            source_path=str(path),
            authors=read.authors,
        )
        return LoadResult(
            documents=[make_document(text=text, title=title, sections=sections, page_starts=page_starts, metadata=meta)]
        )
