"""Related questions: follow-ups the retrieved passages can answer (no LLM needed).

The subject is the question's most specific word that also names a retrieved document
(a drug or condition in a title), else its most specific word overall. Facets (dosing, older
adults, pregnancy, kidney function, stopping, safety, monitoring, interactions, alternatives)
are offered when the passages discuss them and the question did not already ask about them;
when fewer than three apply, the list is topped up with the remaining facets in order.
"""

from __future__ import annotations

import re

from rag_oracle.text.analyzer import GENERIC, TermStatistics, surface_form, tokenize_one
from rag_oracle.types import Hit

FACETS: list[tuple[str, re.Pattern, str]] = [
    ("dosing", re.compile(r"\b(?:dose|dosing|dosage|mg)\b", re.I), "What is the usual dose of {s}?"),
    (
        "older",
        re.compile(r"\b(?:older adults?|elderly|aged 65|over 65|frail)\b", re.I),
        "How does {s} management change in older adults?",
    ),
    (
        "pregnancy",
        re.compile(r"\bpregnan\w*|breastfeed\w*|lactation\b", re.I),
        "What should be considered with {s} in pregnancy?",
    ),
    (
        "renal",
        re.compile(r"\b(?:renal|kidney|creatinine clearance|crcl)\b", re.I),
        "Does {s} need adjusting for kidney function?",
    ),
    (
        "stopping",
        re.compile(r"\b(?:taper\w*|discontinu\w*|withdraw\w*|stop\w*)\b", re.I),
        "How should {s} be stopped or tapered?",
    ),
    (
        "safety",
        re.compile(r"\b(?:risk|adverse|side effects?|warning|contraindicat\w*)\b", re.I),
        "What are the main safety concerns with {s}?",
    ),
    ("monitoring", re.compile(r"\bmonitor\w*\b", re.I), "What monitoring is needed with {s}?"),
    (
        "interactions",
        re.compile(r"\b(?:interact\w*|concomitant|combined with)\b", re.I),
        "Which interactions matter with {s}?",
    ),
    (
        "alternatives",
        re.compile(r"\b(?:alternative\w*|instead|first[- ]line|second[- ]line)\b", re.I),
        "What are the alternatives to {s}?",
    ),
]


def related_questions(question: str, passages: list[Hit], statistics: TermStatistics, *, limit: int = 5) -> list[str]:
    terms = [t for t in set(tokenize_one(question)) - GENERIC if statistics.document_frequency(t) > 0]
    if not terms or not passages:
        return []
    title_words = set(tokenize_one(" ".join(h.document.title for h in passages)))
    in_titles = [t for t in terms if t in title_words]
    subject = min(in_titles or terms, key=lambda t: (statistics.document_frequency(t), t))
    name = surface_form(question, subject)
    text = " ".join(h.chunk.text for h in passages)
    unasked = [(pattern, template) for _, pattern, template in FACETS if not pattern.search(question)]
    # Facets the passages discuss come first; others top the list up to three.
    out = [template.format(s=name) for pattern, template in unasked if pattern.search(text)][:limit]
    for _, template in unasked:
        if len(out) >= 3:
            break
        candidate = template.format(s=name)
        if candidate not in out:
            out.append(candidate)
    return out
