"""BM25 queries read bm25s' saved arrays directly: the same scores as bm25s.BM25.retrieve, without
importing bm25s; damaged arrays are refused by name."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rag_oracle.index import lexical
from rag_oracle.text.analyzer import expand_query, tokenize

REPO = Path(__file__).resolve().parents[2]
QUERIES = [
    "What is the dosage of clonazepam for treating depression?",
    "starting dose of sertraline in older adults",
    "warfarin bridging before surgery",
    "metformin in chronic kidney disease eGFR 30",
    "dose dose dose",  # a repeated token counts again
    "the of and",  # nothing left after stopwords
    "zzzunknownword",
]


def _texts() -> list[str]:
    texts = []
    for line in (REPO / "corpus" / "jsonl" / "sample.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        texts += [record["title"], record["text"]]
    for p in sorted((REPO / "corpus").rglob("*.md")):
        texts += [part for part in p.read_text(encoding="utf-8").split("\n\n") if part.strip()]
    return texts


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> tuple[Path, list[str]]:
    texts = _texts()
    directory = tmp_path_factory.mktemp("bm25")
    lexical.save(lexical.build(texts), directory)
    return directory, texts


def test_scores_are_bm25s_scores(saved) -> None:
    bm25s = pytest.importorskip("bm25s")
    directory, texts = saved
    ours = lexical.load(directory)
    theirs = bm25s.BM25.load(str(directory / lexical.BM25_DIR), mmap=True)
    rng = np.random.default_rng(0)
    for query in QUERIES:
        tokens = tokenize([expand_query(query)])[0]
        for mask in (None, (rng.random(len(texts)) > 0.5).astype(np.float32)):
            got = ours.scores(tokens, mask)
            if tokens and any(t in theirs.vocab_dict for t in tokens):
                want = theirs.get_scores(tokens, weight_mask=mask)
                assert np.array_equal(got, want), query
            else:
                assert not got.any(), query


def test_the_streaming_build_is_bm25s_own_build(tmp_path: Path) -> None:
    """`build` computes bm25s' arrays itself (to hold less memory); they must be bm25s' to the bit,
    including empty texts, repeated tokens and texts left empty by the stopwords."""
    bm25s = pytest.importorskip("bm25s")
    from bm25s.tokenization import Tokenized

    from rag_oracle.text.analyzer import tokenize_ids

    texts = [*_texts(), "", "the of and", "dose dose dose dose", "Warfarin WARFARIN warfarin's dose"]
    ours = lexical.build(iter(texts))  # any iterable: the writer streams the texts from a file
    ids, vocab = tokenize_ids(texts)
    theirs = bm25s.BM25(method=lexical.PARAMS["method"], k1=lexical.PARAMS["k1"], b=lexical.PARAMS["b"])
    theirs.index(Tokenized(ids=ids, vocab=vocab), show_progress=False)
    for name in ("data", "indices", "indptr"):
        got, want = ours.scores[name], theirs.scores[name]
        assert got.dtype == want.dtype and np.array_equal(got, want), name
    assert ours.scores["num_docs"] == theirs.scores["num_docs"] == len(texts)
    assert ours.vocab_dict == theirs.vocab_dict
    lexical.save(ours, tmp_path)
    loaded = bm25s.BM25.load(str(tmp_path / lexical.BM25_DIR))  # bm25s reads what it saved for us
    assert loaded.method == "lucene" and np.array_equal(loaded.scores["data"], theirs.scores["data"])
    assert loaded.get_scores(["warfarin"]).argmax() == theirs.get_scores(["warfarin"]).argmax()


def test_search_is_the_best_k_with_ties_by_position(saved) -> None:
    directory, texts = saved
    index = lexical.load(directory)
    assert len(texts) > 100
    for query in QUERIES:
        all_scores = index.scores(list(tokenize([expand_query(query)])[0]))
        order = [p for p in np.lexsort((np.arange(len(texts)), -all_scores)) if all_scores[p] > 0]
        for k in (1, 3, 10, 1000):
            positions, scores = lexical.search(index, query, k)
            assert positions.tolist() == order[:k], (query, k)
            assert np.array_equal(scores, all_scores[order[:k]])


def test_ties_at_the_cut_are_broken_by_position(tmp_path: Path) -> None:
    texts = [f"warfarin note {i}" for i in range(12)] + ["aspirin only"]
    lexical.save(lexical.build(texts), tmp_path)
    positions, scores = lexical.search(lexical.load(tmp_path), "warfarin", 5)
    assert positions.tolist() == [0, 1, 2, 3, 4]
    assert len(set(scores.tolist())) == 1


def test_document_frequency(saved) -> None:
    directory, texts = saved
    index = lexical.load(directory)
    want = sum("clonazepam" in set(tokens) for tokens in tokenize(texts))
    assert want > 0 and lexical.document_frequency(index, "clonazepam") == want
    assert lexical.document_frequency(index, "zzzunknownword") == 0
    assert lexical.document_frequency(index, "") == 0  # bm25s' empty token has no column


def test_arrays_that_disagree_are_refused(saved, tmp_path: Path) -> None:
    directory, _ = saved
    copy = tmp_path / "copy"
    (copy / lexical.BM25_DIR).mkdir(parents=True)
    for f in (directory / lexical.BM25_DIR).iterdir():
        (copy / lexical.BM25_DIR / f.name).write_bytes(f.read_bytes())
    indptr = np.load(copy / lexical.BM25_DIR / "indptr.csc.index.npy")
    np.save(copy / lexical.BM25_DIR / "indptr.csc.index.npy", indptr[:-5])
    with pytest.raises(ValueError, match=r"disagree|vocabulary"):
        lexical.load(copy)


def test_a_query_imports_neither_bm25s_nor_scipy(saved) -> None:
    directory, _ = saved
    code = (
        "import sys; from pathlib import Path; from rag_oracle.index import lexical;"
        f"lexical.search(lexical.load(Path({str(directory)!r})), 'clonazepam dose', 10);"
        "print(sorted(m for m in ('bm25s', 'scipy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_coverage_is_the_idf_share_of_query_words_a_chunk_holds(tmp_path: Path) -> None:
    import math

    texts = ["warfarin dose before surgery", "dose of amoxicillin", "dose dose", "surgery schedule"]
    lexical.save(lexical.build(texts), tmp_path)
    index = lexical.load(tmp_path)
    tokens = tokenize([expand_query("warfarin dose")])[0]
    idf = {t: math.log(1 + (4 - df + 0.5) / (df + 0.5)) for t, df in zip(tokens, (1, 3), strict=True)}
    assert lexical.coverage(index, tokens, 0) == pytest.approx(1.0)  # holds both words
    assert lexical.coverage(index, tokens, 1) == pytest.approx(idf[tokens[1]] / sum(idf.values()))  # the common one
    assert lexical.coverage(index, tokens, 3) == 0.0
    assert lexical.coverage(index, ["zzz"], 0) == 0.0  # no known word
    assert lexical.coverage(index, tokens + tokens, 1) == lexical.coverage(index, tokens, 1)  # distinct words
