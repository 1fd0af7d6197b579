"""The extractive answer's structure: cited sentences, resolvable markers, references in order."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rag_oracle import RagOracle
from rag_oracle.answer.render import render_markdown
from rag_oracle.index.store import Index

QUESTIONS = [
    "How many days before surgery should warfarin be stopped?",
    "What dose of sertraline is used for depression?",
    "What is the starting dose of clonazepam for panic disorder?",
    "Is a low platelet count below 150 thrombocytopenia?",
]


@pytest.fixture
def oracle(built_index: Path, settings) -> RagOracle:
    return RagOracle(built_index, settings)


@pytest.mark.parametrize("question", QUESTIONS)
def test_every_marker_resolves_and_every_reference_is_cited(oracle: RagOracle, question: str) -> None:
    answer = oracle.ask(question)
    assert not answer.abstained
    text = answer.text
    markers = [int(n) for n in re.findall(r"\[(\d+)\]", text)]
    numbers = [r.number for r in answer.references]
    assert numbers == list(range(1, len(numbers) + 1))
    assert set(markers) == set(numbers), "a marker without a reference, or a reference never cited"
    first_seen = list(dict.fromkeys(markers))
    assert first_seen == numbers, "references must be numbered in order of first citation"
    for section in answer.sections:
        for sentence in section.sentences:
            assert sentence.citations, f"uncited sentence: {sentence.text}"


@pytest.mark.parametrize("question", QUESTIONS)
def test_cited_sentences_are_verbatim_from_their_passages(oracle: RagOracle, built_index: Path, question: str) -> None:
    answer = oracle.ask(question)
    documents = Index.open(built_index).documents
    refs = {r.number: r for r in answer.references}
    for section in answer.sections:
        for sentence in section.sentences:
            for n in sentence.citations:
                assert sentence.text in refs[n].passage
    for ref in answer.references:
        doc = documents[ref.doc_id]
        for span in ref.cited_spans:
            assert doc.text[span.char_start : span.char_end] == span.text


def test_direct_answer_comes_first_and_answers_a_dose_question(oracle: RagOracle) -> None:
    answer = oracle.ask("What dose of sertraline is used for depression?")
    assert answer.sections[0].kind == "direct"
    assert "50 mg" in " ".join(s.text for s in answer.sections[0].sentences)


def test_off_topic_question_abstains(oracle: RagOracle) -> None:
    answer = oracle.ask("Which gluon lattice yields quantum chromodynamics confinement?")
    assert answer.abstained
    assert answer.references == [] and answer.sections == []
    assert answer.text.startswith(
        ("The indexed literature does not answer this question", "The indexed literature has no passage about")
    )
    assert "gluon" in render_markdown(answer)  # it names what the index lacks


def test_single_source_is_flagged(oracle: RagOracle, settings, built_index: Path) -> None:
    from rag_oracle.retrieve import Filters

    answer = oracle.ask("sertraline dose depression", filters=Filters(sources=["records.jsonl"], year_max=2016))
    assert {r.doc_id for r in answer.references} == {"doc-sertraline"}
    assert any("single source" in note for note in answer.notes)


def test_json_carries_text_citations_hits_and_timings(oracle: RagOracle) -> None:
    import json

    data = json.loads(oracle.ask(QUESTIONS[0]).model_dump_json())
    assert data["text"] and data["references"][0]["chunk_id"] and data["references"][0]["passage"]
    assert data["hits"] and {"retrieve", "generate", "total"} <= set(data["timings_ms"])
    assert data["disclaimer"]


def test_rendered_answer_has_references_and_disclaimer(oracle: RagOracle) -> None:
    out = render_markdown(oracle.ask(QUESTIONS[0]))
    assert "References" in out and "[1]" in out
    assert "not medical advice" in out
