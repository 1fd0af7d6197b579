"""The shipped sample corpus with the real default embedder: what the README's first command does."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rag_oracle import RagOracle
from rag_oracle.api import SAMPLE_SUBDIRS

NOTICE = "not clinical guidance"

pytestmark = pytest.mark.slow


def test_every_sample_file_ingests(sample) -> None:
    _, _, report = sample
    assert report.count("failed") == 0, [f for f in report.files if f.status == "failed"]
    assert report.documents_added >= 25
    formats = {Path(f.path).parent.name for f in report.files if f.status == "ingested"}
    assert formats == set(SAMPLE_SUBDIRS)


def test_every_sample_document_says_it_is_not_guidance(sample) -> None:
    _, path, _ = sample
    oracle = RagOracle(path, sample[0])
    for doc in oracle.index.documents.values():
        assert NOTICE in doc.text, doc.id


def test_readme_question_gets_a_cited_dose_answer(sample) -> None:
    settings, path, _ = sample
    answer = RagOracle(path, settings).ask("What is the dosage of clonazepam for treating depression?")
    assert not answer.abstained
    text = answer.text
    assert re.search(r"not approved for (?:the treatment of )?depression", text)
    assert re.search(r"0\.5 to 1 mg", text)
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", text)}
    assert markers == {r.number for r in answer.references}
    assert len({r.doc_id for r in answer.references}) >= 2, "the answer should draw on several sources"


def test_unrelated_question_abstains(sample) -> None:
    settings, path, _ = sample
    answer = RagOracle(path, settings).ask("What is the capital of France?")
    # it says the index has nothing on what was asked, naming it as written
    assert answer.abstained and answer.text == "The indexed literature has no passage about capital of France."


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("How many days before surgery should warfarin be stopped?", r"5 days"),
        ("What is the prophylactic platelet transfusion threshold?", r"10 x 10\^9/L"),
        ("Which antibiotic for sinusitis if the patient is allergic to penicillin?", r"[Dd]oxycycline"),
    ],
)
def test_everyday_questions(sample, question: str, expected: str) -> None:
    settings, path, _ = sample
    answer = RagOracle(path, settings).ask(question)
    direct = " ".join(s.text for s in answer.sections[0].sentences)
    assert re.search(expected, direct), direct
