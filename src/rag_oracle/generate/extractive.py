"""The default generator: an extractive, query-focused composer that needs no LLM.

It can only say what the passages say, word for word, which is what makes it safe for
numbers: every dose, duration and percentage in its answer is quoted from the passage it cites.

How it works:

1. It reads the passages the answer builder judged relevant (rag_oracle/answer/relevance.py:
   when none is relevant enough the builder abstains and no generator is asked).
2. Sentence scoring. Passages are split into sentences; each sentence scores
   0.65 * cosine(question, title + sentence) + 0.35 * (share of the question's content words it
   contains, stemmed), plus
   - 0.10 when it has the shape of what the question asks for (a dose with a unit for a dosing
     question, a duration for a how-long question, a number for a target or threshold question);
   - 0.08 when it says something is not approved, not recommended or contraindicated and shares
     at least two content words with the question: a clinician must see such a caution first;
   - a section prior: -0.08 in methods (what was done, not what is true), -0.03 in background,
     +0.04 in conclusions, key points and recommendations.
   Sentences that open with a dangling reference ("It", "This", "These") lose 10%: out of their
   context they can mislead. Questions and headings are never quoted.
3. Selection. Maximal marginal relevance picks sentences that are relevant and unlike those
   already picked (cosine between sentence embeddings), at most `max_sentences_per_document`
   per document, and only sentences scoring at least 60% of the best one.
4. Layout. The two best sentences form the direct answer; the rest go to "Dosing and
   administration" (doses, titration, tapering), "Safety and monitoring" (risks, warnings,
   monitoring) or "Key points".

The draft then goes to the answer builder like every generator's: verified, renumbered,
conflicts and related questions added.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from rag_oracle.embed.base import Embedder
from rag_oracle.generate.base import OnToken
from rag_oracle.settings import AnswerSettings
from rag_oracle.text.analyzer import expand_query, tokenize
from rag_oracle.text.markers import MARKER
from rag_oracle.text.passage import embedding_text
from rag_oracle.text.sentences import sentence_spans
from rag_oracle.types import CitedSpan, Draft, DraftSection, DraftSentence, Hit

_DOSE = re.compile(
    r"\b\d+(?:\.\d+)?\s?(?:-|to)?\s?(?:\d+(?:\.\d+)?\s?)?(?:mg|mcg|µg|g|ml|mL|units?|IU|mmol|mg/kg)\b"
    r"|\b(?:dose|doses|dosing|dosage|titrat\w*|taper\w*|daily|twice|bedtime)\b",
    re.I,
)
_SAFETY = re.compile(
    r"\b(?:risk\w*|adverse|side effects?|warn\w*|contraindicat\w*|avoid\w*|monitor\w*|withdrawal|dependence|"
    r"toxic\w*|bleed\w*|caution|interact\w*|overdose|suicid\w*|falls?|sedation|respiratory depression|harm\w*)\b",
    re.I,
)
_AMOUNT = re.compile(r"\b\d+(?:\.\d+)?\s?(?:mg|mcg|µg|g|ml|units?|iu|mmol)\b", re.I)
_DANGLING = re.compile(r"^(?:it|this|these|they|those|such|however|thus|therefore)\b", re.I)
_MIN_WORDS = 5
_MAX_WORDS = 70  # longer 'sentences' are nearly always merged table rows or lists from a PDF
_BULLET = re.compile(r"(?:[-*\u2022]|\d+[.)])\s+")  # used with .match(text, pos)
_QUESTION_WORDS = {
    "what",
    "which",
    "how",
    "when",
    "why",
    "who",
    "whom",
    "whose",
    "doe",
    "can",
    "should",
    "would",
    "could",
}
# What kind of fact the question asks for, and what a sentence that gives it looks like.
_INTENTS = [
    (
        re.compile(r"\b(?:dose|doses|dosage|dosing|how much|titrat\w*|taper\w*|mg)\b", re.I),
        re.compile(r"\b\d+(?:\.\d+)?\s?(?:mg|mcg|µg|g|ml|units?|iu|mmol)\b", re.I),
    ),
    (
        re.compile(r"\b(?:how long|how many (?:days|weeks|hours|months)|duration|when|before|after|hold|stop)\b", re.I),
        re.compile(r"\b\d+(?:\.\d+)?\s?(?:-|to)?\s?\d*\s?(?:hours?|h|days?|weeks?|months?|years?)\b", re.I),
    ),
    (re.compile(r"\b(?:target|threshold|goal|cut-?off|level|count|range|below|above)\b", re.I), re.compile(r"\d")),
]
# A statement that something is not approved, not recommended or contraindicated is what a
# clinician must see first when it is about the question's subject.
_CAUTION = re.compile(
    r"\b(?:not (?:approved|recommended|indicated|an?)|should not|must not|do not use|contraindicated|"
    r"no evidence|avoid(?:ed)?)\b",
    re.I,
)
_SECTION_PRIOR = [
    (re.compile(r"method|design|participants|setting|patients and", re.I), -0.08),
    (re.compile(r"background|introduction|objective|aim|note", re.I), -0.03),
    (re.compile(r"conclusion|key point|recommendation|summary|interpretation", re.I), 0.04),
]


@dataclass
class _Candidate:
    hit_index: int
    start: int  # offsets in the document text
    end: int
    text: str
    score: float = 0.0


class ExtractiveGenerator:
    """Draft a cited answer from the relevant passages, quoting sentences verbatim.

    >>> gen = ExtractiveGenerator(embedder, AnswerSettings())   # doctest: +SKIP
    >>> draft = gen.draft("How long to hold warfarin before surgery?", passages)  # doctest: +SKIP
    """

    name = "extractive"
    version = "1"

    def __init__(self, embedder: Embedder, settings: AnswerSettings) -> None:
        self.embedder = embedder
        self.settings = settings

    @property
    def label(self) -> str:
        return f"{self.name}@{self.version}"

    @property
    def identity(self) -> dict[str, object]:
        return {"name": self.name, "version": self.version}

    def draft(self, question: str, passages: list[Hit], on_token: OnToken | None = None) -> Draft:
        generator = self.label
        candidates = self._candidates(passages)
        if not candidates:
            return Draft(generator=generator, declined="the relevant passages hold no complete sentences")
        query_vec = self.embedder.embed_query(question)
        vecs = self.embedder.embed_documents(
            [embedding_text(passages[c.hit_index].document.title, c.text) for c in candidates]
        )
        query_terms = set(tokenize([expand_query(question)])[0]) - _QUESTION_WORDS
        sentence_terms = tokenize([c.text for c in candidates])
        wanted = [answer_shape for asks, answer_shape in _INTENTS if asks.search(question)]
        for c, vec, terms in zip(candidates, vecs, sentence_terms, strict=True):
            shared = len(query_terms & set(terms))
            c.score = 0.65 * float(vec @ query_vec) + 0.35 * (shared / len(query_terms) if query_terms else 0.0)
            if any(shape.search(c.text) for shape in wanted):
                c.score += 0.1
            if shared >= 2 and _CAUTION.search(c.text):
                c.score += 0.08
            section = passages[c.hit_index].chunk.section
            c.score += next((bonus for pattern, bonus in _SECTION_PRIOR if pattern.search(section)), 0.0)
            if _DANGLING.match(c.text):
                c.score *= 0.9

        chosen = self._select(candidates, vecs, passages)
        chosen += self._safety_reserve(candidates, chosen)
        # Nothing is written token by token here, so `on_token` is never called.
        return Draft(sections=self._layout(chosen), generator=generator)

    def _candidates(self, hits: list[Hit]) -> list[_Candidate]:
        out = []
        seen: set[str] = set()
        for i in range(len(hits)):
            chunk = hits[i].chunk
            for a, b in sentence_spans(chunk.text):
                bullet = _BULLET.match(chunk.text, a, b)
                a = bullet.end() if bullet else a
                text = chunk.text[a:b]
                key = " ".join(text.lower().split())
                words = len(text.split())
                title = hits[i].document.title
                if (
                    not _MIN_WORDS <= words <= _MAX_WORDS
                    or key in seen
                    or text.endswith((":", "?"))
                    or (title and text.startswith(title))  # a page header repeating the title
                    or MARKER.search(text)  # the source's own "[12]" would read as one of our citations
                ):
                    continue
                seen.add(key)  # overlapping chunks repeat sentences; keep the first
                out.append(_Candidate(i, chunk.char_start + a, chunk.char_start + b, text))
        return out

    def _select(self, candidates: list[_Candidate], vecs: np.ndarray, hits: list[Hit]) -> list[_Candidate]:
        s = self.settings
        floor = 0.6 * max(c.score for c in candidates)
        pool = [i for i, c in enumerate(candidates) if c.score >= floor]
        chosen: list[int] = []
        per_doc: dict[str, int] = {}
        while pool and len(chosen) < s.max_sentences:

            def mmr(i: int) -> tuple[float, str, int]:
                redundancy = max((float(vecs[i] @ vecs[j]) for j in chosen), default=0.0)
                value = (1 - s.redundancy) * candidates[i].score - s.redundancy * redundancy
                # deterministic tie-break: chunk id, then position in the document
                return (-value, hits[candidates[i].hit_index].chunk.id, candidates[i].start)

            best = min(pool, key=mmr)
            pool.remove(best)
            doc_id = hits[candidates[best].hit_index].chunk.doc_id
            if per_doc.get(doc_id, 0) >= s.max_sentences_per_document:
                continue
            if chosen and max(float(vecs[best] @ vecs[j]) for j in chosen) > 0.92:
                continue  # a near-duplicate of a chosen sentence adds nothing
            chosen.append(best)
            per_doc[doc_id] = per_doc.get(doc_id, 0) + 1
        return [candidates[i] for i in chosen]

    def _safety_reserve(self, candidates: list[_Candidate], chosen: list[_Candidate]) -> list[_Candidate]:
        """Up to two safety sentences when selection found none: an answer page always covers safety,
        as long as the sentence is reasonably on topic (at least 45% of the best score)."""
        if any(_SAFETY.search(c.text) for c in chosen[2:]):
            return []
        floor = 0.45 * max(c.score for c in candidates)
        extra = [c for c in candidates if c not in chosen and c.score >= floor and _SAFETY.search(c.text)]
        return sorted(extra, key=lambda c: (-c.score, c.start))[:2]

    def _layout(self, chosen: list[_Candidate]) -> list[DraftSection]:
        direct, rest = chosen[:2], chosen[2:]
        # A safety statement that merely mentions "doses" is about safety; one with an amount is dosing.
        dosing = [c for c in rest if _DOSE.search(c.text) and (_AMOUNT.search(c.text) or not _SAFETY.search(c.text))]
        safety = [c for c in rest if c not in dosing and _SAFETY.search(c.text)]
        key_points = [c for c in rest if c not in dosing and c not in safety]
        groups = [
            ("direct", "Answer", direct),
            ("dosing", "Dosing and administration", dosing),
            ("safety", "Safety and monitoring", safety),
            ("key_points", "Key points", key_points),
        ]
        return [
            DraftSection(
                kind=kind,
                title=title,
                sentences=[
                    DraftSentence(
                        text=c.text,
                        citations=[c.hit_index + 1],
                        spans=[CitedSpan(text=c.text, char_start=c.start, char_end=c.end)],
                    )
                    for c in group
                ],
            )
            for kind, title, group in groups
            if group
        ]
