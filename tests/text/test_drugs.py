"""The drug dictionary lookup matches the package's own exact matching, without its start-up cost."""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path

import pytest

from rag_oracle.text import drugs
from tests.conftest import in_threads

REPO = Path(__file__).resolve().parents[2]
WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:['\u2019][a-z]+)?")


def _corpus_texts() -> list[str]:
    texts = []
    for line in (REPO / "corpus" / "jsonl" / "sample.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        texts += [record["title"], record["text"]]
    texts += [p.read_text(encoding="utf-8") for p in sorted((REPO / "corpus").rglob("*.txt"))]
    texts += [
        "Warfarin and aspirin; Eliquis (apixaban) or Xarelto. Vitamin K antagonists, low molecular weight heparin.",
        "abacavir, dolutegravir, and lamivudine",
        "",
    ]
    return texts


def test_same_matches_as_the_package() -> None:
    from drug_named_entity_recognition import find_drugs

    compared = 0
    for text in _corpus_texts():
        tokens = WORD.findall(text)
        want = [(str(d.get("name", "")).lower(), a, b) for d, a, b in find_drugs(tokens, is_ignore_case=True)]
        got = [(name, a, b) for name, _, a, b in drugs.find_drugs(tokens)]
        assert got == want, text[:80]
        compared += len(want)
    assert compared > 100  # the corpus names many drugs: the comparison is not vacuous


def test_mesh_trees_come_along() -> None:
    found = {name: tree for name, tree, _, _ in drugs.find_drugs(["warfarin", "sertraline"])}
    assert found["warfarin"] and all(re.fullmatch(r"[A-Z]\d{2}(\.\d{3})*", t) for t in found["warfarin"])


def test_table_is_built_once_in_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(drugs, "_db_path", None)
    monkeypatch.setattr(drugs, "_local", threading.local())
    path = drugs.table_path()
    assert path.parent == tmp_path / "rag-oracle" / "drugs" and path.is_file()
    assert not list(path.parent.glob(".drugs-*"))  # written to a temporary name, then renamed
    mtime = path.stat().st_mtime_ns
    monkeypatch.setattr(drugs, "_db_path", None)
    assert drugs.table_path() == path and path.stat().st_mtime_ns == mtime  # reused, not rebuilt
    assert drugs.find_drugs(["clonazepam"])[0][0] == "clonazepam"


def test_threads_share_it() -> None:
    results: list[list] = []

    def work() -> None:
        for _ in range(20):
            results.append([n for n, _, _, _ in drugs.find_drugs(["apixaban", "then", "warfarin"])])

    errors = in_threads(work)
    assert not errors and len(results) == 80 and all(r == ["apixaban", "warfarin"] for r in results)
