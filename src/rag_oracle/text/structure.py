"""Statements with their scope: what each sentence of a document is *about*, as the document says it.

A sentence read alone can mislead. In

    - Escitalopram: start 10 mg once daily; may increase to 20 mg/day after at least one week.
      For older adults, 10 mg/day is the usual recommended dose.

the second sentence never names its drug; in "Dosing in seizure disorders. Adults: the initial
dose ... The maximum recommended dose is 20 mg/day. Children up to 10 years or 30 kg: ..." the
maximum belongs to adults with seizures, not to panic disorder and not to children. So every
statement keeps the scope it sits in, innermost last, each part with its offsets in the text:

- ``section``: the section title (Document.sections; a title the loader took out of the text has
  no offsets);
- ``lead_in``: a paragraph that introduces a list or a table ("For intermediate or high
  probability:", "The following doses are ... equivalent to diazepam 10 mg:");
- ``heading``: a paragraph's or list item's opening words when they are a heading, not a
  sentence ("Boxed warning.", "Dosing in panic disorder (adults).", "Older adults.");
- ``label``: a list item's or sentence's label before a colon ("Escitalopram:", "Adults:",
  "Children up to 10 years or 30 kg:", "Day -1:"); it holds until the next label in the block;
- ``columns``: a table's header row, for each of its rows.

Tables (Markdown, and PDF tables as the PDF loader writes them: one ``| cell | cell |`` line per
row, header first) become one statement per row, quoted with its column headers:
"Item: Thrombocytopenia; 2 points: Fall > 50% and nadir >= 20 x 10^9/L; ...".

`Statement.quote` is what an answer shows: the sentence with its innermost heading or label,
verbatim ("Escitalopram: … For older adults, 10 mg/day is the usual recommended dose."), so a
reader sees what the number is about. A sentence that opens with a dangling reference ("That
schedule", "It", "These") records the sentence it depends on (`antecedent`), and is quoted only
together with it.

Statements are computed from the stored document text, so every index, old or new, has them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from rag_oracle.text.sentences import sentence_spans

SCOPE_KINDS = ("section", "lead_in", "heading", "label", "columns")


@dataclass(frozen=True)
class ScopePart:
    kind: str  # one of SCOPE_KINDS
    text: str  # as written, without its trailing ':' or '.'
    start: int | None = None  # offsets in the document text; None when the text is not in it
    end: int | None = None


@dataclass(frozen=True)
class Statement:
    """One sentence (or table row) of a document, with the scope it belongs to."""

    index: int  # position among the document's statements
    text: str  # the sentence as written (a table row: its cells joined with their headers)
    start: int  # offsets of the sentence (or row) in the document text
    end: int
    section: str
    scope: tuple[ScopePart, ...] = ()  # outermost first
    kind: str = "sentence"  # "sentence" or "row"
    antecedent: int | None = None  # index of the statement a dangling opener depends on
    lead_in_of_block: bool = field(default=False)  # a paragraph that introduces a list or table

    @property
    def labels(self) -> tuple[ScopePart, ...]:
        """The scope inside the section: lead-ins, headings, labels, columns."""
        return tuple(p for p in self.scope if p.kind != "section")

    @property
    def scope_text(self) -> str:
        """Every scope part's text, outermost first (what the statement is about, in words)."""
        return " ".join(p.text for p in self.scope)

    @property
    def innermost(self) -> ScopePart | None:
        inner = [p for p in self.scope if p.kind in ("heading", "label")]
        return inner[-1] if inner else None

    def quote(self, document_text: str) -> str:
        """The sentence as an answer shows it: with its innermost heading or label, verbatim.

        Contiguous text is quoted as it stands ("Dosing in panic disorder (adults). Start 0.25 mg
        twice daily."); a heading further up is joined with an ellipsis.
        """
        if self.kind == "row":
            return self.text
        part = self.innermost
        if part is None or part.start is None or part.end is None or part.start >= self.start:
            return self.text
        if part.text.lower() in self.text.lower():
            return self.text  # the sentence names its own scope ("Citalopram causes ...")
        between = document_text[part.end : self.start]
        if not between.strip(" :.-\u2013\u2014"):
            return document_text[part.start : self.end]
        return f"{document_text[part.start : part.end].rstrip(' :.')}: \u2026 {self.text}"

    def spans(self) -> list[tuple[int, int]]:
        """Offsets of the sentence and of each scope part that is in the text (for highlighting)."""
        out = [(p.start, p.end) for p in self.scope if p.start is not None and p.end is not None]
        return [*out, (self.start, self.end)]


# A label before a colon: short, no sentence punctuation inside ("Escitalopram:", "Day -1:",
# "Children up to 10 years or 30 kg:"). Ratios ("1:1") and times ("10:30") are not labels.
_LABEL = re.compile(r"(?P<label>[A-Za-z][^.:;!?\n]{0,98}?)\s*:\s+(?=\S)")
_BULLET = re.compile(r"(?:[-*\u2022\u25aa]|\d+[.)])\s+")
_AUXILIARY = re.compile(
    r"\b(?:is|are|was|were|be|been|being|has|have|had|do|does|did|may|might|can|could|should|would|will|"
    r"shall|must|need|needs|causes?|increases?|reduces?|occurs?|includes?|takes?|gives?|makes?|shows?)\b",
    re.I,
)
_IMPERATIVE = re.compile(
    r"^(?:start|stop|avoid|use|give|reduce|increase|decrease|check|monitor|consider|do|continue|switch|review|"
    r"hold|restart|resume|prescribe|offer|taper|repeat|measure|limit|reserve|bridge|treat|refer|ask|prefer|"
    r"choose|add|keep|allow|aim)\b",
    re.I,
)
_DANGLING = re.compile(
    r"^(?:it|this|these|those|they|that|such|both|either|neither|the latter|the former|however|thus|therefore|"
    r"then|otherwise|in (?:this|that|these) (?:case|cases|situation|situations))\b",
    re.I,
)
_NUMBER = re.compile(r"\d")
_VERB_LIKE = re.compile(r"\b[a-z]{3,}(?:es|ed)\b")
_PLURALS = frozenset(
    "doses cases diseases types phases courses sizes times scores classes lines rates sites routes ranges "
    "schedules measures outcomes syndromes disorders issues tables notes".split()
)
_TABLE_SEPARATOR = re.compile(r"^\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)*\|?$")


def is_heading_like(text: str) -> bool:
    """Whether `text` (a paragraph's opening 'sentence') is a heading rather than a statement:
    at most six words, no number, no verb-like word, not an imperative ("Boxed warning.",
    "Older adults.", "Dosing in panic disorder (adults).")."""
    body = text.strip().rstrip(".:")
    words = body.split()
    return (
        0 < len(words) <= 6
        and not _NUMBER.search(body)
        and not _AUXILIARY.search(body)
        and not _IMPERATIVE.match(body)
        and body[:1].isupper()
    )


def is_dangling(text: str) -> bool:
    """Whether a sentence opens with a reference to something said before it ("That schedule ...")."""
    return bool(_DANGLING.match(text.strip()))


def _label_at(text: str, start: int, end: int) -> tuple[int, int] | None:
    """Offsets of a label at text[start:end]'s start, if there is one (at most twelve words, no verb)."""
    m = _LABEL.match(text, start, end)
    if not m:
        return None
    label = m.group("label")
    if _AUXILIARY.search(label) or any(w not in _PLURALS for w in _VERB_LIKE.findall(label)):
        return None  # "Amoxicillin is first line ...:", "Product labelling ... describes a schedule:" are clauses
    if len(label.split()) > 12 or (re.search(r"\d\s*$", label) and re.match(r"\d", text[m.end() :])):
        return None
    return m.start("label"), m.end("label")


def _cells(line: str, offset: int) -> list[tuple[str, int, int]]:
    """(cell text, start, end) of one `| a | b |` row."""
    out = []
    body = line.strip()
    lead = line.find(body)
    body_start = offset + lead
    inner = body[1:] if body.startswith("|") else body
    pos = body_start + (1 if body.startswith("|") else 0)
    parts = inner.split("|")
    if parts and not parts[-1].strip():
        parts = parts[:-1]
    for part in parts:
        stripped = part.strip()
        a = pos + (part.find(stripped) if stripped else 0)
        out.append((stripped, a, a + len(stripped)))
        pos += len(part) + 1
    return out


class _Builder:
    def __init__(self, text: str) -> None:
        self.text = text
        self.out: list[Statement] = []

    def add(self, text, start, end, section, scope, kind="sentence", depends=False, lead_in=False) -> int:
        antecedent = None
        if depends and self.out and self.out[-1].end <= start:
            antecedent = self.out[-1].index
        parts = tuple(p for p in scope if p.text)
        statement = Statement(
            len(self.out), text, start, end, section, parts, kind, antecedent, lead_in_of_block=lead_in
        )
        self.out.append(statement)
        return statement.index


def _blocks(text: str, start: int, end: int) -> list[tuple[int, int]]:
    out, pos = [], start
    for m in re.finditer(r"\n[ \t]*\n", text[start:end]):
        out.append((pos, start + m.start()))
        pos = start + m.end()
    out.append((pos, end))
    return [(a, b) for a, b in out if text[a:b].strip()]


def _lines(text: str, a: int, b: int) -> list[tuple[int, int]]:
    out, pos = [], a
    for m in re.finditer(r"\n", text[a:b]):
        out.append((pos, a + m.start()))
        pos = a + m.end()
    out.append((pos, b))
    return [(x, y) for x, y in out if text[x:y].strip()]


def _table(builder: _Builder, lines, section_scope, lead) -> None:
    text = builder.text
    rows = [(a, b) for a, b in lines if not _TABLE_SEPARATOR.match(text[a:b].strip())]
    if not rows:
        return
    header = _cells(text[rows[0][0] : rows[0][1]], rows[0][0])
    header_part = ScopePart("columns", " | ".join(c for c, _, _ in header), rows[0][0], rows[0][1])
    for a, b in rows[1:]:
        cells = _cells(text[a:b], a)
        pieces = []
        for i, (cell, _, _) in enumerate(cells):
            name = header[i][0] if i < len(header) else ""
            if cell:
                pieces.append(f"{name}: {cell}" if name else cell)
        if pieces:
            scope = [*section_scope, *([lead] if lead else []), header_part]
            builder.add("; ".join(pieces) + ".", a, b, section_scope[0].text if section_scope else "", scope, "row")


def _prose(builder: _Builder, a: int, b: int, section: str, outer: list[ScopePart], *, list_item: bool) -> None:
    """The sentences of one paragraph or list item, with its heading and labels."""
    text = builder.text
    if list_item:
        bullet = _BULLET.match(text, a, b)
        a = bullet.end() if bullet else a
    spans = sentence_spans(text, a, b)
    heading: ScopePart | None = None
    label: ScopePart | None = None
    first = True  # the first statement of the block: a dangling opener here has no antecedent in it
    for i, (s, e) in enumerate(spans):
        sentence = text[s:e]
        if i == 0 and len(spans) > 1 and sentence.endswith(".") and is_heading_like(sentence):
            heading = ScopePart("heading", sentence.rstrip(".").strip(), s, e - 1)
            continue
        found = _label_at(text, s, e)
        if found:
            label = ScopePart("label", text[found[0] : found[1]], found[0], found[1])
        scope = [*outer, *([heading] if heading else []), *([label] if label else [])]
        builder.add(sentence, s, e, section, scope, depends=is_dangling(sentence) and not first)
        first = False


@lru_cache(maxsize=256)
def _statements(text: str, sections: tuple[tuple[str, int, int], ...]) -> tuple[Statement, ...]:
    builder = _Builder(text)
    for title, start, end in sections or (("", 0, len(text)),):
        section_scope = [ScopePart("section", title)] if title else [ScopePart("section", "")]
        lead: ScopePart | None = None
        listed = False
        for a, b in _blocks(text, start, end):
            # A one-line heading paragraph ("Apixaban, rivaroxaban and edoxaban", bold in the source)
            # heads the lists and tables after it; the first paragraph of prose after a list ends it.
            block = text[a:b].strip()
            if "\n" not in block and not block.endswith((".", ":", "?", "!", ";")) and is_heading_like(block):
                at = a + text[a:b].find(block)
                section_scope = [*section_scope[:1], ScopePart("heading", block, at, at + len(block))]
                lead, listed = None, False
                continue
            first_line = text[a : text.find("\n", a) if "\n" in text[a:b] else b].strip()
            is_list = bool(_BULLET.match(first_line)) or first_line.startswith("|")
            if len(section_scope) > 1 and not is_list and listed:
                section_scope = section_scope[:1]  # prose after the heading's list: the heading is over
            listed = listed or is_list
            # A lead-in holds over the list or table that follows it, blank lines between items included.
            lines = _lines(text, a, b)
            first = text[lines[0][0] : lines[0][1]].strip()
            if first.startswith("|") and len(lines) >= 2:
                _table(builder, lines, section_scope, lead)
                lead = None
                continue
            if _BULLET.match(first):
                items: list[tuple[int, int]] = []
                for x, y in lines:  # a line without a bullet continues the item above it
                    if _BULLET.match(text, x) or not items:
                        items.append((x, y))
                    else:
                        items[-1] = (items[-1][0], y)
                for x, y in items:
                    _prose(builder, x, y, title, [*section_scope, *([lead] if lead else [])], list_item=True)
                continue
            body = text[a:b].rstrip()
            if body.endswith(":"):
                # A paragraph introducing what follows; its last sentence is the lead-in.
                spans = sentence_spans(text, a, b)
                s, e = spans[-1]
                if len(spans) > 1:
                    _prose(builder, a, spans[-2][1], title, section_scope, list_item=False)
                # A verbless lead-in ("High intensity (LDL-C lowered by 50 percent or more):") is a heading.
                words = text[s:e].rstrip(":").strip()
                kind = "heading" if len(words.split()) <= 12 and not _AUXILIARY.search(words) else "lead_in"
                lead = ScopePart(kind, words, s, e - 1)
                builder.add(text[s:e], s, e, title, section_scope, lead_in=True)
                continue
            lead = None
            _prose(builder, a, b, title, section_scope, list_item=False)
    return tuple(builder.out)


def document_statements(document) -> tuple[Statement, ...]:
    """Every statement of `document` (a `Document`), in text order; memoised per text."""
    sections = tuple((s.title, s.start, s.end) for s in document.sections)
    return _statements(document.text, sections)


def statements_between(document, start: int, end: int) -> list[Statement]:
    """The statements lying inside document.text[start:end] (a chunk's span)."""
    return [s for s in document_statements(document) if s.start >= start and s.end <= end]
