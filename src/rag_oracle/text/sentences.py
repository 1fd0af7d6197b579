"""Sentence boundaries as character spans, tuned for biomedical prose.

Why not a library: pysbd is unmaintained since 2021 and about 100x slower on abstracts, and
NLTK's punkt needs a model download, which these machines cannot do at run time. The rules
below split on terminal punctuation followed by a capital letter, digit or bracket, and never
after a known abbreviation ("e.g.", "et al.", "Fig.", "approx.", "vs.") or a decimal point.
Units ("10 mg.") are not abbreviations here: in clinical text they end sentences far more often.
Blank lines and list items always end a sentence.
"""

from __future__ import annotations

import re

_ABBREVIATIONS = {
    "e.g",
    "i.e",
    "et al",
    "al",
    "fig",
    "figs",
    "vs",
    "approx",
    "ca",
    "cf",
    "dr",
    "mr",
    "mrs",
    "ms",
    "prof",
    "nos",
    "vol",
    "eq",
    "ref",
    "refs",
    "resp",
    "incl",
    "st",
    "jr",
    "sr",
    "inc",
    "ltd",
    "co",
    "univ",
    "dept",
    "tab",
    "suppl",
    "u.s",
    "u.k",
    "b.i.d",
    "t.i.d",
    "q.i.d",
    "p.o",
    "i.v",
    "i.m",
    "s.c",
    "q.d",
    "h.s",
    "p.r.n",
}

# A candidate end: . ! ? (optionally followed by a closing quote/bracket), then whitespace,
# then something that can start a sentence.
_CANDIDATE = re.compile(r"""[.!?]["')\]]*\s+(?=["'(\[]?[A-Z0-9])""")
_HARD_BREAK = re.compile(r"\n\s*\n|\n(?=\s*(?:[-*\u2022]|\d+[.)])\s)")
_WORD_BEFORE = re.compile(r"([A-Za-z][A-Za-z.]*)\.$")


def _is_abbreviation(text: str, dot: int) -> bool:
    """True when the '.' at index `dot` ends an abbreviation or initial rather than a sentence."""
    match = _WORD_BEFORE.search(text, max(0, dot - 12), dot + 1)
    if not match:
        return False
    word = match.group(1).lower().rstrip(".")
    if word in _ABBREVIATIONS:
        return True
    # Single capital initial ("J. Smith") but not a sentence ending in a capital word like "A."
    return len(word) == 1 and word.isalpha() and text[match.start(1)].isupper() and dot >= 2


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Spans (absolute offsets) of the sentences in text[start:end], whitespace trimmed.

    >>> t = "Dose is 0.5 mg. See Fig. 2 for details. Done"
    >>> [t[a:b] for a, b in sentence_spans(t)]
    ['Dose is 0.5 mg.', 'See Fig. 2 for details.', 'Done']
    """
    end = len(text) if end is None else end
    cuts: list[int] = []
    for match in _HARD_BREAK.finditer(text, start, end):
        cuts.append(match.start())
    for match in _CANDIDATE.finditer(text, start, end):
        dot = match.start()
        if text[dot] == "." and _is_abbreviation(text, dot):
            continue
        cuts.append(match.end() - len(match.group(0)) + len(match.group(0).rstrip()))
    cuts = sorted(set(cuts))
    spans: list[tuple[int, int]] = []
    prev = start
    for cut in [*cuts, end]:
        a, b = _trim(text, prev, cut)
        if b > a:
            spans.append((a, b))
        prev = cut
    return spans


def _trim(text: str, a: int, b: int) -> tuple[int, int]:
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    return a, b
