"""Verify an answer's citations before anyone reads it, whatever wrote the answer.

Input: the draft's sections of sentences, each with the passage numbers it cites (numbers as
the generator saw them: passage i of those it was shown). Steps:

1. A marker that names no passage shown to the generator is removed and recorded.
2. Each sentence is checked against the passages it cites (verify/support.py): content-word
   coverage, every number-with-unit present, no negation the passages lack. A sentence with no
   valid citation is unsupported.
3. Unsupported sentences are flagged, or removed when the policy says so ("remove", the
   default: in medicine an unsupported statement is worse than a shorter answer).
4. Citations are renumbered 1, 2, … in order of first appearance among the kept sentences, and
   the reference list is built in that order.

The results go into `Answer.verification`, one entry per draft sentence.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from rag_oracle.types import (
    AnswerSection,
    AnswerSentence,
    CitedSpan,
    DraftSection,
    DraftSentence,
    Hit,
    Reference,
    SentenceCheck,
)
from rag_oracle.verify.support import support

Policy = Literal["flag", "remove"]


@dataclass
class Verified:
    sections: list[AnswerSection]
    references: list[Reference]
    checks: list[SentenceCheck]


def reference_for(hit: Hit, number: int, spans: list[CitedSpan]) -> Reference:
    doc, chunk = hit.document, hit.chunk
    ids = {k: v for k, v in (("pmid", doc.pmid), ("pmcid", doc.pmcid), ("doi", doc.doi)) if v}
    if doc.source_path:
        ids["file"] = doc.source_path
    if chunk.page_start is not None:
        same = chunk.page_start == chunk.page_end
        ids["page"] = f"{chunk.page_start}" if same else f"{chunk.page_start}-{chunk.page_end}"
    return Reference(
        number=number,
        chunk_id=chunk.id,
        doc_id=chunk.doc_id,
        title=doc.title,
        year=doc.year,
        identifiers=ids,
        passage=chunk.text,
        cited_spans=sorted(spans, key=lambda sp: sp.char_start),
        page_start=chunk.page_start,
        page_end=chunk.page_end,
    )


def _locate(sentence: str, hit: Hit) -> CitedSpan | None:
    pos = hit.chunk.text.find(sentence)
    if pos < 0:
        return None
    start = hit.chunk.char_start + pos
    return CitedSpan(text=sentence, char_start=start, char_end=start + len(sentence))


def verify(
    sections: list[DraftSection], passages: list[Hit], *, policy: Policy = "remove", min_coverage: float = 0.6
) -> Verified:
    """Check every sentence of `sections` against `passages` (the hits shown, numbered from 1)."""
    checks: list[SentenceCheck] = []
    kept_sections: list[tuple[DraftSection, list[tuple[DraftSentence, list[int], bool]]]] = []
    for section in sections:
        kept = []
        for sentence in section.sentences:
            valid = [n for n in dict.fromkeys(sentence.citations) if 1 <= n <= len(passages)]
            invalid = [n for n in sentence.citations if not 1 <= n <= len(passages)]
            texts = [passages[n - 1].chunk.text for n in valid]
            result = support(sentence.text, texts, min_coverage) if valid else None
            supported = bool(result and result.supported)
            reasons = []
            if invalid:
                reasons.append(f"markers that name no passage shown were removed: {invalid}")
            if not valid:
                reasons.append("no valid citation")
            elif not supported:
                reasons.append(result.reason)
            removed = not supported and policy == "remove"
            checks.append(
                SentenceCheck(
                    text=sentence.text,
                    section=section.kind,
                    status="supported" if supported else ("removed" if removed else "unsupported"),
                    coverage=round(result.coverage, 3) if result else 0.0,
                    unsupported_numbers=[q.text for q in result.unsupported_quantities] if result else [],
                    invalid_markers=invalid,
                    citations=list(sentence.citations),
                    reasons=reasons,
                )
            )
            if not removed:
                kept.append((sentence, valid, supported))
        kept_sections.append((section, kept))

    numbers: dict[int, int] = {}  # passage number as shown -> reference number
    spans: dict[int, list[CitedSpan]] = {}
    out_sections: list[AnswerSection] = []
    for section, kept in kept_sections:
        if not kept:
            continue
        sentences = []
        for sentence, valid, supported in kept:
            renumbered = []
            for n in valid:
                renumbered.append(numbers.setdefault(n, len(numbers) + 1))
                located = [
                    s
                    for s in sentence.spans
                    if passages[n - 1].chunk.char_start <= s.char_start < passages[n - 1].chunk.char_end
                ]
                found = located or ([sp] if (sp := _locate(sentence.text, passages[n - 1])) else [])
                bucket = spans.setdefault(n, [])
                bucket.extend(s for s in found if s not in bucket)
            sentences.append(AnswerSentence(text=sentence.text, citations=renumbered, supported=supported))
        out_sections.append(AnswerSection(kind=section.kind, title=section.title, sentences=sentences))
    references = [
        reference_for(passages[n - 1], ref, spans.get(n, []))
        for n, ref in sorted(numbers.items(), key=lambda kv: kv[1])
    ]
    return Verified(out_sections, references, checks)
