"""Reviews of stored answers: statuses and their history, migration of a version-1 sessions file,
regeneration sending an answer back to submitted, concurrent reviewers, and bad input."""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path

import pytest

from rag_oracle import RagOracle, ingest
from rag_oracle.chat import ChatService, SessionNotFoundError, SessionStore
from rag_oracle.chat.store import REGENERATED_NEW_INDEX, REGENERATED_NEW_TEXT
from rag_oracle.errors import QueryError, TurnNotFoundError
from rag_oracle.types import Answer, PatientContext, Provenance, Review
from tests.chat.chat_corpus import QUESTION, build_chat_index
from tests.chat.markdown_render import markup, rendered_text

SERTRALINE = "What is the usual dose of sertraline?"


def _answer(text: str, checksum: str = "sha-a") -> Answer:
    provenance = Provenance(package_version="0", settings_hash="s", index_checksum=checksum)
    return Answer(question="Q?", abstained=True, abstention_reason=text, provenance=provenance)


def _store_with_turn(tmp_path: Path) -> tuple[SessionStore, str, int]:
    store = SessionStore(tmp_path / "sessions.sqlite")
    session_id = store.create().id
    seq = store.append_turn(session_id, "What is X?", "What is X?", _answer("X is Y."))
    return store, session_id, seq


# --- the store ------------------------------------------------------------------------------------


def test_a_new_answer_is_submitted_and_each_change_is_kept(tmp_path: Path) -> None:
    store, session_id, seq = _store_with_turn(tmp_path)
    assert store.review_of(session_id, seq) == Review()
    messages = store.get(session_id).messages
    assert messages[0].review is None  # a question has no review
    assert messages[1].review == Review(status="submitted")

    store.review(session_id, seq, "under_review", "Dr Lee")
    review = store.review(session_id, seq, "approved", "Dr Kim", "matches the guideline")
    assert (review.status, review.reviewer, review.note) == ("approved", "Dr Kim", "matches the guideline")
    assert [(e.status, e.reviewer) for e in review.history] == [("under_review", "Dr Lee"), ("approved", "Dr Kim")]
    assert review.reviewed_at == review.history[-1].at

    # stored with the turn: a new store (a restart) reads the same
    assert SessionStore(store.path).get(session_id).messages[1].review == review


def test_a_version_1_file_is_migrated_in_place_losing_nothing(tmp_path: Path) -> None:
    db = tmp_path / "old.sqlite"
    answer = _answer("X is Y.")
    with sqlite3.connect(db) as conn:  # the version-1 schema, as rag-oracle wrote it
        conn.executescript(
            """
            CREATE TABLE sessions (id TEXT PRIMARY KEY, created_at TEXT NOT NULL, title TEXT NOT NULL DEFAULT '',
                index_path TEXT NOT NULL DEFAULT '', settings TEXT NOT NULL DEFAULT '{}');
            CREATE TABLE messages (
                session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE, seq INTEGER NOT NULL,
                role TEXT NOT NULL CHECK (role IN ('user', 'assistant')), content TEXT NOT NULL,
                standalone_question TEXT, answer_json TEXT, created_at TEXT NOT NULL, PRIMARY KEY (session_id, seq));
            PRAGMA user_version = 1;
            """
        )
        conn.execute("INSERT INTO sessions VALUES ('s1', '2024-01-01T00:00:00Z', 'What is X?', 'idx', '{}')")
        for seq in (1, 3):
            conn.execute(
                "INSERT INTO messages VALUES ('s1', ?, 'user', 'What is X?', 'What is X?', NULL, '2024-01-01T00:00:01Z')",
                (seq,),
            )
            conn.execute(
                "INSERT INTO messages VALUES ('s1', ?, 'assistant', ?, NULL, ?, '2024-01-01T00:00:02Z')",
                (seq + 1, answer.text, answer.model_dump_json(exclude={"text"})),
            )

    store = SessionStore(db)
    session = store.get("s1")
    assert [(m.seq, m.role, m.content) for m in session.messages] == [
        (1, "user", "What is X?"),
        (2, "assistant", "X is Y."),
        (3, "user", "What is X?"),
        (4, "assistant", "X is Y."),
    ]
    assert session.messages[1].answer == answer and session.title == "What is X?"
    assert [m.review.status for m in session.messages if m.review is not None] == ["submitted", "submitted"]
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 2
    # the migrated file takes reviews and new turns
    assert store.review("s1", 4, "flagged", "Dr Lee", "wrong dose").status == "flagged"
    assert store.append_turn("s1", "and Y?", "What is X and Y?", _answer("Y.")) == 6


def test_deleting_a_session_deletes_its_reviews(tmp_path: Path) -> None:
    store, session_id, seq = _store_with_turn(tmp_path)
    store.review(session_id, seq, "approved", "Dr Lee")
    store.delete(session_id)
    with sqlite3.connect(store.path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM reviews").fetchone()[0] == 0


def test_replacing_an_approved_answer_from_another_index_sends_it_back(tmp_path: Path) -> None:
    store, session_id, seq = _store_with_turn(tmp_path)
    approved = store.review(session_id, seq, "approved", "Dr Lee", "ok")

    # same index, same text: the approval stands (and the new standalone question is stored)
    kept = store.replace_answer(session_id, seq, "What is X, exactly?", _answer("X is Y."))
    assert kept == approved
    assert store.get(session_id).messages[0].standalone_question == "What is X, exactly?"

    # the same text read from another index: back to submitted, a system event says why
    review = store.replace_answer(session_id, seq, "What is X?", _answer("X is Y.", checksum="sha-b"))
    assert (review.status, review.reviewer, review.note) == ("submitted", "", REGENERATED_NEW_INDEX)
    assert [e.status for e in review.history] == ["approved", "submitted"]
    assert review.reviewed_at == approved.reviewed_at  # the system is not a reviewer

    # flagged, then another answer from the same index: back to submitted with the other reason
    store.review(session_id, seq, "flagged", "Dr Kim")
    review = store.replace_answer(session_id, seq, "What is X?", _answer("X is Z.", checksum="sha-b"))
    assert (review.status, review.note) == ("submitted", REGENERATED_NEW_TEXT)
    stored = store.get(session_id).messages[1]
    assert stored.content == "X is Z." and stored.answer == _answer("X is Z.", checksum="sha-b")

    # an answer still submitted gets no event when it changes
    again = store.replace_answer(session_id, seq, "What is X?", _answer("X is W.", checksum="sha-c"))
    assert again.history == review.history


def test_two_reviewers_at_once_both_land(tmp_path: Path) -> None:
    store, session_id, seq = _store_with_turn(tmp_path)
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def reviewer(name: str, status: str) -> None:
        try:
            start.wait()
            for i in range(15):
                store.review(session_id, seq, status, name, f"pass {i}")  # type: ignore[arg-type]
        except BaseException as exc:  # collected: an assert in a thread would be lost
            errors.append(exc)

    threads = [
        threading.Thread(target=reviewer, args=("Dr Lee", "approved")),
        threading.Thread(target=reviewer, args=("Dr Kim", "flagged")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    review = store.review_of(session_id, seq)
    assert len(review.history) == 30
    assert sorted(e.reviewer for e in review.history).count("Dr Lee") == 15
    for name in ("Dr Lee", "Dr Kim"):  # each reviewer's events in the order written
        assert [e.note for e in review.history if e.reviewer == name] == [f"pass {i}" for i in range(15)]
    latest = review.history[-1]
    assert (review.status, review.reviewer) == (latest.status, latest.reviewer)


def test_reviewing_what_is_not_an_answer_is_an_error(tmp_path: Path) -> None:
    store, session_id, seq = _store_with_turn(tmp_path)
    with pytest.raises(TurnNotFoundError, match="a question, not an answer"):
        store.review(session_id, seq - 1, "approved", "Dr Lee")
    with pytest.raises(TurnNotFoundError, match="no message at seq 99"):
        store.review(session_id, 99, "approved", "Dr Lee")
    with pytest.raises(TurnNotFoundError):
        store.replace_answer(session_id, seq - 1, "Q?", _answer("A."))
    with pytest.raises(SessionNotFoundError):
        store.review("nope", seq, "approved", "Dr Lee")
    with pytest.raises(SessionNotFoundError):
        store.review_of("nope", seq)
    assert store.review_of(session_id, seq).history == []  # nothing was written


# --- the service ----------------------------------------------------------------------------------


def test_send_returns_a_submitted_turn_and_review_checks_its_input(service: ChatService) -> None:
    session = service.start_session()
    turn = service.send(session.id, QUESTION)
    assert turn.review == Review() and turn.seq == 2

    review = service.review(session.id, turn.seq, "approved", "  Dr   Lee ", " checked ")
    assert (review.status, review.reviewer, review.note) == ("approved", "Dr Lee", "checked")
    assert service.review_of(session.id, turn.seq) == review
    assert service.session(session.id).messages[1].review == review

    for status, reviewer, note, message in [
        ("done", "Dr Lee", "", "unknown review status 'done'"),
        ("approved", "  ", "", "the reviewer is empty"),
        ("approved", "x" * 121, "", "the limit is 120"),
        ("approved", "Dr Lee", "n" * 2001, "the limit is 2000"),
    ]:
        with pytest.raises(QueryError, match=message):
            service.review(session.id, turn.seq, status, reviewer, note)
    assert service.review_of(session.id, turn.seq) == review  # none of them was stored
    with pytest.raises(TurnNotFoundError):
        service.review(session.id, 1, "approved", "Dr Lee")


def test_regenerating_unchanged_keeps_the_review(service: ChatService) -> None:
    session = service.start_session()
    turn = service.send(session.id, QUESTION)
    approved = service.review(session.id, turn.seq, "approved", "Dr Lee")
    stages: list[str] = []

    again = service.regenerate(session.id, turn.seq, on_stage=stages.append)
    assert again.answer.text == turn.answer.text and again.standalone_question == turn.standalone_question
    assert again.review == approved
    assert (again.session_id, again.seq, again.question) == (session.id, turn.seq, QUESTION)
    assert stages[0] == "retrieving" and "rewriting" not in stages  # the stored question is not rewritten again


def test_regenerating_with_an_edited_search_replaces_the_turn(service: ChatService) -> None:
    session = service.start_session()
    service.send(session.id, QUESTION)
    follow = service.send(session.id, "and in the elderly?")
    service.review(session.id, follow.seq, "approved", "Dr Lee")

    edited = service.regenerate(session.id, follow.seq, standalone=SERTRALINE)
    assert edited.standalone_question == SERTRALINE and edited.question == "and in the elderly?"
    assert edited.answer.references[0].doc_id == "doc-sertraline"
    assert (edited.review.status, edited.review.note) == ("submitted", REGENERATED_NEW_TEXT)

    stored = service.session(session.id)
    assert stored.message_count == 4  # replaced, not appended
    assert stored.messages[2].standalone_question == SERTRALINE
    assert stored.messages[3].answer == edited.answer and stored.messages[3].review == edited.review

    with pytest.raises(TurnNotFoundError):
        service.regenerate(session.id, 3)  # a question's seq
    with pytest.raises(QueryError):
        service.regenerate(session.id, follow.seq, standalone="   ")


def test_regenerating_keeps_the_patient_unless_told_otherwise(service: ChatService) -> None:
    session = service.start_session()
    older = PatientContext(age_group="older_adult")
    turn = service.send(session.id, "What is the starting dose of clonazepam?", context=older)
    assert "in older adults" in turn.answer.question
    again = service.regenerate(session.id, turn.seq)
    assert again.answer.patient_context == older and again.answer.question == turn.answer.question
    dropped = service.regenerate(session.id, turn.seq, context=PatientContext())
    assert dropped.answer.patient_context is None and "older adults" not in dropped.answer.question


def test_an_approved_answer_regenerated_after_the_index_changed_is_submitted(tmp_path: Path) -> None:
    settings, path = build_chat_index(tmp_path / "own")  # this test's own index: it changes it
    store = SessionStore(tmp_path / "sessions.sqlite")
    service = ChatService(RagOracle(path, settings), store)
    session = service.start_session()
    turn = service.send(session.id, QUESTION)
    service.review(session.id, turn.seq, "approved", "Dr Lee", "checked")

    extra = tmp_path / "extra.jsonl"
    record = {"id": "new-doc", "title": "Lithium levels", "text": "Lithium levels are checked every three months."}
    extra.write_text(json.dumps(record) + "\n", encoding="utf-8")
    assert ingest([extra], path, settings).documents_added == 1

    reopened = ChatService(RagOracle(path, settings), store)  # the server restarted on the new index
    again = reopened.regenerate(session.id, turn.seq)
    assert again.answer.provenance.index_checksum != turn.answer.provenance.index_checksum
    assert (again.review.status, again.review.reviewer, again.review.note) == ("submitted", "", REGENERATED_NEW_INDEX)
    assert [e.status for e in again.review.history] == ["approved", "submitted"]


def test_exports_show_the_review_the_dates_and_the_patient(service: ChatService) -> None:
    session = service.start_session()
    turn = service.send(session.id, QUESTION, context=PatientContext(age_group="older_adult"))
    assert turn.answer.references  # answered, so it has cited years
    review = service.review(session.id, turn.seq, "flagged", "Dr Lee", "the dose is not in the source")

    markdown = service.export(session.id, "markdown")
    assert f"*Review:* Flagged by Dr Lee, {review.reviewed_at[:10]}: the dose is not in the source" in markdown
    assert "*Patient:* Older adult (65+)" in markdown
    dates = turn.answer.dates
    assert f"*Last updated:* index {dates.index_updated[:10]} · newest cited source {dates.newest_evidence_year}" in (
        markdown
    )

    exported = json.loads(service.export(session.id, "json"))["session"]["messages"][1]["review"]
    assert exported["status"] == "flagged" and exported["history"][0]["reviewer"] == "Dr Lee"

    plain = service.start_session()
    service.send(plain.id, QUESTION)
    markdown = service.export(plain.id, "markdown")
    assert "*Review:* Submitted\n" in markdown and "*Patient:*" not in markdown


def test_a_reviewer_name_or_note_is_never_markup_in_the_transcript(service: ChatService) -> None:
    session = service.start_session()
    turn = service.send(session.id, QUESTION)
    hostile = "![x](http://attacker.test/p.png)<script>x</script>"
    service.review(session.id, turn.seq, "approved", f"Dr {hostile}", f"fine {hostile}")
    line = next(x for x in service.export(session.id, "markdown").splitlines() if x.startswith("*Review:*"))
    assert markup(line) == []
    assert "Approved by Dr x" in rendered_text(line)
