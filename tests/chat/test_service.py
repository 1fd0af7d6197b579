"""ChatService: follow-ups retrieve again with the carried subject, sessions export and delete."""

from __future__ import annotations

import json

import pytest

from rag_oracle.chat import ChatService, DocumentNotFoundError, SessionNotFoundError
from rag_oracle.errors import QueryError
from tests.chat.chat_corpus import QUESTION


def test_elliptical_follow_up_retrieves_clonazepam_in_the_elderly(service: ChatService) -> None:
    session = service.start_session()
    first = service.send(session.id, QUESTION)
    assert first.answer.hits[0].chunk.doc_id == "clz-depression"

    follow = service.send(session.id, "and in the elderly?")
    assert follow.standalone_question == "What is the dose of clonazepam for depression in the elderly?"
    # retrieval ran again for the rewritten question, and the answer cites the new passage first
    assert follow.answer.hits[0].chunk.doc_id == "clz-elderly"
    assert follow.answer.references[0].doc_id == "clz-elderly"
    assert "elderly" in follow.answer.text and "clonazepam" in follow.answer.text.lower()

    # without the conversation the same words find passages about the elderly in general
    alone = service.ask("and in the elderly?")
    assert alone.standalone_question == "and in the elderly?"
    # without the conversation it names no subject: it is declined, not answered from whatever matches "elderly"
    assert alone.answer.abstained and "names no drug, condition or test" in alone.answer.text


def test_self_contained_follow_up_is_unchanged(service: ChatService) -> None:
    session = service.start_session()
    service.send(session.id, QUESTION)
    turn = service.send(session.id, "What is the usual dose of sertraline?")
    assert turn.standalone_question == turn.question
    assert turn.answer.hits[0].chunk.doc_id == "doc-sertraline"


def test_session_stores_both_messages_and_exports(service: ChatService) -> None:
    session = service.start_session(overrides={"answer": {"audience": "patient"}})
    service.send(session.id, QUESTION)
    service.send(session.id, "and in the elderly?")

    stored = service.session(session.id)
    assert [m.role for m in stored.messages] == ["user", "assistant", "user", "assistant"]
    assert stored.settings == {"answer": {"audience": "patient"}}

    data = json.loads(service.export(session.id, "json"))
    assert data["format"] == "rag-oracle.session"
    messages = data["session"]["messages"]
    assert messages[2]["standalone_question"].endswith("in the elderly?")
    assert messages[3]["answer"]["references"][0]["doc_id"] == "clz-elderly"

    markdown = service.export(session.id, "markdown")
    assert markdown.startswith(f"# {QUESTION}")
    assert "## 2. and in the elderly?" in markdown
    assert "*Searched as:* What is the dose of clonazepam for depression in the elderly?" in markdown
    assert (
        "References\n[1] Brennan T, Osei K. Clonazepam in elderly patients. Age Ageing. 2022. Guideline. "
        "DOI 10.5555/chat.elderly"
    ) in markdown

    with pytest.raises(QueryError, match="unknown export format"):
        service.export(session.id, "pdf")  # type: ignore[arg-type]
    service.delete_session(session.id)
    with pytest.raises(SessionNotFoundError):
        service.export(session.id, "json")
    assert session.id not in [s.id for s in service.sessions()]


def test_overrides_are_limited_to_what_a_reader_may_choose(service: ChatService) -> None:
    pipeline = service.oracle.pipeline
    settings, retriever, generator = pipeline.components({"answer": {"audience": "patient"}})
    assert settings.answer.audience == "patient"
    assert retriever is pipeline.retriever  # retrieval settings unchanged: the same retriever
    assert pipeline.components({"answer": {"audience": "patient"}})[2] is generator  # built once
    assert service.oracle.settings.answer.audience == "clinician"  # the shared settings are untouched
    with pytest.raises(QueryError, match="cannot be changed per request"):
        service.start_session(overrides={"llm": {"base_url": "http://elsewhere"}})
    with pytest.raises(QueryError, match="audience"):
        service.ask(QUESTION, overrides={"answer": {"audience": "everyone"}})
    with pytest.raises(QueryError, match="empty"):
        service.ask("   ")
    with pytest.raises(QueryError, match="limit is 2000"):
        service.ask("x" * 2001)


def test_documents_resolve_aliases(service: ChatService) -> None:
    assert service.document("clz-elderly-copy").id == "clz-elderly"
    with pytest.raises(DocumentNotFoundError, match="no-such-doc"):
        service.document("no-such-doc")


def test_retrieval_callback_sees_the_hits_before_the_answer(service: ChatService) -> None:
    seen = []
    turn = service.ask(QUESTION, on_retrieved=seen.append)
    assert len(seen) == 1
    retrieved = [h.chunk.id for h in seen[0]]
    # the generator reads passages of the retrieved pool, in rank order
    shown = [h.chunk.id for h in turn.answer.hits]
    assert shown and set(shown) <= set(retrieved)
    assert sorted(shown, key=retrieved.index) == shown or turn.answer.conflicts


def test_concurrent_questions_get_the_answers_they_get_alone(service: ChatService) -> None:
    """No lock around the pipeline: twelve threads at once, each with its own settings, get exactly
    the answers they get one at a time (no request sees another's settings or callbacks)."""
    from concurrent.futures import ThreadPoolExecutor

    questions = [QUESTION, "What is the dose of clonazepam in the elderly?", "How should clonazepam be stopped?"]
    jobs = [(q, a) for q in questions for a in ("clinician", "patient", "researcher", "clinician")]

    def one(job):
        question, audience = job
        seen = []
        turn = service.ask(question, overrides={"answer": {"audience": audience}}, on_retrieved=seen.append)
        return turn.answer.text, turn.answer.provenance.settings_hash, len(seen)

    alone = [one(job) for job in jobs]
    with ThreadPoolExecutor(max_workers=6) as pool:
        together = list(pool.map(one, jobs))
    assert together == alone
    assert all(calls == 1 for _, _, calls in together)
    assert len({h for _, h, _ in alone}) == 3  # the audience is part of the settings hash


def test_warm_up_loads_the_model_even_when_the_cache_would_answer(service: ChatService) -> None:
    """A cached warm-up query never reaches the model, so warm-up must load it explicitly: else the
    first new question after a restart waits for the model, and every request behind it too."""
    embedder = service.oracle.embedder
    inner = getattr(embedder, "inner", embedder)
    calls = []
    inner.warm_up = lambda: calls.append("loaded")  # the hash embedder has nothing to load
    try:
        service.warm_up()
        service.warm_up()
    finally:
        del inner.warm_up
    assert calls == ["loaded", "loaded"]
