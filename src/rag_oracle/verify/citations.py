"""Verify an answer's citations before anyone reads it, whatever wrote the answer.

Input: the draft's sections of sentences, each with the passage numbers it cites (numbers as
the generator saw them: passage i of those it was shown). Steps:

1. A marker that names no passage shown to the generator is removed and recorded.
2. Each sentence is checked against the passages it cites (verify/support.py): content-word
   coverage, every number-with-unit present, no negation the passages lack. A sentence with no
   valid citation is unsupported.
3. Unsupported sentences are flagged, or removed when the policy says so ("remove", the
   default: in medicine an unsupported statement is worse than a shorter answer).
4. Citations are renumbered 1, 2, … in order of first appearance among the kept sentences, one
   number per *document*: two passages of one document are one reference, listing every sentence
   cited from it, and its passage is the cited chunks' text (joined by an ellipsis when they are
   apart). A sentence quoted with its scope ("Escitalopram: … For older adults, 10 mg/day ...")
   is checked against its passages and the scope spans it names, once each span is found at its
   offsets in the document text.

The results go into `Answer.verification`, one entry per draft sentence.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from rag_oracle.text.publication import source_links, study_type
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


def ordered_spans(spans: Iterable[CitedSpan]) -> list[CitedSpan]:
    """Distinct spans in document order; spans starting at one offset (a heading quoted as a
    sentence's scope, and the sentence) shorter first, so the order never depends on set order."""
    return sorted(set(spans), key=lambda sp: (sp.char_start, sp.char_end, sp.text))


def reference_for(
    hit: Hit, number: int, spans: list[CitedSpan], others: list[Hit] | None = None, document_text: str | None = None
) -> Reference:
    """The reference for `hit`'s document; `others`: further cited passages of the same document."""
    doc, chunk = hit.document, hit.chunk
    chunks = [hit, *[h for h in others or [] if h.chunk.id != chunk.id]]
    ids = {k: v for k, v in (("pmid", doc.pmid), ("pmcid", doc.pmcid), ("doi", doc.doi)) if v}
    if doc.source_path:
        ids["file"] = doc.source_path
    pages = [h.chunk.page_start for h in chunks if h.chunk.page_start is not None]
    pages_end = [h.chunk.page_end for h in chunks if h.chunk.page_end is not None]
    if pages:
        first, last = min(pages), max(pages_end or pages)
        ids["page"] = f"{first}" if first == last else f"{first}-{last}"
    return Reference(
        number=number,
        chunk_id=chunk.id,
        chunk_ids=[h.chunk.id for h in chunks],
        doc_id=chunk.doc_id,
        title=doc.title,
        year=doc.year,
        identifiers=ids,
        passage=_passage(chunks, spans, document_text),
        cited_spans=ordered_spans(spans),
        page_start=min(pages) if pages else None,
        page_end=max(pages_end or pages) if pages else None,
        authors=list(doc.authors),
        journal=doc.journal,
        study_type=study_type(doc.publication_types),
        links=source_links(ids),
    )


def _passage(chunks: list[Hit], spans: list[CitedSpan], document_text: str | None) -> str:
    """The cited chunks' text in document order, overlapping ones merged, separate ones joined by
    an ellipsis line; with the document text, scope spans just outside a chunk are included."""
    ranges = sorted((h.chunk.char_start, h.chunk.char_end) for h in chunks)
    if document_text is not None:
        ranges = sorted([*ranges, *((sp.char_start, sp.char_end) for sp in spans)])
    merged: list[list[int]] = []
    for a, b in ranges:
        if merged and a <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    if document_text is not None:
        return "\n…\n".join(document_text[a:b] for a, b in merged)
    texts = {(h.chunk.char_start, h.chunk.char_end): h.chunk.text for h in chunks}
    return "\n…\n".join(texts[r] for r in sorted(texts))


def _locate(sentence: str, hit: Hit) -> CitedSpan | None:
    pos = hit.chunk.text.find(sentence)
    if pos < 0:
        return None
    start = hit.chunk.char_start + pos
    return CitedSpan(text=sentence, char_start=start, char_end=start + len(sentence))


def _scope_texts(sentence: DraftSentence, passages: list[Hit], valid: list[int], documents) -> list[str]:
    """The texts of the sentence's spans that lie in a cited document at the offsets they claim."""
    if documents is None:
        return []
    out = []
    for n in valid:
        doc = documents.get(passages[n - 1].chunk.doc_id)
        if doc is None:
            continue
        out += [sp.text for sp in sentence.spans if doc.text[sp.char_start : sp.char_end] == sp.text]
    return out


def verify(
    sections: list[DraftSection],
    passages: list[Hit],
    *,
    policy: Policy = "remove",
    min_coverage: float = 0.6,
    documents=None,
) -> Verified:
    """Check every sentence of `sections` against `passages` (the hits shown, numbered from 1);
    `documents` (doc id -> Document) lets scope spans outside the passages count as support."""
    checks: list[SentenceCheck] = []
    kept_sections: list[tuple[DraftSection, list[tuple[DraftSentence, list[int], bool]]]] = []
    for section in sections:
        kept = []
        for sentence in section.sentences:
            valid = [n for n in dict.fromkeys(sentence.citations) if 1 <= n <= len(passages)]
            invalid = [n for n in sentence.citations if not 1 <= n <= len(passages)]
            texts = [passages[n - 1].chunk.text for n in valid] + _scope_texts(sentence, passages, valid, documents)
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

    numbers: dict[str, int] = {}  # document id -> reference number
    cited: dict[str, list[int]] = {}  # document id -> passage numbers cited, in order
    spans: dict[str, list[CitedSpan]] = {}
    out_sections: list[AnswerSection] = []
    for section, kept in kept_sections:
        if not kept:
            continue
        sentences = []
        for sentence, valid, supported in kept:
            renumbered: list[int] = []
            for n in valid:
                hit = passages[n - 1]
                doc_id = hit.chunk.doc_id
                number = numbers.setdefault(doc_id, len(numbers) + 1)
                if number not in renumbered:
                    renumbered.append(number)
                if n not in cited.setdefault(doc_id, []):
                    cited[doc_id].append(n)
                located = [s for s in sentence.spans if hit.chunk.char_start <= s.char_start < hit.chunk.char_end]
                found = located or ([sp] if (sp := _locate(sentence.text, hit)) else [])
                if documents is not None and doc_id in documents:
                    text = documents[doc_id].text
                    found += [s for s in sentence.spans if s not in found and text[s.char_start : s.char_end] == s.text]
                bucket = spans.setdefault(doc_id, [])
                bucket.extend(s for s in found if s not in bucket)
            sentences.append(AnswerSentence(text=sentence.text, citations=renumbered, supported=supported))
        out_sections.append(AnswerSection(kind=section.kind, title=section.title, sentences=sentences))
    references = []
    for doc_id, number in sorted(numbers.items(), key=lambda kv: kv[1]):
        hits = [passages[n - 1] for n in cited[doc_id]]
        document = documents.get(doc_id) if documents is not None else None
        references.append(
            reference_for(hits[0], number, spans.get(doc_id, []), hits[1:], document.text if document else None)
        )
    return Verified(out_sections, references, checks)
