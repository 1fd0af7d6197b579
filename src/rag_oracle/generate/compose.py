"""What every generator does after drafting: verify citations, report conflicts, suggest related
questions, note thin evidence, decide yes/no. Shared so that an LLM's answer is held to exactly
the same checks as the extractive one."""

from __future__ import annotations

from collections.abc import Callable

from rag_oracle.generate.decision import decide, is_yes_no_question
from rag_oracle.generate.related import related_questions
from rag_oracle.index.store import embedding_text
from rag_oracle.settings import AnswerSettings
from rag_oracle.types import Answer, CitedSpan, Conflict, Hit, Reference
from rag_oracle.verify.citations import DraftSection, reference_for, verify
from rag_oracle.verify.conflicts import FoundConflict

DISCLAIMER = (
    "This answer was composed automatically from the indexed documents. It is not medical advice: "
    "check the cited passages and current guidelines before making clinical decisions."
)


def diversify(hits: list[Hit], k: int, per_document: int) -> list[Hit]:
    """The best `k` hits with at most `per_document` chunks from any one document, in rank order,
    so one long document cannot crowd every other source out of the answer."""
    out: list[Hit] = []
    counts: dict[str, int] = {}
    for hit in hits:
        if counts.get(hit.chunk.doc_id, 0) < per_document:
            out.append(hit)
            counts[hit.chunk.doc_id] = counts.get(hit.chunk.doc_id, 0) + 1
            if len(out) >= k:
                break
    return out


def passage_similarities(embedder, question: str, passages: list[Hit]):
    """(query vector, cosine similarity of each passage to the question): the relevance gate's input,
    the same for every generator. Passages are embedded as indexed (title + text), so cache hits."""
    query = embedder.embed_query(question)
    vecs = embedder.embed_documents([embedding_text(h.document.title, h.chunk.text) for h in passages])
    return query, vecs @ query


def not_relevant_reason(best: float, threshold: float) -> str:
    return f"no passage is relevant enough (best similarity {best:.2f}, threshold {threshold:.2f})"


def abstention(question: str, hits: list[Hit], reason: str, generator: str) -> Answer:
    """The answer that says the indexed literature does not answer the question, and why."""
    return Answer(
        question=question,
        abstained=True,
        abstention_reason=f"The indexed literature does not answer this question: {reason}.",
        hits=hits,
        disclaimer=DISCLAIMER,
        generator=generator,
    )


def notes_for(references: list, best_similarity: float | None) -> list[str]:
    notes = []
    if len({r.doc_id for r in references}) == 1:
        notes.append("Evidence is limited: this answer rests on a single source.")
    if best_similarity is not None and best_similarity < 0.5:
        notes.append(
            "The retrieved passages match the question only partly; read the cited passages before relying on them."
        )
    return notes


def finalize(
    question: str,
    drafts: list[DraftSection],
    passages: list[Hit],
    conflicts: list[FoundConflict],
    *,
    settings: AnswerSettings,
    generator: str,
    document_frequency: Callable[[str], int],
    best_similarity: float | None = None,
    related_from: list[Hit] | None = None,
    related: list[str] | None = None,
) -> Answer:
    """Verify `drafts` against `passages` (numbered from 1 as the generator saw them) and build the Answer."""
    verified = verify(drafts, passages, policy=settings.unsupported_policy)
    answered = bool(verified.sections)
    references, answer_conflicts, shown = verified.references, [], list(passages)
    if answered:
        references, answer_conflicts, shown = _cite_conflicts(conflicts[:2], references, shown)
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
        notes=notes_for(references, best_similarity) if answered else [],
        related_questions=_merge_related(
            related or [], related_questions(question, related_from or passages, document_frequency)
        ),
        conflicts=answer_conflicts,
        verification=verified.checks,
        disclaimer=DISCLAIMER,
        generator=generator,
    )
    if is_yes_no_question(question) and answered:
        answer = answer.model_copy(update={"decision": decide(answer)})
    return answer


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
