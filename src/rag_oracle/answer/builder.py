"""The one answer builder: what happens to every question before and after a generator drafts.

Before: `select` picks the passages the generator reads (source diversity, then the relevance
gate on the stored vectors). After: `finish` turns a `Draft` into the `Answer`:

1. verify every draft sentence against the passages it cites (verify/citations.py): markers
   that name no passage are dropped, unsupported sentences and invented numbers are removed
   or flagged, citations are renumbered in order of first use;
2. report disagreements between sources (verify/conflicts.py), citing both sides;
3. note thin evidence; suggest related questions the index can answer;
4. decide yes/no questions (answer/decision.py);
5. stamp provenance (settings hash, index fingerprint and checksum, prompt, package version).

Generators only draft, so no generator can skip a step, and an LLM's answer is held to
exactly the checks of the extractive one.

Example::

    builder = AnswerBuilder(settings.answer, index, embedder, provenance)
    selection = builder.select(question, hits)
    if selection.passages:
        answer = builder.finish(question, generator.draft(question, selection.passages), selection)
    else:
        answer = builder.abstain(question, selection)
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from rag_oracle.answer.agreement import Evidence, evidence_for
from rag_oracle.answer.context import with_context
from rag_oracle.answer.decision import decide, is_yes_no_question, verdict_label
from rag_oracle.answer.question import QUANTITY_INTENTS, analyse, population_phrase
from rag_oracle.answer.related import related_questions
from rag_oracle.answer.relevance import diversify, not_relevant_reason, passage_similarities
from rag_oracle.settings import AnswerSettings
from rag_oracle.text.analyzer import TermStatistics, UniformStatistics
from rag_oracle.text.quantities import quantities
from rag_oracle.text.untrusted import strip_source_markers
from rag_oracle.types import (
    Answer,
    AnswerDates,
    CitedSpan,
    Conflict,
    Draft,
    DraftSection,
    DraftSentence,
    Hit,
    PatientContext,
    Provenance,
    QuestionAnalysis,
    Reference,
    SentenceCheck,
)
from rag_oracle.verify.citations import ordered_spans, reference_for, verify
from rag_oracle.verify.conflicts import FoundConflict, find_conflicts

DISCLAIMER = (
    "This answer was composed automatically from the indexed documents. It is not medical advice: "
    "check the cited passages and current guidelines before making clinical decisions."
)


@dataclass(frozen=True)
class Selection:
    """The passages a generator reads, and what the gate saw on the way."""

    pool: list[Hit]  # everything retrieved, in rank order
    considered: list[Hit]  # the pool after source diversity: what the gate judged
    passages: list[Hit]  # the relevant ones, in rank order: what the generator is shown
    best_similarity: float | None
    reason: str = ""  # why there are no passages
    analysis: QuestionAnalysis | None = None
    evidence: list[Evidence] = field(default_factory=list)  # the passages' statements, judged
    declined: str = ""  # a full sentence naming what the index lacks (coverage), when that is why
    coverage: str = ""  # what part of the question is not covered, when the rest is answered


_INTENT_PHRASES = {
    "start_dose": "the starting dose of {s}",
    "max_dose": "the maximum dose of {s}",
    "dose": "a dose of {s}",
    "hold": "how long {s} is held or when it is restarted",
    "duration": "a duration for {s}",
    "threshold": "a target or threshold for {s}",
    "taper": "how {s} is tapered",
}


class AnswerBuilder:
    """Selects passages for, and finishes, every answer, whatever generator drafts it."""

    def __init__(
        self,
        settings: AnswerSettings,
        index=None,
        embedder=None,
        provenance: Provenance | None = None,
        statistics: TermStatistics | None = None,
        answerable: Callable[[str], bool] | None = None,
        context: PatientContext | None = None,
    ) -> None:
        """`answerable(question)`: whether the index can answer a question (retrieval and the gates of
        `select`, no drafting); related questions are offered only when it says so. `context`: the
        patient the question is about (its measured creatinine clearance joins the analysis)."""
        self.answerable = answerable
        self.context = context
        self.settings = settings
        self.index = index
        self.embedder = embedder
        self.provenance = provenance
        self.statistics = statistics or index or UniformStatistics()

    @property
    def documents(self):
        return getattr(self.index, "documents", None)

    def select(self, question: str, hits: list[Hit]) -> Selection:
        """The passages to draft from, or none and why: the question names something the index
        never mentions; no passage is similar enough; or the relevant passages hold no statement
        about the question's subject, population or the kind of fact it asks for."""
        s = self.settings
        analysis = with_context(analyse(question, self.statistics), self.context)
        considered = diversify(hits, s.top_k, s.max_passages_per_document)
        if analysis.missing:
            named = " or ".join(analysis.missing)
            return Selection(
                hits,
                considered,
                [],
                None,
                f"no passage about {named}",
                analysis,
                declined=f"The indexed literature has no passage about {named}.",
            )
        if not considered:
            return Selection(hits, considered, [], None, "no passage was retrieved", analysis)
        sims = passage_similarities(self.embedder, self.index, question, considered)
        best = float(sims.max())
        passages = [h for h, sim in zip(considered, sims, strict=True) if sim >= s.min_passage_similarity]
        if not passages:
            return Selection(hits, considered, [], best, not_relevant_reason(best, s.min_passage_similarity), analysis)
        evidence = evidence_for(analysis, passages, self.documents)
        declined, coverage = _coverage(question, analysis, evidence, passages)
        if declined:
            return Selection(hits, considered, [], best, declined.rstrip("."), analysis, evidence, declined=declined)
        return Selection(hits, considered, passages, best, "", analysis, evidence, coverage=coverage)

    def abstain(self, question: str, selection: Selection, generator: str, reason: str = "") -> Answer:
        """The answer that says the indexed literature does not answer the question, and why."""
        message = (
            selection.declined
            if selection.declined and not reason
            else (f"The indexed literature does not answer this question: {reason or selection.reason}.")
        )
        return Answer(
            question=question,
            abstained=True,
            abstention_reason=message,
            hits=selection.considered,
            disclaimer=DISCLAIMER,
            generator=generator,
            provenance=self._provenance(generator),
            analysis=selection.analysis,
        )

    def finish(self, question: str, draft: Draft, selection: Selection) -> Answer:
        """Verify `draft` against `selection.passages` (numbered from 1 as the generator saw them)."""
        s = self.settings
        passages = selection.passages
        if draft.declined:
            return self.abstain(question, selection, draft.generator, draft.declined)
        analysis = selection.analysis or analyse(question, self.statistics)
        sections, disagreeing = _agreeing(draft.sections, selection.evidence)
        found: list[FoundConflict] = []
        if sections:
            # Disagreements are looked for among the passages read and the rest of the retrieved pool.
            # (by chunk id: the passages are hits of the pool, and comparing whole hits is slow)
            read = {h.chunk.id for h in passages}
            considered = passages + [h for h in selection.pool[: 2 * s.top_k] if h.chunk.id not in read]
            found = find_conflicts(analysis, evidence_for(analysis, considered, self.documents), considered)[:2]
            sections, outlying = _without_outliers(sections, found)
            disagreeing += outlying
        sections = for_audience(sections, s.audience, analysis)
        verified = verify(sections, passages, policy=s.unsupported_policy, documents=self.documents)
        answered = bool(verified.sections)
        references, answer_conflicts, shown = verified.references, [], list(passages)
        if answered:
            references, answer_conflicts, shown = _cite_conflicts(found, references, shown)
        answer = Answer(
            question=question,
            abstained=not answered,
            abstention_reason=""
            if answered
            else "The indexed literature does not answer this question: no statement of the draft answer "
            "was supported by the passages it cited.",
            sections=verified.sections,
            references=references,
            hits=shown,
            notes=(
                notes_for(references, selection.best_similarity) + _lead_notes(verified.sections, selection.evidence)
            )
            if answered
            else [],
            related_questions=_merge_related(
                draft.related_questions,
                related_questions(question, analysis, selection.evidence, self.answerable),
            ),
            conflicts=answer_conflicts,
            verification=disagreeing + verified.checks,
            coverage=selection.coverage if answered else "",
            analysis=selection.analysis,
            disclaimer=DISCLAIMER,
            generator=draft.generator,
            provenance=self._provenance(draft.generator),
        )
        if is_yes_no_question(question) and answered:
            decision = decide(question, answer)
            answer = answer.model_copy(
                update={"decision": decision, "verdict": verdict_label(question, decision, answer)}
            )
        return answer

    def _provenance(self, generator: str) -> Provenance | None:
        if self.provenance is None:
            return None
        return self.provenance.model_copy(update={"generator": generator})


# Patient audience: plain headings, what a patient needs first, dosing only when the question asks for it.
_PATIENT_TITLES = {
    "direct": "In short",
    "safety": "Safety: what to watch for",
    "key_points": "Good to know",
    "dosing": "How it is taken",
    "evidence_note": "About the evidence",
}
_PATIENT_ORDER = ["direct", "safety", "key_points", "dosing", "evidence_note"]


def for_audience(sections: list[DraftSection], audience: str, analysis: QuestionAnalysis | None) -> list[DraftSection]:
    """The sections as the audience reads them: unchanged for clinicians and researchers; for
    patients, plain headings, safety and key points before dosing, and no dosing section unless the
    question asks about a dose, a duration or a target (an answer that is only dosing keeps it).
    Runs before verification, so references are numbered in the order the reader meets them."""
    if audience != "patient":
        return sections
    asks_quantity = analysis is not None and analysis.intent in QUANTITY_INTENTS
    kept = [sec for sec in sections if sec.kind != "dosing" or asks_quantity]
    if not any(sec.kind != "dosing" for sec in kept):
        kept = sections  # nothing else to say: the dosing statements are the answer
    order = {kind: i for i, kind in enumerate(_PATIENT_ORDER)}
    kept = sorted(kept, key=lambda sec: order.get(sec.kind, len(order)))
    return [sec.model_copy(update={"title": _PATIENT_TITLES.get(sec.kind, sec.title)}) for sec in kept]


def answer_dates(index_updated: str, answer: Answer) -> AnswerDates:
    """When the index was last written and the span of publication years the answer cites."""
    years = [ref.year for ref in answer.references if ref.year]
    return AnswerDates(
        index_updated=index_updated,
        newest_evidence_year=max(years) if years else None,
        oldest_evidence_year=min(years) if years else None,
        undated_sources=sum(1 for ref in answer.references if not ref.year),
        answered_at=datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
    )


def notes_for(references: list[Reference], best_similarity: float | None) -> list[str]:
    notes = []
    if len({r.doc_id for r in references}) == 1:  # one reference per document
        notes.append("Evidence is limited: this answer rests on a single source.")
    if best_similarity is not None and best_similarity < 0.5:
        notes.append(
            "The retrieved passages match the question only partly; read the cited passages before relying on them."
        )
    return notes


def _cite_conflicts(
    conflicts: list[FoundConflict], references: list[Reference], shown: list[Hit]
) -> tuple[list[Reference], list[Conflict], list[Hit]]:
    """Make every side of every conflict a cited reference (adding passages when needed), with the
    sentence stating its value among the reference's cited spans."""
    references = list(references)
    by_doc = {r.doc_id: i for i, r in enumerate(references)}
    out = []
    for conflict in conflicts:
        numbers = []
        for hit, _value, sentence in conflict.statements:
            if hit not in shown:
                shown.append(hit)
            pos = hit.chunk.text.find(sentence)
            span = CitedSpan(
                text=sentence,
                char_start=hit.chunk.char_start + pos,
                char_end=hit.chunk.char_start + pos + len(sentence),
            )
            if hit.chunk.doc_id in by_doc:
                i = by_doc[hit.chunk.doc_id]
                ref = references[i]
                update: dict = {}
                if span not in ref.cited_spans:
                    update["cited_spans"] = ordered_spans([*ref.cited_spans, span])
                if sentence not in ref.passage:
                    update["passage"] = f"{ref.passage}\n\u2026\n{hit.chunk.text}"
                    update["chunk_ids"] = [*ref.chunk_ids, hit.chunk.id]
                if update:
                    references[i] = ref.model_copy(update=update)
            else:
                references.append(reference_for(hit, len(references) + 1, [span]))
                by_doc[hit.chunk.doc_id] = len(references) - 1
            numbers.append(references[by_doc[hit.chunk.doc_id]].number)
        out.append(
            Conflict(
                quantity=conflict.quantity,
                values=[v for _, v, _ in conflict.statements],
                references=numbers,
                contexts=[strip_source_markers(c) for c in conflict.contexts],
                kind=conflict.kind,
                outlier=conflict.outlier,
            )
        )
    return references, out, shown


def _merge_related(first: list[str], second: list[str], limit: int = 5) -> list[str]:
    """The generator's own follow-ups first, topped up from the facet-based ones, without repeats."""
    out: list[str] = []
    for q in [*first, *second]:
        if q.lower() not in {o.lower() for o in out}:
            out.append(q)
    return out[:limit]


def _coverage(
    question: str, analysis: QuestionAnalysis, evidence: list[Evidence], passages: list[Hit]
) -> tuple[str, str]:
    """(why to decline, what part is not covered): the relevant passages must hold a statement about
    the question's subject; for a number, one giving that kind of number; for a named population,
    one naming it. Empty strings when the passages cover the question."""
    if not analysis.drugs and not analysis.topic_terms:
        return (
            "The question names no drug, condition or test, so the indexed literature cannot be searched for it: "
            "ask it in full (for example 'What is the dose of clonazepam in older adults?').",
            "",
        )
    subject = " and ".join(analysis.subject) or "the question's subject"
    if analysis.drugs:
        titles = " ".join(h.document.title.lower() for h in passages)
        named = any(e.subjects & set(analysis.drugs) for e in evidence) or any(d in titles for d in analysis.drugs)
        if not named:
            return f"The indexed literature has no passage about {subject}.", ""
    about = [e for e in evidence if e.eligible]
    if not about:
        return f"The indexed literature has no passage about {subject}.", ""
    population = [p for p in analysis.population if p != "adults"]
    where = population_phrase(population)
    if analysis.clearance:
        band = re.search(r"creatinine clearance (?:is |of )?(?P<band>[^?,;]*)", question, re.I)
        where = f"at a creatinine clearance {band.group('band').strip()}" if band else where
    numeric = analysis.intent in QUANTITY_INTENTS
    if population and not any(e.population_named and (e.shape_soft or not numeric) for e in about):
        if numeric or analysis.yes_no:
            return f"The indexed literature has no passage about {subject} {where}.", ""
        return (
            "",
            f"The indexed passages about {subject} do not mention it {where}; what follows is not specific to it.",
        )
    if numeric and not any(e.shape for e in about):
        what = _INTENT_PHRASES.get(analysis.intent, "this for {s}").format(s=subject)
        return f"The indexed literature mentions {subject} but has no passage giving {what}.", ""
    return "", ""


def _lead_notes(sections, evidence: list[Evidence]) -> list[str]:
    """A note when the direct answer rests on one study's results rather than a recommendation."""
    direct = [s.text for section in sections if section.kind == "direct" for s in section.sentences]
    roles = {e.role for e in evidence for text in direct if e.statement.text in text}
    if roles and roles <= {"result"}:
        return ["The answer leads with one study's results: no guideline, review or conclusion in the index states it."]
    return []


def _remove(
    sections: list[DraftSection], reason_for: Callable[[DraftSentence], str]
) -> tuple[list[DraftSection], list[SentenceCheck]]:
    """The draft without the sentences `reason_for` gives a reason to remove, and a check for each."""
    kept_sections, removed = [], []
    for section in sections:
        kept = []
        for sentence in section.sentences:
            reason = reason_for(sentence)
            if reason:
                removed.append(
                    SentenceCheck(
                        text=sentence.text,
                        section=section.kind,
                        status="removed",
                        coverage=0.0,
                        citations=list(sentence.citations),
                        reasons=[reason],
                    )
                )
            else:
                kept.append(sentence)
        if kept:
            kept_sections.append(section.model_copy(update={"sentences": kept}))
    return kept_sections, removed


def _without_outliers(
    sections: list[DraftSection], found: list[FoundConflict]
) -> tuple[list[DraftSection], list[SentenceCheck]]:
    """The draft without sentences stating a value one source gives far outside all the others
    (a planted "100 mg per day" against 0.25 to 2 mg elsewhere): such a value is shown only as a
    conflict, never stated."""
    outlying = [c.statements[0][2] for c in found if c.outlier]
    if not outlying:
        return sections, []

    def reason(sentence: DraftSentence) -> str:
        if any(o in sentence.text or sentence.text in o for o in outlying):
            return "its value is far outside every other source's; it is shown as a conflict instead"
        return ""

    return _remove(sections, reason)


def _agreeing(sections: list[DraftSection], evidence: list[Evidence]) -> tuple[list[DraftSection], list[SentenceCheck]]:
    """The draft without sentences that state a number the cited passages give only for another drug,
    population or indication (whatever generator wrote them), and a check for each one removed."""
    if not evidence:
        return sections, []
    by_passage: dict[int, list[Evidence]] = {}
    for e in evidence:
        by_passage.setdefault(e.hit_index + 1, []).append(e)

    def reason(sentence: DraftSentence) -> str:
        keys = {q.key() for q in quantities(sentence.text)}
        sources = [
            e
            for n in sentence.citations
            for e in by_passage.get(n, [])
            if keys & {q.key() for q in quantities(e.statement.text)}
        ]
        if keys and sources and not any(e.eligible for e in sources):
            return "its numbers are, in the cited passages, about another drug, population or indication"
        return ""

    return _remove(sections, reason)
