"""Find real disagreements between sources: different values of the same kind, for the same drug
and population, stated by different documents.

Method (local, deterministic), over the statements answer/agreement.py judged:

1. **Values.** Every number with a unit in an *eligible* statement (about the question's
   subject, population not contradicting the question's). For a drug question a value counts
   only when its owner (the drug named nearest before it, else the statement's one drug) is a
   drug the question names: in "sertraline 50 mg/day plus clonazepam 0.5 to 1 mg", 0.5 to 1 mg
   is clonazepam's, never sertraline's. When the question names an indication or setting (its
   topic words), a value counts only when its sentence, scope or document title names one of
   them, and not when its heading or label names only other topics ("Dosing in panic disorder"
   for a depression question): a trial of clonazepam in depression says nothing about panic
   disorder.
2. **Units.** "mg/day", "mg per day", "mg daily", "mg once daily" and "mg at bedtime" are one
   unit (mg/day); "mg twice daily" and "mg three times daily" are regimens of their own (500 mg
   three times daily is not set against 875 mg twice daily); g and mcg read as mg; mg/kg and
   mg/kg/day are their own units; durations compare in days.
3. **Kind**, from the words of the value's own clause (back to the previous comma, bracket or
   number, so "started at 0.5 mg ... (dose range 0.5 to 1 mg/day)" holds a starting dose and a
   range) and the words right after it: duration (a time unit; "every 3 days" is an interval);
   equivalent dose ("0.5 mg is equivalent to ..."); dose step ("in 25 to 50 mg steps", "a
   decrease of 0.125 mg", "0.125 mg twice daily every 3 days"); range ("range", "ranged", or a
   low-high dose written per day: "0.5 to 1 mg/day", while "0.25 to 0.5 mg at bedtime" is a
   usual dose); maximum ("maximum", "up to", "not exceed"); titration ("increased to 1 mg",
   "then 100 mg daily"); starting ("start", "initial"); threshold (a comparator, "target");
   else the usual dose. A measure that is neither dose, time nor threshold (a trial's 18% vs
   7%) is never compared, and only the kinds the question asks about are: a starting-dose
   question compares starting doses, a dose question starting, usual, range and maximum doses,
   a taper question steps and intervals, a hold or duration question durations, a threshold
   question thresholds; any other question doses, durations and thresholds.
4. **Pairs.** Two values conflict when they come from different documents, share owner, kind
   (usual doses and ranges count as one kind), unit and population (none named reads as adults), are not compatible (5% tolerance), and
   neither document also states a value compatible with the other's (a source listing "500 mg
   three times daily or 875 mg twice daily" does not contradict one giving 500 mg three times
   daily). Compatible:

   - *ranges* state their bounds, so two ranges with a different bound disagree, nested or
     not: "ranged from 0.5 to 2 mg/day" against "0.5 to 1 mg/day" says the trials went to twice
     the other source's top dose;
   - any other kind disagrees only when the values share nothing: a single value inside the
     other's range, or overlapping ranges ("commonly 0.25 to 0.5 mg" and "0.5 to 1 mg"), agree;
     two different single values (a maximum of 200 against 150 mg/day) do not.

   Durations, thresholds and intervals, and every value of a question naming no drug, say what
   they measure in words, not in a drug's name, so they are compared only when each is the
   only value of its kind in its clause-group (the statement split at ';': a list of thresholds
   "20 for central lines, 50 for surgery, 100 for neurosurgery" is not set against anything),
   neither is a trial's methods or background, and the two clause-groups say the same thing:
   at least half of the smaller one's content words (question words left out) are shared.
5. **Outliers.** Among the usual-dose and range values (pooled) or the starting or maximum
   doses, for one owner and population, from at least two other documents, a value more than
   five times above the others' highest (or below a fifth of their lowest) is reported on its
   own ("one source is far outside the others"), with the others' values, instead of as pairs:
   a planted "100 mg per day" against 0.25 to 2 mg elsewhere is flagged, not stated. Doses in mg
   are judged as daily totals whatever their frequency, a per-dose amount of unstated frequency
   as anything from once to four times a day, so "100 mg" is as far out as "100 mg per day" and
   a per-dose figure is never taken for a low daily total; other units compare only with
   themselves.

Each conflict names what differs with the drug as the question wrote it ("clonazepam dose range
(mg/day)"), and for each side the passage, the value as written, the sentence stating it (as it
stands in the passage, which the answer builder cites) and one line of context (the sentence
with its heading or label, about 160 characters).

Example::

    analysis = analyse(question, index)
    evidence = evidence_for(analysis, passages, index.documents)
    for conflict in find_conflicts(analysis, evidence, passages):
        print(conflict.quantity, [value for _, value, _ in conflict.statements])
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache

from rag_oracle.answer.agreement import Evidence
from rag_oracle.text.analyzer import GENERIC, tokenize_one
from rag_oracle.text.lexicon import drug_mentions, drugs_in
from rag_oracle.text.quantities import quantities
from rag_oracle.types import Hit, QuestionAnalysis


@dataclass(frozen=True)
class FoundConflict:
    """Sources that disagree about one quantity.

    `quantity` is what differs, for a clinician to read ("clonazepam dose range (mg/day)");
    `statements` one side per entry: (passage, value as written, the sentence stating it exactly
    as it stands in the passage); `contexts` the one line shown for each side (the sentence with
    its heading or label, trimmed), aligned with `statements`. An outlier's first side is the
    source far outside the others.

    Example::

        FoundConflict("clonazepam dose range (mg/day)", ((hit_a, "0.5 to 1 mg/day", sentence_a),
                      (hit_b, "0.5 to 2 mg/day", sentence_b)), (context_a, context_b), "range")
    """

    quantity: str
    statements: tuple[tuple[Hit, str, str], ...]
    contexts: tuple[str, ...]
    kind: str = ""  # starting, usual, range, maximum, duration, threshold, step, interval
    outlier: bool = False


DOSE_KINDS = ("starting", "usual", "range", "maximum")
# The kinds each intent compares; any other intent compares _DEFAULT_KINDS.
_INTENT_KINDS: dict[str, tuple[str, ...]] = {
    "start_dose": ("starting",),
    "max_dose": ("maximum",),
    "dose": DOSE_KINDS,
    "taper": ("step", "interval"),
    "hold": ("duration",),
    "duration": ("duration",),
    "threshold": ("threshold",),
}
_DEFAULT_KINDS = (*DOSE_KINDS, "duration", "threshold")
_KIND_ORDER = ("range", "usual", "starting", "maximum", "duration", "threshold", "step", "interval")
# Kinds that say what they measure in words (what lasts, what is counted): compared with care.
_WORDED = frozenset({"duration", "threshold", "interval", "step"})
_UNCOMPARED_ROLES = frozenset({"method", "background", "note"})  # a trial's design is no recommendation

TOLERANCE = 0.05  # relative: 0.5 and 0.52 mg are one value
OUTLIER_FACTOR = 5.0
CONTEXT_CHARS = 160
SAME_WORDS = 0.5  # share of the smaller clause-group's words two worded values must share

_MASS = {"mg": 1.0, "g": 1000.0, "mcg": 0.001}
_TIME = {"minute": 1 / 1440, "hour": 1 / 24, "day": 1.0, "week": 7.0, "month": 30.0, "year": 365.0}
_DOSE_UNITS = frozenset({"mg", "mg/day", "mg/kg", "mg/kg/day", "ml", "unit", "iu", "mmol"})

# How often a per-dose amount is given, read after it: (pattern, unit suffix).
_FREQUENCIES: list[tuple[re.Pattern, str]] = [
    (
        re.compile(
            r"\s*(?:/\s*day|per\s+day|a\s+day|each\s+day|once\s+(?:daily|a\s+day|nightly)|daily|at\s+bedtime|"
            r"at\s+night|nightly)\b",
            re.I,
        ),
        "/day",
    ),
    (
        re.compile(
            r"\s*(?:(?:twice|two\s+times)\s+(?:daily|a\s+day)|bid|q12h|every\s+12\s+(?:hours?|h))\b|\s*b\.i\.d\.", re.I
        ),
        " twice daily",
    ),
    (
        re.compile(r"\s*(?:three\s+times\s+(?:daily|a\s+day)|tid|q8h|every\s+8\s+(?:hours?|h))\b|\s*t\.i\.d\.", re.I),
        " three times daily",
    ),
    (
        re.compile(r"\s*(?:four\s+times\s+(?:daily|a\s+day)|qid|q6h|every\s+6\s+(?:hours?|h))\b|\s*q\.i\.d\.", re.I),
        " four times daily",
    ),
]
_BETWEEN = re.compile(r"\bbetween\s+(\d+(?:[.,]\d+)?)\s+and\s+$", re.I)
_BOUNDARY = re.compile(r"[;,:()\[\]]|\.(?=\s)")
_THRESHOLD = re.compile(
    r"(?:\b(?:below|above|under|over|at least|less than|more than|greater than|fewer than|target|goal|"
    r"threshold|cut-?off|exceeds?|falls? (?:to|below))\b|[<>\u2264\u2265]=?)",
    re.I,
)
# In order: the first cue in the value's clause gives its kind ("increase to a maximum of
# 4 mg/day" is a maximum; "could be increased to 1 mg" a titration target).
_CUES: list[tuple[str, re.Pattern]] = [
    ("equivalence", re.compile(r"\bequivalen\w*|\bequal to\b", re.I)),
    (
        "step",
        re.compile(
            r"\b(?:increments?|steps?|decrements?|increases?|decreases?|reductions?) of\s*$|"
            r"\b(?:increas\w*|decreas\w*|reduc\w*|taper\w*|titrat\w*|lower\w*|rais\w*)\s+(?:\w+\s+)?by\s*$",
            re.I,
        ),
    ),
    ("range", re.compile(r"\brang(?:e|es|ed|ing)\b", re.I)),
    (
        "maximum",
        re.compile(
            r"\b(?:maximum|max|maximal|up to|not (?:to )?exceed\w*|no more than|highest|at most|ceiling|"
            r"upper limit)\b",
            re.I,
        ),
    ),
    (
        "titration",
        re.compile(r"\b(?:increas\w*|rais\w*|titrat\w*|escalat\w*)\s+(?:\w+\s+){0,3}to\s*$|\bthen\b", re.I),
    ),
    ("starting", re.compile(r"\b(?:start\w*|initial\w*|begin\w*|began|initiat\w*|first dose|loading)\b", re.I)),
    ("threshold", _THRESHOLD),
]
_SAID_DAILY = re.compile(r"/\s*d(?:ay)?\b|\bdaily\b|\b(?:per|a|each)\s+day\b", re.I)
# "in 25 to 50 mg steps"; "0.125 mg twice daily every 3 days" (an amount per interval of days: a step).
_AFTER_STEP = re.compile(
    r"^\W*(?:\w+\s+)?(?:steps?|increments?|decrements?)\b|^\s*every\s+(?:\d+|other|few)\s*(?:\w+\s+)?(?:days?|weeks?)\b",
    re.I,
)
_AFTER_EQUIVALENT = re.compile(r"^[^.;,]{0,40}?\b(?:equivalen\w*|equals?)\b", re.I)
_EVERY = re.compile(r"\b(?:every|each|intervals? of|at intervals)\s+(?:\w+\s+)?$", re.I)
_OPENING_LABEL = re.compile(r"^(?P<label>[A-Za-z][^.:;!?\d\n]{0,120}?)\s*:\s+\S")
_WEAK = frozenset(
    tokenize_one(
        "disorder disorders disease condition conditions dosing dose doses adults adult children older "
        "patients treatment therapy oral tablets usual regimen schedule"
    )
)


# Words that say how a value is bounded or used, not what it measures ("below", "at least").
_CUE_WORDS = frozenset(
    tokenize_one(
        "below above under over least less more greater fewer than target goal threshold cutoff exceed exceeds "
        "falls about approximately around up maximum minimum start starting initial usual usually typically"
    )
)


@dataclass(frozen=True)
class _Value:
    """One value of one eligible statement, read for comparison."""

    order: int  # position in the evidence list: passage order, then text order
    hit: Hit
    doc_id: str
    owner: str  # canonical drug name; "" when the question names no drug
    kind: str
    unit: str  # normalised: "mg", "mg/day", "mg twice daily", "time" (days), or the unit as parsed
    low: float  # in the unit's base (mg, days)
    high: float
    text: str  # the value as written
    sentence: str  # the statement as it stands in the passage
    context: str
    population: frozenset[str]
    segment: int  # which clause-group (split at ';') of its statement
    words: frozenset[str]  # that clause-group's content words, question words left out
    role: str
    leads: bool
    sole: bool = True  # the only value of its kind and unit in its clause-group

    @property
    def span(self) -> tuple[float, float]:
        return (self.low, self.high)


def value_kind(sentence: str, start: int, end: int, unit: str, ranged: bool, *, since: int = 0) -> str:
    """The kind of the value at sentence[start:end] (normalised `unit`; `ranged`: a low-high
    value; `since`: where the previous number ends), read from its own clause (module doc, step 3).

    >>> value_kind("Start 0.25 mg twice daily.", 6, 13, "mg twice daily", False)
    'starting'
    """
    before = _clause_before(sentence, start, since)
    if unit == "time":
        return "interval" if _EVERY.search(before) else "duration"
    base = unit.split(" ")[0]
    if base not in _DOSE_UNITS:
        return "threshold" if _THRESHOLD.search(before) else "measure"
    after = sentence[end : end + 60]
    if _AFTER_STEP.match(after):
        return "step"
    if _AFTER_EQUIVALENT.match(after):
        return "equivalence"  # "clonazepam 0.5 mg is commonly considered equivalent to diazepam 10 mg"
    for kind, pattern in _CUES:
        if pattern.search(before):
            return kind
    if ranged and _SAID_DAILY.search(sentence[start:end]):
        return "range"  # a low-high dose written per day ("0.5 to 1 mg/day") states a range
    return "usual"


def _clause_before(sentence: str, start: int, since: int) -> str:
    """The words of the value's own clause before it: back to the previous comma, bracket, colon
    or number (`since`), at most eight, with a trailing space (cues anchor on it)."""
    text = sentence[since:start]
    cut = 0
    for m in _BOUNDARY.finditer(text):
        cut = m.end()
    return " ".join(text[cut:].split()[-8:]) + " "


def _normalise(unit: str, low: float, high: float) -> tuple[str, float, float]:
    if unit in _MASS:
        return "mg", low * _MASS[unit], high * _MASS[unit]
    if unit in _TIME:
        return "time", low * _TIME[unit], high * _TIME[unit]
    return unit, low, high


def _owner(evidence: Evidence, position: int) -> str | None:
    """The drug owning the number at `position` of the statement: the nearest named before it,
    else the statement's only owner or subject."""
    before = [m for m in drug_mentions(evidence.statement.text) if m.end <= position]
    if before:
        return before[-1].name
    for names in (evidence.owners, evidence.subjects):
        if len(names) == 1:
            return next(iter(names))
    return None


def _sentence_in_passage(evidence: Evidence, hit: Hit) -> str:
    """The statement's text as it stands in the passage (a table row's raw line rather than its
    cells joined with their headers), so the answer builder can locate and cite it."""
    text = evidence.statement.text
    if text in hit.chunk.text:
        return text
    a = evidence.statement.start + evidence.offset - hit.chunk.char_start
    b = evidence.statement.end + evidence.offset - hit.chunk.char_start
    if 0 <= a < b <= len(hit.chunk.text):
        return hit.chunk.text[a:b]
    return text


def context_line(quote: str, value: str, limit: int = CONTEXT_CHARS) -> str:
    """`quote` on one line, trimmed at word boundaries to about `limit` characters around `value`.

    >>> context_line("Dosing in panic disorder (adults). Start 0.25 mg twice daily.", "0.25 mg", 40)
    '…disorder (adults). Start 0.25 mg twice…'
    """
    line = " ".join(quote.split())
    if len(line) <= limit:
        return line
    pos = max(line.find(value), 0)
    start = max(0, min(pos - limit // 3, len(line) - limit))
    if start:
        start = line.rfind(" ", 0, start + 1) + 1
    end = min(len(line), start + limit)
    if end < len(line):
        space = line.rfind(" ", start, end)
        end = space if space > pos + len(value) else end
    return ("\u2026" if start else "") + line[start:end].strip() + ("\u2026" if end < len(line) else "")


@lru_cache(maxsize=8192)
def _topic_words(text: str) -> frozenset[str]:
    # Asked of the same headings and labels by every question: memoised.
    drug_words = set(tokenize_one(" ".join(m.surface for m in drug_mentions(text))))
    return frozenset(
        {w for w in tokenize_one(text) if w not in GENERIC and w not in _WEAK and not w.isdigit()} - drug_words
    )


def _label_topics(evidence: Evidence) -> set[str]:
    """The topic words of the statement's own headings and labels (an indication, 'panic'),
    including a label opening the sentence itself ("Panic disorder, PTSD and social anxiety
    disorder: start 25 mg")."""
    words: set[str] = set()
    for part in evidence.statement.labels:
        if part.kind in ("heading", "label", "lead_in"):
            words |= _topic_words(part.text)
    opening = _OPENING_LABEL.match(evidence.statement.text) if evidence.statement.kind == "sentence" else None
    if opening:
        words |= _topic_words(opening.group("label"))
    return words


def _about_the_topic(evidence: Evidence, hit: Hit, topics: set[str]) -> bool:
    """Whether the statement is about what the question names besides its drug (module doc, 1)."""
    if not topics:
        return True
    labels = _label_topics(evidence)
    if labels and not labels & topics:
        return False  # under a heading or label about another indication
    words = set(tokenize_one(" ".join([evidence.statement.text, evidence.statement.scope_text, hit.document.title])))
    return bool(words & topics)


def _words(text: str, ignore: set[str]) -> frozenset[str]:
    """The content words of `text` with its numbers and units taken out."""
    return frozenset(w for w in _unquantified_words(text) if w not in ignore)


@lru_cache(maxsize=16384)
def _unquantified_words(text: str) -> tuple[str, ...]:
    """`_words` before the question's own words are taken out; a property of the text: memoised."""
    for q in quantities(text):
        text = text.replace(q.text, " ")
    return tuple(w for w in tokenize_one(text) if w not in _CUE_WORDS and len(w) > 1 and not re.match(r"[\d.]", w))


def _segments(sentence: str) -> list[tuple[int, int]]:
    out, pos = [], 0
    for m in re.finditer(r";", sentence):
        out.append((pos, m.start()))
        pos = m.end()
    out.append((pos, len(sentence)))
    return out


def _values(analysis: QuestionAnalysis, evidence: list[Evidence], passages: list[Hit]) -> list[_Value]:
    asked = set(analysis.drugs)
    topics = set(analysis.topic_terms)
    asked_population = frozenset(analysis.population)
    ignore = set(GENERIC) | topics | set(tokenize_one(" ".join(analysis.subject)))
    out: list[_Value] = []
    for order, ev in enumerate(evidence):
        if not ev.eligible or not 0 <= ev.hit_index < len(passages):
            continue
        hit = passages[ev.hit_index]
        if not _about_the_topic(ev, hit, topics):
            continue
        sentence = ev.statement.text
        in_passage = _sentence_in_passage(ev, hit)
        population = ev.population or frozenset({"adults"})
        if asked_population and not population & asked_population:
            continue  # about adults in general, not the population the question names
        segments = _segments(sentence)
        segment_words = [_words(sentence[a:b], ignore) for a, b in segments]
        found: list[_Value] = []
        cursor = 0
        for q in quantities(sentence):
            start = sentence.find(q.text, cursor)
            if start < 0:
                continue
            since, end = cursor, start + len(q.text)
            low, high = q.low, q.high
            between = _BETWEEN.search(sentence[since:start])
            if between and low == high:  # "between 0.5 and 1 mg"
                low = float(between.group(1).replace(",", "."))
                start = since + between.start(1)
            unit, n_low, n_high = _normalise(q.unit, low, high)
            if q.unit in _MASS:
                for pattern, suffix in _FREQUENCIES:
                    m = pattern.match(sentence, end)
                    if m:
                        unit, end = ("mg/day" if suffix == "/day" else f"mg{suffix}"), m.end()
                        break
            cursor = end
            if asked:
                owner = _owner(ev, start)
                if owner is None or owner not in asked:
                    continue
            else:
                before = [m for m in drug_mentions(sentence) if m.end <= start]
                owner = before[-1].name if before else ""
            text = sentence[start:end]
            segment = next(i for i, (a, b) in enumerate(segments) if a <= start <= b)
            found.append(
                _Value(
                    order=order,
                    hit=hit,
                    doc_id=hit.chunk.doc_id,
                    owner=owner,
                    kind=value_kind(sentence, start, end, unit, n_low != n_high, since=since),
                    unit=unit,
                    low=n_low,
                    high=n_high,
                    text=text,
                    sentence=in_passage,
                    context=context_line(ev.quote, text),
                    population=population,
                    segment=segment,
                    words=segment_words[segment],
                    role=ev.role,
                    leads=ev.leads,
                )
            )
        for v in found:
            alone = sum(1 for o in found if (o.segment, o.kind, o.unit) == (v.segment, v.kind, v.unit)) == 1
            out.append(v if alone else replace(v, sole=False))
    return out


def _same(a: float, b: float) -> bool:
    return abs(a - b) <= TOLERANCE * max(abs(a), abs(b))


def _inside(x: float, low: float, high: float) -> bool:
    return low - TOLERANCE * abs(low) <= x <= high + TOLERANCE * abs(high)


def compatible(kind: str, a: tuple[float, float], b: tuple[float, float]) -> bool:
    """Whether two values (low, high) of one kind agree (module doc, step 4).

    >>> compatible("range", (0.5, 1.0), (0.5, 2.0)), compatible("usual", (0.7, 0.7), (0.5, 1.0))
    (False, True)
    """
    (al, ah), (bl, bh) = a, b
    if _same(al, bl) and _same(ah, bh):
        return True
    single_a, single_b = _same(al, ah), _same(bl, bh)
    if single_a and single_b:
        return False
    if single_a:
        return _inside(al, bl, bh)
    if single_b:
        return _inside(bl, al, ah)
    if kind == "range":
        return False  # a range states its bounds; a different bound disagrees
    return al <= bh * (1 + TOLERANCE) and bl <= ah * (1 + TOLERANCE)


def _worded(value: _Value) -> bool:
    return value.kind in _WORDED or not value.owner


def _comparable(a: _Value, b: _Value) -> bool:
    """Whether two values of one group are about the same thing (module doc, step 4)."""
    if a.doc_id == b.doc_id:
        return False
    if not (_worded(a) or _worded(b)):
        return True
    if not (a.sole and b.sole) or a.role in _UNCOMPARED_ROLES or b.role in _UNCOMPARED_ROLES:
        return False
    shared = a.words & b.words
    return bool(shared) and len(shared) >= SAME_WORDS * min(len(a.words), len(b.words))


_KIND_WORDS = {
    "starting": "starting dose",
    "usual": "dose",
    "range": "dose range",
    "maximum": "maximum dose",
    "step": "dose step",
    "interval": "interval between dose changes",
    "duration": "duration",
    "threshold": "threshold",
    "titration": "titrated dose",
    "equivalence": "equivalent dose",
}


def quantity_label(name: str, kind: str, unit: str) -> str:
    """What differs, as a clinician reads it: "clonazepam dose range (mg/day)".

    >>> quantity_label("clonazepam", "usual", "mg/day")
    'clonazepam daily dose (mg/day)'
    """
    words = _KIND_WORDS.get(kind, "value")
    if unit in ("mg/day", "mg/kg/day") and kind in ("usual", "maximum"):
        words = words.replace("dose", "daily dose")
    shown = "" if unit == "time" else f" ({unit})"
    return f"{name} {words}{shown}".strip()


def _surface(analysis: QuestionAnalysis, owner: str) -> str:
    """The drug as the question wrote it (`owner` canonical), else the question's subject words."""
    if not owner:
        return " ".join(analysis.subject)
    for written in analysis.subject:
        if owner in drugs_in(written):
            return written
    return owner


def _side(value: _Value) -> tuple[Hit, str, str]:
    return (value.hit, value.text, value.sentence)


def _shown_first(value: _Value) -> tuple[bool, int]:
    """Which statement shows a value: a leading one (recommendation, conclusion, key point) before
    a trial's methods or results, then the first in passage order."""
    return (not value.leads, value.order)


def _group_key(value: _Value) -> tuple[str, str, frozenset[str]]:
    return (value.owner, value.unit, value.population)


_TIMES_A_DAY = {"mg/day": 1, "mg twice daily": 2, "mg three times daily": 3, "mg four times daily": 4}
_UNKNOWN_TIMES = 4  # a per-dose amount of unstated frequency: taken up to four times a day


def daily_bounds(value_unit: str, low: float, high: float) -> tuple[float, float] | None:
    """Bounds on the daily total of a dose in mg (a per-dose "mg" of unstated frequency: from once to
    four times a day); None for a unit that is no amount of drug in mg.

    >>> daily_bounds("mg twice daily", 5, 5), daily_bounds("mg", 0.5, 1)
    ((10, 10), (0.5, 4))
    """
    if value_unit == "mg":
        return (low, high * _UNKNOWN_TIMES)
    times = _TIMES_A_DAY.get(value_unit)
    return None if times is None else (low * times, high * times)


def _pool_scale(value: _Value) -> tuple[str, float, float]:
    """The scale outliers are judged on: mass doses as daily totals (any frequency), else the unit."""
    daily = daily_bounds(value.unit, value.low, value.high)
    return ("mg daily total", *daily) if daily else (value.unit, value.low, value.high)


def _outliers(values: list[_Value], analysis: QuestionAnalysis) -> tuple[list[FoundConflict], set[int]]:
    """Sources far outside the others (module doc, step 5), and the ids of the values they cover."""
    pools: dict[tuple, list[tuple[_Value, float, float]]] = {}
    for v in values:
        if v.kind in DOSE_KINDS:
            pool = "usual" if v.kind in ("usual", "range") else v.kind
            scale, low, high = _pool_scale(v)
            pools.setdefault((v.owner, scale, v.population, pool), []).append((v, low, high))
    found: list[FoundConflict] = []
    covered: set[int] = set()
    for (owner, _scale, _population, pool), members in pools.items():
        for doc in dict.fromkeys(v.doc_id for v, _, _ in members):
            others = [m for m in members if m[0].doc_id != doc]
            if len({v.doc_id for v, _, _ in others}) < 2:
                continue
            low, high = min(lo for _, lo, _ in others), max(hi for _, _, hi in others)
            far = [
                (v, lo, hi)
                for v, lo, hi in members
                if v.doc_id == doc and (lo > OUTLIER_FACTOR * high or hi * OUTLIER_FACTOR < low)
            ]
            if not far:
                continue
            odd, odd_low, _ = min(far, key=lambda m: _shown_first(m[0]))
            above = odd_low > high
            by_doc: dict[str, list[tuple[_Value, float, float]]] = {}
            for m in others:
                by_doc.setdefault(m[0].doc_id, []).append(m)
            # Each other source once, by its value nearest the outlier (its highest when the outlier is above).
            rest = [
                (max(ms, key=lambda m: (m[2], -m[0].order)) if above else min(ms, key=lambda m: (m[1], m[0].order)))[0]
                for ms in by_doc.values()
            ]
            sides = [odd, *sorted(rest, key=lambda v: v.order)[:3]]
            label = f"{quantity_label(_surface(analysis, owner), pool, odd.unit)}: one source is far outside the others"
            found.append(
                FoundConflict(label, tuple(_side(v) for v in sides), tuple(v.context for v in sides), pool, True)
            )
            covered |= {id(v) for v, _, _ in far}
    return found, covered


def _group_kind(kind: str) -> str:
    """Usual doses and ranges are compared with each other (a usual 100 mg/day against a range of
    0.5 to 1 mg/day disagrees); every other kind only with itself."""
    return "usual" if kind == "range" else kind


def _pair_kind(a: _Value, b: _Value) -> str:
    """The rule two values are compared by: bounds for two ranges, overlap otherwise."""
    return "range" if a.kind == b.kind == "range" else _group_kind(a.kind)


def _pairs(values: list[_Value], analysis: QuestionAnalysis) -> list[FoundConflict]:
    """Two documents giving incompatible values of one group (module doc, step 4)."""
    groups: dict[tuple, list[_Value]] = {}
    for v in values:
        groups.setdefault((*_group_key(v), _group_kind(v.kind)), []).append(v)
    ranked: list[tuple[tuple[int, int], FoundConflict]] = []
    for (owner, unit, _population, _kind), members in groups.items():
        by_doc: dict[str, list[_Value]] = {}
        for v in members:
            by_doc.setdefault(v.doc_id, []).append(v)
        chosen: dict[tuple, tuple[_Value, _Value]] = {}  # one pair of statements per pair of values
        for a in members:
            for b in members:
                if a.order >= b.order or not _comparable(a, b):
                    continue
                kind = _pair_kind(a, b)
                if compatible(kind, a.span, b.span):
                    continue
                # A source that also states the other's value (as the same kind) lists alternatives:
                # it does not disagree.
                if any(x.kind == a.kind and compatible(_pair_kind(x, b), x.span, b.span) for x in by_doc[a.doc_id]):
                    continue
                if any(y.kind == b.kind and compatible(_pair_kind(a, y), a.span, y.span) for y in by_doc[b.doc_id]):
                    continue
                key = (kind, *sorted([_rounded(a.span), _rounded(b.span)]))
                best = chosen.get(key)
                if best is None or _pair_rank(a, b) < _pair_rank(*best):
                    chosen[key] = (a, b)
        for (kind, *_spans), (a, b) in chosen.items():
            label = quantity_label(_surface(analysis, owner), kind, unit)
            rank = _KIND_ORDER.index(kind) if kind in _KIND_ORDER else len(_KIND_ORDER)
            conflict = FoundConflict(label, (_side(a), _side(b)), (a.context, b.context), kind)
            ranked.append(((rank, a.order), conflict))
    return [c for _, c in sorted(ranked, key=lambda p: p[0])]


def _rounded(span: tuple[float, float]) -> tuple[float, float]:
    return (round(span[0], 6), round(span[1], 6))


def _pair_rank(a: _Value, b: _Value) -> tuple[int, int]:
    return (int(not a.leads) + int(not b.leads), a.order + b.order)


def find_conflicts(analysis: QuestionAnalysis, evidence: list[Evidence], passages: list[Hit]) -> list[FoundConflict]:
    """The disagreements between documents among `evidence` (answer/agreement.py `evidence_for`
    over `passages`; `Evidence.hit_index` indexes `passages`): outliers first, then pairs, the
    kinds the question asks about in order (range, usual, starting, maximum, ...). See the
    module docstring for the rules."""
    kinds = _INTENT_KINDS.get(analysis.intent, _DEFAULT_KINDS)
    values = [v for v in _values(analysis, evidence, passages) if v.kind in kinds]
    found, covered = _outliers(values, analysis)
    return found + _pairs([v for v in values if id(v) not in covered], analysis)
