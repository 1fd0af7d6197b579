"""The Markdown reply and export: the layout of `Answer.text`, with document text made plain."""

from __future__ import annotations

import pytest

from rag_oracle.chat import ChatService, render_reply
from rag_oracle.chat.export import answer_markdown
from rag_oracle.types import Answer, AnswerSection, AnswerSentence, Conflict, Reference
from tests.chat.chat_corpus import QUESTION
from tests.chat.markdown_render import markup, rendered_text


def _answer(direct: str, dosing: str, context: str) -> Answer:
    return Answer(
        question="What is the dose?",
        abstained=False,
        sections=[
            AnswerSection(kind="direct", title="", sentences=[AnswerSentence(text=direct, citations=[1, 2])]),
            AnswerSection(kind="dosing", title="Dosing", sentences=[AnswerSentence(text=dosing, citations=[2])]),
        ],
        conflicts=[
            Conflict(
                quantity="zolpidem dose (mg)", values=["5 mg", "10 mg"], references=[1, 2], contexts=[context, "10 mg."]
            ),
            Conflict(quantity="zolpidem maximum (mg)", values=["10 mg", "40 mg"], references=[1, 2], outlier=True),
        ],
        references=[
            Reference(number=1, chunk_id="a#0", doc_id="a", title="Guide [Internet]", passage=direct),
            Reference(number=2, chunk_id="b#0", doc_id="b", title="Review", passage=dosing),
        ],
        disclaimer="Not medical advice.",
    )


def test_answer_markdown_is_answer_text_for_ordinary_prose() -> None:
    # It mirrors Answer.text; a change to that layout must be made here too, or this fails.
    answer = _answer("Start 5-10 mg at bedtime if CrCl <30 mL/min (p < 0.05).", "Step 1: start 5 mg.", "5 mg, 2 * 3.")
    assert answer_markdown(answer) == answer.text
    abstained = Answer(question="?", abstained=True, abstention_reason="The index does not cover it.")
    assert answer_markdown(abstained) == abstained.text


def test_answer_markdown_is_answer_text_for_the_chat_corpus(service: ChatService) -> None:
    answer = service.ask(QUESTION).answer
    assert answer.sections and answer_markdown(answer) == answer.text
    assert render_reply(answer).startswith(answer.text)


def test_every_document_piece_of_the_reply_is_plain() -> None:
    hostile = "![x](http://attacker.test/p.png)[go](javascript:alert(1))<script>x</script>"
    answer = _answer(f"Start 5 mg {hostile}.", f"# Give {hostile}", f"<img src=x> {hostile}")
    answer = answer.model_copy(update={"notes": [f"Thin evidence {hostile}"]})
    reply = render_reply(answer, quote_spans=True)
    assert markup(reply) == []
    seen = rendered_text(reply)
    assert "Start 5 mg xgo. [1][2]" in seen and "# Give xgo [2]" in seen
    assert "Guide [Internet]" in seen  # brackets in a title are text, and stay


@pytest.mark.parametrize("title", ["", "Zolpidem <b>dosing</b>"])
def test_export_title_is_plain(service: ChatService, title: str) -> None:
    session = service.start_session(title=title)
    service.send(session.id, QUESTION)
    exported = service.export(session.id, "markdown")
    assert exported.startswith("# Zolpidem dosing\n" if title else "# " + QUESTION)
