"""Sessions and answers as files and messages: JSON (complete), Markdown (to read), and the cited
reply an OpenAI-compatible client shows (answer body with [n] markers, then the references).

The Markdown (the reply is Markdown too: clients render it) is ours, the text in it is not: every
piece that comes from a document, a model or a user goes through `plain_markdown`, so a planted
image, link or script shows as words and is never fetched, followed or run. Our own structure (the
headings, the bullets, the [n] markers, the numbered references) is written around those pieces and
stays Markdown. The JSON export is faithful: JSON escapes by construction; it holds each answer's
review (`ChatMessage.review`, with its history) too.

Under each answer the Markdown transcript shows the patient it was asked about (when given), how
current it is ("Last updated: index <date> · newest cited source <year>") and its review: the
status (Submitted, Under review, Approved, Flagged), who changed it, when, and the note.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from rag_oracle.answer.render import evidence_phrase, reference_line
from rag_oracle.chat.store import Session
from rag_oracle.text.untrusted import plain_markdown
from rag_oracle.types import Answer, Review
from rag_oracle.version import __version__

EXPORT_FORMAT = "rag-oracle.session"
EXPORT_VERSION = 1
REVIEW_LABELS = {"submitted": "Submitted", "under_review": "Under review", "approved": "Approved", "flagged": "Flagged"}


def session_json(session: Session) -> str:
    """Every message with its full answer (passages, citations, verification), plus provenance."""
    data = {
        "format": EXPORT_FORMAT,
        "format_version": EXPORT_VERSION,
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "rag_oracle_version": __version__,
        "session": session.model_dump(mode="json"),
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _markers(numbers: list[int]) -> str:
    return "".join(f"[{n}]" for n in numbers)


def answer_markdown(answer: Answer) -> str:
    """`answer.text` as Markdown: the same layout, with every sentence and title made plain.

    For ordinary text it is `answer.text` exactly; a sentence quoted from a document that holds
    Markdown or HTML ("![x](http://...)", "<script>") comes out as words.
    """
    return answer.body(plain_markdown)


def render_reply(answer: Answer, *, quote_spans: bool = False) -> str:
    """The answer body with [n] markers, its notes, a numbered References list and the disclaimer, as
    Markdown in which no document text is markup (see the module docstring)."""
    parts = [answer_markdown(answer)]
    if answer.notes:
        parts.append("\n".join(f"Note: {plain_markdown(note)}" for note in answer.notes))
    if answer.references:
        lines = ["References"]
        for ref in answer.references:
            lines.append(f"[{ref.number}] {plain_markdown(reference_line(ref))}")
            if quote_spans:
                lines.extend(f'    > "{plain_markdown(span.text)}"' for span in ref.cited_spans)
        parts.append("\n".join(lines))
    if answer.disclaimer:
        parts.append(answer.disclaimer)
    return "\n\n".join(p for p in parts if p)


def answer_status_lines(answer: Answer, review: Review | None) -> list[str]:
    """The lines under an answer in the transcript: patient, how current it is, its review."""
    lines = []
    labels = answer.patient_context.labels() if answer.patient_context is not None else []
    if labels:
        lines.append(f"*Patient:* {' · '.join(labels)}")
    dates = answer.dates
    evidence = evidence_phrase(dates) if dates is not None else ""
    if dates is not None and (dates.index_updated or evidence):
        parts = [f"index {dates.index_updated[:10]}"] if dates.index_updated else []
        lines.append(f"*Last updated:* {' · '.join([*parts, evidence] if evidence else parts)}")
    if review is not None:
        line = f"*Review:* {REVIEW_LABELS[review.status]}"
        latest = review.history[-1] if review.history else None
        if latest is not None:
            line += f" by {plain_markdown(latest.reviewer)}" if latest.reviewer else " (automatic)"
            line += f", {latest.at[:10]}"
            if latest.note:
                line += f": {plain_markdown(latest.note)}"
        lines.append(line)
    return lines


def session_markdown(session: Session) -> str:
    """A readable transcript: each question, how it was interpreted, the cited answer and its sources."""
    out = [
        f"# {plain_markdown(session.title) or 'Conversation'}",
        "",
        f"Session `{session.id}`, started {session.created_at}, index `{session.index_path}`.",
    ]
    if session.settings:
        out.append(f"Settings: `{json.dumps(session.settings, sort_keys=True)}`.")
    number = 0
    for message in session.messages:
        if message.role == "user":
            number += 1
            out += ["", f"## {number}. {plain_markdown(message.content)}"]
            if message.standalone_question and message.standalone_question != message.content:
                out += ["", f"*Searched as:* {plain_markdown(message.standalone_question)}"]
        elif message.answer is not None:
            out += ["", render_reply(message.answer, quote_spans=True)]
            if message.answer.related_questions:
                out += ["", "Related questions:", *[f"- {plain_markdown(q)}" for q in message.answer.related_questions]]
            for line in answer_status_lines(message.answer, message.review):
                out += ["", line]
        else:
            out += ["", plain_markdown(message.content)]
    return "\n".join(out) + "\n"
