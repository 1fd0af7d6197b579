"""Every type that crosses a stage survives a JSON round trip, and every field is described."""

from __future__ import annotations

import inspect

import pytest
from pydantic import BaseModel

from rag_oracle import types as T

CHUNK = T.Chunk(
    id="doc-1#0",
    doc_id="doc-1",
    ordinal=0,
    text="Stop warfarin 5 days before surgery.",
    section="Warfarin",
    char_start=0,
    char_end=36,
    page_start=1,
    page_end=1,
    token_count=7,
)
INFO = T.DocumentInfo(id="doc-1", title="Warfarin", year=2020, pmid="1", publication_types=["Review"])
HIT = T.Hit(chunk=CHUNK, document=INFO, rank=1, score=0.03, dense_score=0.8, dense_rank=1, bm25_score=3.2, bm25_rank=2)
SPAN = T.CitedSpan(text="Stop warfarin 5 days before surgery.", char_start=0, char_end=36)
REFERENCE = T.Reference(number=1, chunk_id="doc-1#0", doc_id="doc-1", passage=CHUNK.text, cited_spans=[SPAN])
SENTENCE = T.AnswerSentence(text="Stop warfarin 5 days before surgery.", citations=[1])
CHECK = T.SentenceCheck(text=SENTENCE.text, section="direct", status="supported", coverage=1.0)
CONFLICT = T.Conflict(quantity="warfarin (day)", values=["5 days", "3 to 5 days"], references=[1, 2])
SECTION = T.AnswerSection(kind="direct", title="Answer", sentences=[SENTENCE])
PROVENANCE = T.Provenance(package_version="0.2.0", settings_hash="ab" * 8, generator="extractive@2")
ANSWER = T.Answer(
    question="When should warfarin be stopped?",
    abstained=False,
    sections=[SECTION],
    references=[REFERENCE],
    hits=[HIT],
    notes=["Evidence is limited: this answer rests on a single source."],
    related_questions=["What is the usual dose of warfarin?"],
    conflicts=[CONFLICT],
    verification=[CHECK],
    decision="yes",
    disclaimer="Not medical advice.",
    generator="extractive@2",
    provenance=PROVENANCE,
    timings_ms={"total": 1.5},
)
DRAFT_SENTENCE = T.DraftSentence(text=SENTENCE.text, citations=[1], spans=[SPAN])
DRAFT = T.Draft(
    sections=[T.DraftSection(kind="direct", title="Answer", sentences=[DRAFT_SENTENCE])],
    related_questions=["What about heparin?"],
    raw_text="Stop warfarin 5 days before surgery. [1]",
    generator="llm:answer@1",
)
FILE_REPORT = T.FileReport(
    path="corpus/a.pdf", status="ingested", documents=1, chunks=3, warnings=["w"], sha256="a" * 64
)
MESSAGE = T.ChatMessage(seq=2, role="assistant", content=ANSWER.text, answer=ANSWER, created_at="2026-01-01T00:00:00Z")

EXAMPLES: dict[type[BaseModel], BaseModel] = {
    T.Section: T.Section(title="METHODS", start=0, end=10),
    T.DocumentMetadata: T.DocumentMetadata(format="pubmed", year=2020, mesh_terms=["Warfarin"], extra={"k": [1, 2]}),
    T.Document: T.Document(
        id="doc-1",
        title="Warfarin",
        text=CHUNK.text,
        sections=[T.Section(title="", start=0, end=36)],
        page_starts=[0],
        content_hash="c" * 64,
    ),
    T.Chunk: CHUNK,
    T.DocumentInfo: INFO,
    T.Hit: HIT,
    T.CitedSpan: SPAN,
    T.Reference: REFERENCE,
    T.AnswerSentence: SENTENCE,
    T.SentenceCheck: CHECK,
    T.Conflict: CONFLICT,
    T.QuestionAnalysis: T.QuestionAnalysis(
        drugs=["clonazepam"],
        subject=["clonazepam"],
        topic_terms=["panic"],
        question_terms=["start", "dose", "clonazepam", "panic"],
        population=["older adults"],
        intent="start_dose",
        clearance=(0.0, 30.0),
        missing=[],
    ),
    T.AnswerSection: SECTION,
    T.Provenance: PROVENANCE,
    T.Answer: ANSWER,
    T.DraftSentence: DRAFT_SENTENCE,
    T.DraftSection: DRAFT.sections[0],
    T.Draft: DRAFT,
    T.Filters: T.Filters(year_min=2010, year_max=2020, publication_types=["Review"], sources=["pubmed"]),
    T.Exchange: T.Exchange(question="and in the elderly?", standalone="What ... in the elderly?", answer="..."),
    T.Turn: T.Turn(session_id="s", seq=2, question="q?", standalone_question="q?", answer=ANSWER),
    T.ChatMessage: MESSAGE,
    T.SessionInfo: T.SessionInfo(id="s", created_at="t", updated_at="t", settings={"answer": {"audience": "patient"}}),
    T.FileReport: FILE_REPORT,
    T.IngestReport: T.IngestReport(
        index_path="indexes/x",
        files=[FILE_REPORT],
        documents_added=1,
        chunks_added=3,
        tokens_added=120,
        total_documents=1,
        total_chunks=3,
        seconds={"embed": 0.5},
        embed_cache={"hits": 0, "misses": 3},
    ),
    T.Session: T.Session(id="s", created_at="t", updated_at="t", message_count=1, messages=[MESSAGE]),
    T.AnswerDates: T.AnswerDates(
        index_updated="2026-11-30T10:00:00Z", newest_evidence_year=2022, oldest_evidence_year=2019, answered_at="t"
    ),
    T.PatientContext: T.PatientContext(age_group="older_adult", pregnancy=None, renal_function="moderate"),
    T.ReviewEvent: T.ReviewEvent(status="approved", reviewer="Dr A", note="checked doses", at="t"),
    T.Review: T.Review(
        status="approved",
        reviewer="Dr A",
        note="checked doses",
        reviewed_at="t",
        history=[T.ReviewEvent(status="approved", reviewer="Dr A", note="checked doses", at="t")],
    ),
    T.RemoveReport: T.RemoveReport(
        index_path="indexes/x",
        documents_removed=["pmid:1"],
        aliases_removed=["pmid:2"],
        chunks_removed=3,
        sources_forgotten=["papers/a.jsonl"],
        total_documents=4,
        total_chunks=12,
    ),
}


def _models() -> list[type[BaseModel]]:
    return [
        obj
        for _, obj in inspect.getmembers(T, inspect.isclass)
        if issubclass(obj, BaseModel) and obj.__module__ == T.__name__ and not obj.__name__.startswith("_")
    ]


def test_every_type_has_an_example():
    missing = [m.__name__ for m in _models() if m not in EXAMPLES]
    assert not missing, f"add a round-trip example for {missing}"


@pytest.mark.parametrize("model", list(EXAMPLES), ids=lambda m: m.__name__)
def test_json_round_trip(model):
    value = EXAMPLES[model]
    assert model.model_validate_json(value.model_dump_json()) == value
    assert model.model_validate(value.model_dump()) == value
    assert model.model_validate(value.model_dump(mode="json")) == value


@pytest.mark.parametrize("model", list(EXAMPLES), ids=lambda m: m.__name__)
def test_frozen(model):
    value = EXAMPLES[model]
    name = next(iter(type(value).model_fields))
    with pytest.raises(Exception, match="frozen"):
        setattr(value, name, getattr(value, name))


def test_answer_dump_carries_text_and_reads_back():
    data = ANSWER.model_dump(mode="json")
    assert data["text"].startswith("Stop warfarin 5 days before surgery. [1]")
    assert "Conflicting evidence" in data["text"]
    assert T.Answer.model_validate(data).text == ANSWER.text


def test_filters_reject_an_empty_year_range():
    from rag_oracle.errors import QueryError

    with pytest.raises(QueryError, match="year range is empty"):
        T.Filters(year_min=2021, year_max=2020)
