"""Does a passage support a sentence? A local, deterministic check (no model, no network).

A sentence is *supported* by the passages it cites when
1. lexical coverage: at least `min_coverage` (default 0.6) of the sentence's content words
   (lower-cased, stopwords removed, Snowball-stemmed, as for BM25) occur in the cited passages, and
2. numeric consistency: every number with a unit in the sentence (dose, duration, percentage,
   threshold) occurs in a cited passage with the same value and unit (see rag_oracle/text/quantities.py).

Coverage catches sentences about something the passage does not discuss; the numeric rule
catches the dangerous case of a right-sounding sentence with a wrong number. It does not catch
a negation flipped with all the same words ("is" / "is not"), which is why a negation word in
the sentence must also occur in the passage.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rag_oracle.text.analyzer import tokenize_one
from rag_oracle.text.quantities import Quantity, unsupported_quantities

_NEGATION = re.compile(r"\b(?:not|no|never|without|cannot|nor)\b|n't\b", re.I)


@dataclass
class SupportResult:
    supported: bool
    coverage: float
    unsupported_quantities: list[Quantity] = field(default_factory=list)
    negation_mismatch: bool = False

    @property
    def reason(self) -> str:
        if self.unsupported_quantities:
            return "numbers not in the cited passages: " + ", ".join(q.text for q in self.unsupported_quantities)
        if self.negation_mismatch:
            return "the sentence negates what the cited passages state"
        if not self.supported:
            return f"only {self.coverage:.0%} of its content words occur in the cited passages"
        return ""


def support(sentence: str, passages: list[str], min_coverage: float = 0.6) -> SupportResult:
    words = set(tokenize_one(sentence))
    passage_words = set().union(*(tokenize_one(p) for p in passages)) if passages else set()
    coverage = len(words & passage_words) / len(words) if words else 1.0
    missing = unsupported_quantities(sentence, passages)
    negation_mismatch = bool(_NEGATION.search(sentence)) and not any(_NEGATION.search(p) for p in passages)
    ok = bool(passages) and coverage >= min_coverage and not missing and not negation_mismatch
    return SupportResult(ok, coverage, missing, negation_mismatch)
