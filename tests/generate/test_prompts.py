"""Versioned prompts: validated on load, released versions frozen by the lock file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import rag_oracle.prompts
from rag_oracle.errors import PromptError
from rag_oracle.generate.prompts import check_lock, list_prompts, load_prompt, prompts_dir, write_lock

# The released prompts are package data; the repository's prompts/ is a symlink to them.
REPO_PROMPTS = Path(rag_oracle.prompts.__file__).parent


def test_released_prompts_never_change() -> None:
    assert check_lock(REPO_PROMPTS) == [], "a released prompt was edited: add a new version instead"
    lock = json.loads((REPO_PROMPTS / "lock.json").read_text())
    assert {p.ref for p in list_prompts(REPO_PROMPTS)} == set(lock), (
        "every prompt version must be released (rag-oracle prompts lock)"
    )


def test_prompts_are_found_in_the_package(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("RAG_ORACLE_PROMPTS_DIR", raising=False)
    monkeypatch.chdir(tmp_path)  # found wherever the program runs, not from the working directory
    assert prompts_dir() == REPO_PROMPTS
    assert Path(load_prompt("answer@2").path) == REPO_PROMPTS / "answer" / "v2.yaml"
    # the documented path for people tuning prompts still leads there in a checkout
    checkout_link = Path(__file__).resolve().parents[2] / "prompts"
    assert checkout_link.is_symlink() and checkout_link.resolve() == REPO_PROMPTS.resolve()


def test_environment_names_another_prompts_folder(monkeypatch: pytest.MonkeyPatch, prompts_copy: Path) -> None:
    (prompts_copy / "answer" / "v2.yaml").unlink()
    monkeypatch.setenv("RAG_ORACLE_PROMPTS_DIR", str(prompts_copy))
    assert prompts_dir() == prompts_copy
    assert load_prompt("answer").ref == "answer@1"  # the copy's latest, not the package's


def test_prompts_lock_command_writes_the_folder_in_use(monkeypatch: pytest.MonkeyPatch, prompts_copy: Path) -> None:
    from click.testing import CliRunner

    from rag_oracle.cli import main

    text = (prompts_copy / "rewrite" / "v1.yaml").read_text().replace("version: 1", "version: 2")
    (prompts_copy / "rewrite" / "v2.yaml").write_text(text)
    monkeypatch.setenv("RAG_ORACLE_PROMPTS_DIR", str(prompts_copy))
    result = CliRunner().invoke(main, ["prompts", "lock"])
    assert result.exit_code == 0, result.output
    assert "released: rewrite@2" in result.output
    assert "rewrite@2" in json.loads((prompts_copy / "lock.json").read_text())
    assert "rewrite@2" not in json.loads((REPO_PROMPTS / "lock.json").read_text())


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
