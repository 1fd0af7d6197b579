"""Approximate search you can tune: [retrieve] ef_search (HNSW) and nprobe (IVF) reach FAISS through
`index.dense.search`, whatever wraps the HNSW or IVF index, with and without a filter; the settings,
the CLI flags, the retrievers and `recommended_factory` / `index info` around them."""

from __future__ import annotations

import json
from pathlib import Path

import faiss
import numpy as np
import pytest
from click.testing import CliRunner
from pydantic import ValidationError

from rag_oracle.errors import ConfigError
from rag_oracle.index import dense
from rag_oracle.settings import RetrieveSettings, Settings

DIM = 32
K = 10


def unit(x: np.ndarray) -> np.ndarray:
    x = np.ascontiguousarray(x, dtype=np.float32)
    faiss.normalize_L2(x)
    return x


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    """(vectors, queries): 4000 unit vectors around 40 random centres (clustered, like embeddings,
    but with clusters that overlap enough for one IVF list to miss neighbours), and 40 queries."""
    rng = np.random.default_rng(7)
    centres = rng.standard_normal((40, DIM))
    vectors = centres[rng.integers(0, 40, 4000)] + 0.9 * rng.standard_normal((4000, DIM))
    queries = centres[rng.integers(0, 40, 40)] + 0.9 * rng.standard_normal((40, DIM))
    return unit(vectors), unit(queries)


def build(spec: str, vectors: np.ndarray):
    index = dense.new_faiss_index(spec, DIM)
    dense.add_vectors(index, vectors, spec)
    return index


def exact(vectors: np.ndarray, query: np.ndarray, k: int = K, allowed: np.ndarray | None = None) -> np.ndarray:
    """The true top k positions by inner product (restricted to `allowed`)."""
    scores = vectors @ query
    candidates = np.arange(len(vectors)) if allowed is None else np.asarray(allowed)
    order = np.argsort(-scores[candidates], kind="stable")[:k]
    return candidates[order]


def recall(index, vectors, queries, allowed=None, **knobs) -> float:
    found = []
    for q in queries:
        positions, _ = dense.search(index, q, K, allowed, **knobs)
        truth = exact(vectors, q, K, allowed)
        found.append(len(set(positions.tolist()) & set(truth.tolist())) / len(truth))
    return float(np.mean(found))


# --- the knobs reach FAISS -------------------------------------------------------------------


def test_nprobe_reaches_ivf_and_nlist_is_exact(data) -> None:
    vectors, queries = data
    index = build("IVF64,Flat", vectors)
    index.nprobe = 1  # what the index holds must not matter: the search parameters decide
    low = recall(index, vectors, queries, nprobe=1)
    assert low < 0.9
    assert low < recall(index, vectors, queries, nprobe=8) <= recall(index, vectors, queries, nprobe=32)
    for q in queries:  # every list visited: IVF-Flat is exact, positions and scores
        positions, scores = dense.search(index, q, K, nprobe=64)
        truth = exact(vectors, q)
        assert positions.tolist() == truth.tolist()
        np.testing.assert_allclose(scores, vectors[truth] @ q, rtol=1e-5, atol=1e-6)
    assert dense.search(index, queries[0], K, nprobe=10_000)[0].tolist() == exact(vectors, queries[0]).tolist()


def test_ef_search_reaches_hnsw(data) -> None:
    vectors, queries = data
    index = build("HNSW32", vectors)
    index.hnsw.efSearch = 1024  # ignored: the parameters passed on each search win
    low, high = recall(index, vectors, queries, ef_search=10), recall(index, vectors, queries, ef_search=512)
    assert low < high and high >= 0.99
    index.hnsw.efSearch = 10
    assert recall(index, vectors, queries) == pytest.approx(recall(index, vectors, queries, ef_search=128))


def test_ef_search_below_k_still_returns_k(data) -> None:
    vectors, queries = data
    index = build("HNSW32", vectors)
    positions, _ = dense.search(index, queries[0], 100, ef_search=1)
    assert len(positions) == 100


def test_defaults_come_from_the_settings() -> None:
    assert dense.DEFAULT_EF_SEARCH == RetrieveSettings().ef_search
    assert dense.DEFAULT_NPROBE == RetrieveSettings().nprobe


# --- wrapped and compressed indexes: the parameters go to the index that uses them -----------------


def _ivf_reference(index, query: np.ndarray, nprobe: int) -> list[int]:
    """The search with nprobe set on the IVF index itself (FAISS's own way), for comparison; an
    HNSW coarse quantizer gets the efSearch `dense.search` gives it."""
    ivf = faiss.extract_index_ivf(index)
    quantizer = faiss.downcast_index(ivf.quantizer)
    saved, ivf.nprobe = ivf.nprobe, nprobe
    if isinstance(quantizer, faiss.IndexHNSW):
        quantizer.hnsw.efSearch = max(dense.DEFAULT_EF_SEARCH, K, nprobe)
    try:
        return index.search(query.reshape(1, -1), K)[1][0].tolist()
    finally:
        ivf.nprobe = saved


def _id_mapped(spec: str, vectors: np.ndarray, cls):
    inner = dense.new_faiss_index(spec, DIM)
    inner.train(vectors)
    index = cls(inner)  # faiss's Python wrapper keeps `inner` alive with `index`
    index.add_with_ids(vectors, np.arange(len(vectors), dtype=np.int64))
    return index


IVF_WRAPPED = {
    "PCA16,IVF64,Flat": lambda v: build("PCA16,IVF64,Flat", v),
    "PCA16,IVF64,PQ8x4": lambda v: build("PCA16,IVF64,PQ8x4", v),  # (4-bit PQ: quick to train)
    "IDMap(IVF64,Flat)": lambda v: _id_mapped("IVF64,Flat", v, faiss.IndexIDMap),
    "IDMap2(IVF64,Flat)": lambda v: _id_mapped("IVF64,Flat", v, faiss.IndexIDMap2),
    "IVF64,SQ8": lambda v: build("IVF64,SQ8", v),
    "IVF64_HNSW32,Flat": lambda v: build("IVF64_HNSW32,Flat", v),
}


# unquantised vectors in the original space: visiting every list is exact
EXACT_AT_NLIST = {"IDMap(IVF64,Flat)", "IDMap2(IVF64,Flat)", "IVF64_HNSW32,Flat"}


@pytest.mark.parametrize("name", list(IVF_WRAPPED))
def test_nprobe_reaches_a_wrapped_ivf(data, name: str) -> None:
    vectors, queries = data
    index = IVF_WRAPPED[name](vectors)
    assert faiss.try_extract_index_ivf(index) is not None
    for nprobe in (1, 64):
        for q in queries[:10]:
            assert dense.search(index, q, K, nprobe=nprobe)[0].tolist() == _ivf_reference(index, q, nprobe), nprobe
    if name in EXACT_AT_NLIST:
        assert recall(index, vectors, queries, nprobe=64) == 1.0  # exact: every list, unquantised vectors
    assert recall(index, vectors, queries, nprobe=1) < recall(index, vectors, queries, nprobe=64)
    allowed = np.arange(2, len(vectors), 5)  # a filter through the wrapper (IDMap translates the ids)
    for q in queries[:5]:
        positions = dense.search(index, q, K, allowed, nprobe=64)[0]
        assert len(positions) == K and set(positions.tolist()) <= set(allowed.tolist())
        if name in EXACT_AT_NLIST:
            assert positions.tolist() == exact(vectors, q, K, allowed).tolist()


def test_ivf_with_hnsw_quantizer_gets_ef_search_too(data) -> None:
    vectors, queries = data
    index = build("IVF256_HNSW4,Flat", vectors)  # a sparse graph over the centroids
    quantizer = faiss.downcast_index(faiss.extract_index_ivf(index).quantizer)
    quantizer.hnsw.efSearch = 1  # on its own, it would find only some of the 256 lists
    ivf = faiss.extract_index_ivf(index)
    ivf.nprobe = 256
    plain = np.mean([len(set(index.search(q.reshape(1, -1), K)[1][0]) & set(exact(vectors, q))) / K for q in queries])
    assert plain < 0.9
    # the search parameters give the quantizer an efSearch of at least nprobe: all 256 lists, exact
    assert recall(index, vectors, queries, ef_search=10, nprobe=256) == 1.0
    assert isinstance(dense._search_parameters(index, None, ef_search=10, nprobe=256), faiss.SearchParametersIVF)


@pytest.mark.parametrize("spec", ["HNSW32", "HNSW32,Flat", "HNSW32_PQ8x4", "HNSW32_SQ8", "PCA16,HNSW32"])
def test_ef_search_reaches_hnsw_with_any_storage(data, spec: str) -> None:
    vectors, queries = data
    index = build(spec, vectors)
    hnsw = faiss.downcast_index(index.index if isinstance(index, faiss.IndexPreTransform) else index)
    assert isinstance(hnsw, faiss.IndexHNSW)
    for ef in (10, 200):
        hnsw.hnsw.efSearch = ef
        reference = [index.search(q.reshape(1, -1), K)[1][0].tolist() for q in queries[:10]]
        hnsw.hnsw.efSearch = 16 if ef != 16 else 17  # not what the search is told
        assert [dense.search(index, q, K, ef_search=ef)[0].tolist() for q in queries[:10]] == reference


def test_refine_takes_its_own_parameters(data) -> None:
    vectors, queries = data
    index = build("IVF64,PQ8x4,Refine(Flat)", vectors)
    params = dense._search_parameters(index, None, ef_search=16, nprobe=64)
    assert isinstance(params, faiss.IndexRefineSearchParameters) and params.k_factor == index.k_factor
    assert recall(index, vectors, queries, nprobe=64) > recall(index, vectors, queries, nprobe=1)
    allowed = np.arange(0, len(vectors), 3)
    positions, _ = dense.search(index, queries[0], K, allowed, nprobe=64)
    assert len(positions) == K and set(positions.tolist()) <= set(allowed.tolist())


def test_flat_takes_no_parameters_unless_filtering(data) -> None:
    index = build("Flat", data[0])
    assert dense._search_parameters(index, None, ef_search=16, nprobe=1) is None
    sel = faiss.IDSelectorBatch(np.arange(5, dtype=np.int64))
    assert type(dense._search_parameters(index, sel, ef_search=16, nprobe=1)) is faiss.SearchParameters


# --- filtering still works ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "knobs"),
    [("HNSW32", {"ef_search": 256}), ("IVF64,Flat", {"nprobe": 64}), ("PCA16,HNSW32", {"ef_search": 256})],
)
def test_filtering_with_approximate_indexes(data, spec: str, knobs: dict) -> None:
    vectors, queries = data
    index = build(spec, vectors)
    allowed = np.arange(1, len(vectors), 7)
    for q in queries[:10]:
        positions, scores = dense.search(index, q, K, allowed, **knobs)
        assert len(positions) == K and set(positions.tolist()) <= set(allowed.tolist())
        assert np.all(np.diff(scores) <= 1e-6)
    few = np.array([3, 14, 15])
    if spec == "IVF64,Flat":  # every list: the exact filtered top k
        for q in queries[:10]:
            assert dense.search(index, q, K, allowed, **knobs)[0].tolist() == exact(vectors, q, K, allowed).tolist()
        assert sorted(dense.search(index, queries[0], K, few, **knobs)[0].tolist()) == [3, 14, 15]
    else:
        if spec == "HNSW32":  # (PCA16 ranks by projected vectors: not comparable with `exact`)
            assert recall(index, vectors, queries[:10], allowed, **knobs) >= 0.9
        # a very selective filter: HNSW's walk over the graph may reach only some of the allowed vectors
        found = dense.search(index, queries[0], K, few, **knobs)[0].tolist()
        assert found and set(found) <= {3, 14, 15}
    assert len(dense.search(index, queries[0], K, np.array([], dtype=np.int64), **knobs)[0]) == 0


# --- settings --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["ef_search", "nprobe"])
def test_settings_reject_zero(name: str) -> None:
    with pytest.raises(ValidationError):
        RetrieveSettings(**{name: 0})
    with pytest.raises(ConfigError, match=name):
        Settings().with_overrides({"retrieve": {name: 0}})
    with pytest.raises(ValueError):
        dense.search(build("Flat", np.eye(DIM, dtype=np.float32)), np.eye(DIM)[0], 1, **{name: 0})


def test_search_time_settings_do_not_change_the_fingerprint() -> None:
    base = Settings()
    tuned = base.with_overrides({"retrieve": {"ef_search": 7, "nprobe": 3}})
    assert (tuned.retrieve.ef_search, tuned.retrieve.nprobe) == (7, 3)
    assert tuned.index_fingerprint() == base.index_fingerprint()
    assert base.with_overrides({"index": {"faiss": "HNSW32"}}).index_fingerprint() != base.index_fingerprint()


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from rag_oracle.settings import load_settings

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RAG_ORACLE_CONFIG", raising=False)
    monkeypatch.setenv("RAG_ORACLE_RETRIEVE__EF_SEARCH", "64")
    monkeypatch.setenv("RAG_ORACLE_RETRIEVE__NPROBE", "8")
    settings = load_settings()
    assert (settings.retrieve.ef_search, settings.retrieve.nprobe) == (64, 8)


# --- the retrievers pass them on ---------------------------------------------------------------


@pytest.fixture
def hnsw_index(corpus_dir: Path, settings: Settings, tmp_path: Path):
    from rag_oracle import ingest
    from rag_oracle.embed import make_embedder
    from rag_oracle.index.store import Index

    settings = settings.with_overrides({"index": {"faiss": "HNSW32"}})
    path = tmp_path / "indexes" / "hnsw"
    assert ingest([corpus_dir], path, settings).count("failed") == 0
    embedder = make_embedder(settings.embed)
    return settings, Index.open(path, embedder), embedder


@pytest.mark.parametrize("mode", ["dense", "hybrid"])
def test_make_retriever_passes_the_settings(hnsw_index, mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from rag_oracle.retrieve import dense as dense_retriever
    from rag_oracle.retrieve import make_retriever

    settings, index, embedder = hnsw_index
    seen: list[dict] = []
    real = dense.search

    def spy(*args, **kwargs):
        seen.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(dense_retriever.dense, "search", spy)
    retrieve = settings.retrieve.model_copy(update={"mode": mode, "ef_search": 77, "nprobe": 5})
    hits = make_retriever(index, embedder, retrieve).search("warfarin before surgery", k=3)
    assert hits and seen == [{"ef_search": 77, "nprobe": 5}]


def test_dense_retriever_defaults(hnsw_index) -> None:
    from rag_oracle.retrieve import DenseRetriever

    _, index, embedder = hnsw_index
    retriever = DenseRetriever(index, embedder)
    assert (retriever.ef_search, retriever.nprobe) == (dense.DEFAULT_EF_SEARCH, dense.DEFAULT_NPROBE)
    assert retriever.search("warfarin", k=2)


# --- recommended_factory -------------------------------------------------------------------------


def test_recommended_factory_small_is_flat() -> None:
    for n in (0, 1, 1000, 50_000, 100_000):
        spec, reason = dense.recommended_factory(n, 384)
        assert spec == "Flat" and reason


def test_recommended_factory_large_is_approximate() -> None:
    spec, reason = dense.recommended_factory(1_000_000, 384)
    assert spec.startswith("HNSW") and "ef_search >= 256" in reason  # 128 measured 0.91-0.94 at 1M
    assert dense.MEASURED_EF_SEARCH <= dense.DEFAULT_EF_SEARCH  # the default reaches the measured recall
    spec, reason = dense.recommended_factory(300_000, 384)
    assert spec.startswith("HNSW") and "ef_search >= 256" in reason
    spec, reason = dense.recommended_factory(5_000_000, 384)
    assert spec == f"IVF{dense.ivf_lists(5_000_000)},Flat" and "nprobe" in reason
    spec, reason = dense.recommended_factory(100_000_000, 384)
    assert spec == f"IVF{dense.ivf_lists(100_000_000)},PQ96" and "PQ96" in reason
    assert dense.recommended_factory(200_000, 1536)[0] != "Flat"  # the threshold is work: N x dimension
    for n, d in [(1_000_000, 384), (5_000_000, 384), (100_000_000, 384), (3_000_000, 100)]:
        spec = dense.recommended_factory(n, d)[0]
        index = dense.new_faiss_index(spec, d)  # every recommendation is a valid factory string
        assert index.d == d


def test_ivf_lists_is_about_four_sqrt_n() -> None:
    assert dense.ivf_lists(100_000) == 1024  # 4 * sqrt(1e5) = 1265
    assert dense.ivf_lists(1_000_000) == 4096  # 4000
    assert dense.ivf_lists(10) == 16
    for n in (10_000, 300_000, 7_000_000):
        assert 0.7 < dense.ivf_lists(n) / (4 * np.sqrt(n)) < 1.42


# --- the CLI -------------------------------------------------------------------------------------


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    import os

    from rag_oracle.cli import main

    for key in list(os.environ):
        if key.startswith("RAG_ORACLE_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "rag-oracle.toml").write_text(
        f"""
[embed]
model = "hash:dim=512"
cache_dir = "{tmp_path / "cache"}"
[chunk]
max_tokens = 40
overlap_tokens = 10
[answer]
min_passage_similarity = 0.1
"""
    )
    runner = CliRunner()
    return lambda *args: runner.invoke(main, list(args), catch_exceptions=False)


@pytest.fixture
def hnsw_dir(cli, corpus_dir: Path, tmp_path: Path) -> Path:
    result = cli("ingest", str(corpus_dir), "--index", str(tmp_path / "idx"), "--faiss", "HNSW32", "--quiet")
    assert result.exit_code == 0, result.stderr
    return tmp_path / "idx"


def test_index_info_shows_the_recommendation(cli, hnsw_dir: Path) -> None:
    info = cli("index", "info", str(hnsw_dir))
    assert info.exit_code == 0
    line = next(x for x in info.stdout.splitlines() if x.startswith("recommended"))
    assert "Flat" in line and "current HNSW32" in line and "--faiss 'Flat'" in line
    data = json.loads(cli("index", "info", str(hnsw_dir), "--json").stdout)
    assert data["recommended_faiss"]["spec"] == "Flat" and data["recommended_faiss"]["current"] == "HNSW32"
    assert data["recommended_faiss"]["reason"] and data["counts"]["chunks"] > 0


def test_search_flags_reach_the_settings(cli, hnsw_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[dict] = []
    real = dense.search

    def spy(*args, **kwargs):
        seen.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(dense, "search", spy)
    args = ("--index", str(hnsw_dir), "--ef-search", "40", "--nprobe", "3")
    result = cli("search", "warfarin before surgery", *args, "--json", "--mode", "dense")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) and seen[-1] == {"ef_search": 40, "nprobe": 3}
    asked = cli("ask", "How long before surgery should warfarin be stopped?", *args)
    assert asked.exit_code == 0, asked.stderr
    assert seen[-1] == {"ef_search": 40, "nprobe": 3}
    bad = cli("search", "warfarin", "--index", str(hnsw_dir), "--ef-search", "0")
    assert bad.exit_code == 2 and "ef_search" in bad.stderr


def test_eval_run_takes_the_flags(cli) -> None:
    text = cli("eval", "run", "--help").stdout
    assert "--ef-search" in text and "--nprobe" in text
