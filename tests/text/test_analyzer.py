"""The analyzer tokenises exactly as bm25s.tokenize does (stopwords "en", PyStemmer "english"), without
importing bm25s, and its token ids are deterministic."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from rag_oracle.text import analyzer

REPO = Path(__file__).resolve().parents[2]
ODD = [
    "",
    "   ",
    "a an the",  # stopwords only
    "Don't stop warfarin 5mg/day (INR 2-3); e.g. x y z",
    "Ünïcödé café naïve résumé; 10,000 IU and 0.5 mg",
    "CLONAZEPAM 0.25–0.5 mg at bedtime—older adults ≥65 y",
    "snake_case words_with_underscores and digits123 45",
]


def _texts() -> list[str]:
    texts = []
    for line in (REPO / "corpus" / "jsonl" / "sample.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        texts += [record["title"], record["text"]]
    for pattern in ("*.md", "*.xml"):
        texts += [p.read_text(encoding="utf-8") for p in sorted((REPO / "corpus").rglob(pattern))]
    return texts + ODD


def test_same_tokens_as_bm25s() -> None:
    bm25s = pytest.importorskip("bm25s")
    import Stemmer

    texts = _texts()
    want = bm25s.tokenize(
        texts, stopwords="en", stemmer=Stemmer.Stemmer("english"), return_ids=False, show_progress=False
    )
    assert analyzer.tokenize(texts) == want
    assert sum(map(len, want)) > 10_000


def test_same_pattern_and_stopwords_as_bm25s() -> None:
    pytest.importorskip("bm25s")
    from bm25s.stopwords import STOPWORDS_EN

    assert analyzer.ENGLISH_STOPWORDS == frozenset(STOPWORDS_EN)
    import inspect

    from bm25s.tokenization import tokenize

    assert inspect.signature(tokenize).parameters["token_pattern"].default == analyzer.TOKEN_PATTERN


def test_token_ids_are_in_order_of_first_appearance() -> None:
    ids, vocab = analyzer.tokenize_ids(["warfarin dose", "dose of apixaban", ""])
    assert vocab == {"warfarin": 0, "dose": 1, "apixaban": 2}
    assert ids == [[0, 1], [1, 2], []]


def test_analysis_in_many_threads_is_the_same() -> None:
    texts = _texts()[:200]
    want = analyzer.tokenize(texts)
    results: list[list[list[str]]] = []

    def work() -> None:
        results.append(analyzer.tokenize(texts))

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [want] * 8


def test_analysing_a_question_does_not_import_bm25s_or_scipy() -> None:
    code = (
        "import sys; from rag_oracle.text.analyzer import tokenize_one; tokenize_one('warfarin dose');"
        "print(sorted(m for m in ('bm25s', 'scipy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
