"""Render an Answer as plain text for a terminal: Markdown-flavoured layout, nothing a terminal acts on.

The text comes from documents, and a document can hold escape sequences (colours, cursor moves,
OSC 8 hyperlinks, a reset), carriage returns that overwrite a line and bidi overrides that reorder
it. `render_markdown` passes its result through `terminal_safe`, so what is printed is what the
document says, shown, not obeyed. For Markdown that a client renders, see `rag_oracle.chat.export`.
"""

from __future__ import annotations

from rag_oracle.text.publication import study_label
from rag_oracle.text.untrusted import terminal_safe
from rag_oracle.types import Answer, AnswerDates, Reference


def authors_line(authors: list[str], limit: int = 3) -> str:
    """'Smith J, Lee K, Park S, et al.': the first `limit` authors, then et al."""
    shown = [a for a in authors if a][:limit]
    if not shown:
        return ""
    return ", ".join(shown) + (", et al." if len(authors) > limit else "")


def reference_line(ref: Reference) -> str:
    """The reference as a citation: 'Authors. Title. Journal. Year. Study type. PMID .... DOI ....',
    then where the passage is (file and page for files without an identifier, the chunk id), raw:
    each caller makes it safe for its output."""
    parts = []
    if ref.authors:
        parts.append(authors_line(ref.authors))
    parts.append(ref.title or ref.doc_id)
    if ref.journal:
        parts.append(ref.journal)
    if ref.year:
        parts.append(str(ref.year))
    if ref.study_type:
        parts.append(study_label(ref.study_type))
    ids = ref.identifiers
    for key, label in (("pmid", "PMID"), ("pmcid", "PMCID"), ("doi", "DOI")):
        if ids.get(key):
            parts.append(f"{label} {ids[key]}")
    if "pmid" not in ids and "doi" not in ids and ids.get("file"):
        where = ids["file"] + (f", p. {ids['page']}" if ids.get("page") else "")
        parts.append(where)
    elif ids.get("page"):
        parts.append(f"p. {ids['page']}")
    parts.append(f"chunk {ref.chunk_id}")
    return ". ".join(p.rstrip(".") for p in parts)


def evidence_phrase(dates: AnswerDates) -> str:
    """'newest cited source 2022', or with undated sources 'newest dated source 2022, 1 cited source
    undated' (a year cannot be claimed newest over sources whose year is unknown); '' for none."""
    undated = dates.undated_sources
    some = f"{undated} cited source{'s' if undated != 1 else ''} undated"
    if dates.newest_evidence_year and undated:
        return f"newest dated source {dates.newest_evidence_year}, {some}"
    if dates.newest_evidence_year:
        return f"newest cited source {dates.newest_evidence_year}"
    return some if undated else ""


def dates_line(answer: Answer) -> str:
    """'Last updated: index 2026-11-30 · newest cited source 2022'; empty without dates."""
    dates = answer.dates
    if dates is None or not dates.index_updated:
        return ""
    evidence = evidence_phrase(dates)
    return f"Last updated: index {dates.index_updated[:10]}" + (f" · {evidence}" if evidence else "")


def render_markdown(answer: Answer, *, show_passages: bool = True) -> str:
    """The answer for a terminal: question, verdict, body, notes, references and passages (`terminal_safe`)."""
    out = [f"Question: {answer.question}", ""]
    if answer.patient_context is not None and answer.patient_context.labels():
        out += [f"Patient: {' · '.join(answer.patient_context.labels())}", ""]
    if answer.coverage:
        out += [f"Note: {answer.coverage}", ""]  # what the index does not cover comes first
    if answer.verdict:
        out += [f"Verdict: {answer.verdict} (read from the statements below)", ""]
    out.append(answer.text)
    if answer.notes:
        out += ["", *[f"Note: {n}" for n in answer.notes]]
    flagged = [c for c in answer.verification if c.status != "supported"]
    if flagged:
        removed = sum(c.status == "removed" for c in flagged)
        out += [
            "",
            f"Verification: {removed} draft sentence(s) removed, {len(flagged) - removed} flagged as unsupported.",
        ]
    if answer.related_questions:
        out += ["", "Related questions", *[f"- {q}" for q in answer.related_questions]]
    if answer.references:
        out += ["", "References"]
        for ref in answer.references:
            out.append(f"[{ref.number}] {reference_line(ref)}")
            if show_passages:
                for span in ref.cited_spans:
                    out.append(f'    "{span.text}"')
    elif answer.abstained and answer.hits:
        out += ["", "Closest documents found (they do not answer it):"]
        seen: list[str] = []
        for hit in answer.hits:
            if hit.document.id not in seen and len(seen) < 3:
                seen.append(hit.document.id)
                out.append(f"- {hit.document.title or hit.document.id} ({hit.chunk.id})")
    if dates_line(answer):
        out += ["", dates_line(answer)]
    if answer.disclaimer:
        out += ["", answer.disclaimer]
    return terminal_safe("\n".join(out))
