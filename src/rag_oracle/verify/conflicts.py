"""Find passages that give different values for the same quantity.

Method (local, deterministic):
1. The subject is the question's most specific content word: the one in the fewest indexed
   chunks (a drug name rather than "dose"); the index's term statistics supply the counts.
2. Candidate statements are the numbers with units, stated as ranges ("0.5 to 1 mg/day"), in
   sentences of the shown passages that mention the subject.
3. Two statements conflict when they come from different documents, have the same unit and
   different values, share at least three content words, and the words around the two numbers
   (six content words either side, subject excluded) overlap: the same kind of statement
   ("usual ... dose ... given at bedtime"), not a watchful-waiting period set against a course
   of antibiotics.

Each conflict names the quantity, the differing values as written and the sentences stating
them, so the answer can say that the sources disagree and cite both sides.
"""

from __future__ import annotations

from dataclasses import dataclass

from rag_oracle.text.analyzer import TermStatistics, subject_term, tokenize_one
from rag_oracle.text.quantities import quantities
from rag_oracle.text.sentences import sentence_spans
from rag_oracle.types import Hit


@dataclass(frozen=True)
class FoundConflict:
    quantity: str
    statements: tuple[tuple[Hit, str, str], ...]  # (passage, value as written, sentence)


WINDOW = 6


def _window(sentence: str, quantity_text: str, subject: str) -> set[str]:
    pos = sentence.find(quantity_text)
    before = tokenize_one(sentence[:pos])[-WINDOW:]
    after = tokenize_one(sentence[pos + len(quantity_text) :])[:WINDOW]
    return {w for w in before + after if not w.replace(".", "").isdigit()} - {subject}


def find_conflicts(question: str, passages: list[Hit], statistics: TermStatistics) -> list[FoundConflict]:
    subject = subject_term(question, statistics)
    if subject is None:
        return []
    facts = []  # (passage index, doc id, quantity, sentence, sentence words, window words)
    for i, hit in enumerate(passages):
        text = hit.chunk.text
        sentences = [text[a:b] for a, b in sentence_spans(text)]
        for sentence in sentences:
            words = tokenize_one(sentence)
            if subject not in words:
                continue
            for q in quantities(sentence):
                if q.low != q.high:
                    facts.append((i, hit.chunk.doc_id, q, sentence, set(words), _window(sentence, q.text, subject)))
    found: dict[tuple, FoundConflict] = {}
    for a in range(len(facts)):
        for b in range(a + 1, len(facts)):
            ia, da, qa, sa, wa, na = facts[a]
            ib, db, qb, sb, wb, nb = facts[b]
            if da == db or qa.unit != qb.unit or qa.key() == qb.key():
                continue
            if len(wa & wb) < 3 or not na & nb:
                continue
            label = f"{subject} ({qa.unit})"
            pair = tuple(sorted([qa.key(), qb.key()]))
            if (label, pair) not in found:
                found[(label, pair)] = FoundConflict(label, ((passages[ia], qa.text, sa), (passages[ib], qb.text, sb)))
    return list(found.values())
