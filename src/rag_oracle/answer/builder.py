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

from dataclasses import dataclass

from rag_oracle.answer.decision import decide, is_yes_no_question
from rag_oracle.answer.related import related_questions
from rag_oracle.answer.relevance import diversify, not_relevant_reason, passage_similarities
from rag_oracle.settings import AnswerSettings
from rag_oracle.text.analyzer import TermStatistics, UniformStatistics
from rag_oracle.types import Answer, CitedSpan, Conflict, Draft, Hit, Provenance, Reference
from rag_oracle.verify.citations import reference_for, verify
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


class AnswerBuilder:
    """Selects passages for, and finishes, every answer, whatever generator drafts it."""

    def __init__(
        self,
        settings: AnswerSettings,
        index=None,
        embedder=None,
        provenance: Provenance | None = None,
        statistics: TermStatistics | None = None,
    ) -> None:
        self.settings = settings
        self.index = index
        self.embedder = embedder
        self.provenance = provenance
        self.statistics = statistics or index or UniformStatistics()

    def select(self, question: str, hits: list[Hit]) -> Selection:
        s = self.settings
        considered = diversify(hits, s.top_k, s.max_passages_per_document)
        if not considered:
            return Selection(hits, considered, [], None, "no passage was retrieved")
        sims = passage_similarities(self.embedder, self.index, question, considered)
        best = float(sims.max())
        passages = [h for h, sim in zip(considered, sims, strict=True) if sim >= s.min_passage_similarity]
        reason = "" if passages else not_relevant_reason(best, s.min_passage_similarity)
        return Selection(hits, considered, passages, best, reason)

    def abstain(self, question: str, selection: Selection, generator: str, reason: str = "") -> Answer:
        """The answer that says the indexed literature does not answer the question, and why."""
        return Answer(
            question=question,
            abstained=True,
            abstention_reason=f"The indexed literature does not answer this question: {reason or selection.reason}.",
            hits=selection.considered,
            disclaimer=DISCLAIMER,
            generator=generator,
            provenance=self._provenance(generator),
        )

    def finish(self, question: str, draft: Draft, selection: Selection) -> Answer:
        """Verify `draft` against `selection.passages` (numbered from 1 as the generator saw them)."""
        s = self.settings
        passages = selection.passages
        if draft.declined:
            return self.abstain(question, selection, draft.generator, draft.declined)
        verified = verify(draft.sections, passages, policy=s.unsupported_policy)
        answered = bool(verified.sections)
        references, answer_conflicts, shown = verified.references, [], list(passages)
        if answered:
            # Disagreements are looked for among the passages read and the rest of the retrieved pool.
            considered = passages + [h for h in selection.pool[: 2 * s.top_k] if h not in passages]
            found = find_conflicts(question, considered, self.statistics)
            references, answer_conflicts, shown = _cite_conflicts(found[:2], references, shown)
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
            notes=notes_for(references, selection.best_similarity) if answered else [],
            related_questions=_merge_related(
                draft.related_questions, related_questions(question, passages, self.statistics)
            ),
            conflicts=answer_conflicts,
            verification=verified.checks,
            disclaimer=DISCLAIMER,
            generator=draft.generator,
            provenance=self._provenance(draft.generator),
        )
        if is_yes_no_question(question) and answered:
            answer = answer.model_copy(update={"decision": decide(answer)})
        return answer

    def _provenance(self, generator: str) -> Provenance | None:
        if self.provenance is None:
            return None
        return self.provenance.model_copy(update={"generator": generator})


def notes_for(references: list[Reference], best_similarity: float | None) -> list[str]:
    notes = []
    if len({r.doc_id for r in references}) == 1:
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
    by_chunk = {r.chunk_id: i for i, r in enumerate(references)}
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
            if hit.chunk.id in by_chunk:
                i = by_chunk[hit.chunk.id]
                ref = references[i]
                if span not in ref.cited_spans:
                    spans = sorted([*ref.cited_spans, span], key=lambda sp: sp.char_start)
                    references[i] = ref.model_copy(update={"cited_spans": spans})
            else:
                references.append(reference_for(hit, len(references) + 1, [span]))
                by_chunk[hit.chunk.id] = len(references) - 1
            numbers.append(references[by_chunk[hit.chunk.id]].number)
        out.append(
            Conflict(quantity=conflict.quantity, values=[v for _, v, _ in conflict.statements], references=numbers)
        )
    return references, out, shown


def _merge_related(first: list[str], second: list[str], limit: int = 5) -> list[str]:
    """The generator's own follow-ups first, topped up from the facet-based ones, without repeats."""
    out: list[str] = []
    for q in [*first, *second]:
        if q.lower() not in {o.lower() for o in out}:
            out.append(q)
    return out[:limit]
