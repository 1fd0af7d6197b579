"""Versioned prompts: validated on load, released versions frozen by the lock file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from rag_oracle.generate.prompts import PromptError, check_lock, list_prompts, load_prompt, write_lock

REPO_PROMPTS = Path(__file__).resolve().parents[2] / "prompts"


def test_released_prompts_never_change() -> None:
    assert check_lock(REPO_PROMPTS) == [], "a released prompt was edited: add a new version instead"
    lock = json.loads((REPO_PROMPTS / "lock.json").read_text())
    assert {p.ref for p in list_prompts(REPO_PROMPTS)} == set(lock), (
        "every prompt version must be released (rag-oracle prompts lock)"
    )


def test_load_latest_and_specific_versions() -> None:
    assert load_prompt("answer", REPO_PROMPTS).version == max(
        p.version for p in list_prompts(REPO_PROMPTS) if p.id == "answer"
    )
    v1 = load_prompt("answer@1", REPO_PROMPTS)
    assert v1.ref == "answer@1" and set(v1.audiences) == {"clinician", "patient", "researcher"}
    messages = v1.messages(question="Q?", passages="[1] P", audience="patient")
    assert "plain language" in messages[0].content and "Q?" in messages[1].content


@pytest.fixture
def prompts_copy(tmp_path: Path) -> Path:
    root = tmp_path / "prompts"
    shutil.copytree(REPO_PROMPTS, root)
    return root


def test_editing_a_released_prompt_is_detected(prompts_copy: Path) -> None:
    path = prompts_copy / "answer" / "v1.yaml"
    path.write_text(path.read_text().replace("ONLY", "mostly"))
    [problem] = check_lock(prompts_copy)
    assert "answer@1 changed after release" in problem
    with pytest.raises(PromptError, match="changed after release"):
        write_lock(prompts_copy)


def test_new_version_is_locked(prompts_copy: Path) -> None:
    text = (prompts_copy / "answer" / "v2.yaml").read_text().replace("version: 2", "version: 3")
    (prompts_copy / "answer" / "v3.yaml").write_text(text)
    assert write_lock(prompts_copy) == ["answer@3"]
    assert check_lock(prompts_copy) == []


def test_undeclared_and_unused_variables(prompts_copy: Path) -> None:
    base = (prompts_copy / "answer" / "v1.yaml").read_text()
    (prompts_copy / "answer" / "v7.yaml").write_text(
        base.replace("version: 1", "version: 7").replace("Question: {question}", "Question: {question} {patient_age}")
    )
    with pytest.raises(PromptError, match=r"undeclared variable\(s\) \['patient_age'\]"):
        load_prompt("answer@7", prompts_copy)
    (prompts_copy / "answer" / "v7.yaml").write_text(
        base.replace("version: 1", "version: 7").replace("[question, passages", "[question, extra, passages")
    )
    with pytest.raises(PromptError, match=r"used by no template; remove them"):
        load_prompt("answer@7", prompts_copy)


def test_missing_prompt_and_version(prompts_copy: Path) -> None:
    with pytest.raises(PromptError, match="no prompt 'nope'"):
        load_prompt("nope@1", prompts_copy)
    with pytest.raises(PromptError, match="no version '99'"):
        load_prompt("answer@99", prompts_copy)
    (prompts_copy / "answer" / "v5.yaml").write_text("id: answer\nversion: 4\nsystem: x\nuser: y\nvariables: []\n")
    with pytest.raises(PromptError, match="file name says version 5"):
        load_prompt("answer@5", prompts_copy)
