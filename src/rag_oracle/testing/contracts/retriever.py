"""The retriever contract (rag_oracle/retrieve/base.py), as a pytest suite. Needs pytest."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from rag_oracle.embed.base import Embedder
from rag_oracle.embed.hashing import HashEmbedder
from rag_oracle.errors import QueryError
from rag_oracle.index.store import Index
from rag_oracle.retrieve.base import Retriever
from rag_oracle.settings import Settings
from rag_oracle.types import Filters, Hit

# Every record says "treatment", so a search for it matches every chunk: k can always be filled.
# The two zinc records differ only in case and punctuation, which neither the analyzer nor the
# hash embedder sees, so they score exactly alike; their file order is the reverse of their ids,
# so a ranking that breaks ties by position instead of by id is caught.
CONTRACT_RECORDS = [
    {
        "id": "amox-sinusitis",
        "title": "Amoxicillin for acute sinusitis",
        "text": "Amoxicillin 500 mg three times daily for 5 to 7 days is first line treatment for bacterial sinusitis.",
        "year": 2019,
        "publication_types": ["Drug Monograph"],
        "source": "Monograph collection",
    },
    {
        "id": "warfarin-surgery",
        "title": "Warfarin before surgery",
        "text": "Stop warfarin 5 days before elective surgery; bridging treatment is reserved for high thrombotic risk.",
        "year": 2021,
        "publication_types": ["Practice Guideline"],
        "source": "Guideline collection",
    },
    {
        "id": "sertraline-start",
        "title": "Sertraline dosing",
        "text": "Sertraline treatment for depression starts at 50 mg daily, increased in 50 mg steps weekly.",
        "year": 2016,
        "publication_types": ["Drug Monograph"],
        "source": "Monograph collection",
    },
    {
        "id": "platelets-low",
        "title": "Low platelet count",
        "text": "A platelet count below 150 x 10^9/L is thrombocytopenia; treatment depends on the cause.",
        "year": 2022,
        "publication_types": ["Review"],
        "source": "Review collection",
    },
    {
        "id": "heparin-hit",
        "title": "Heparin-induced thrombocytopenia",
        "text": "Stop heparin when the platelet count falls by half and start a non-heparin anticoagulant treatment.",
        "year": 2020,
        "publication_types": ["Randomized Controlled Trial"],
        "source": "Trial collection",
    },
    {
        "id": "zinc-b",
        "title": "ZINC AND COLDS",
        "text": "ZINC LOZENGES SHORTEN THE COMMON COLD; TREATMENT STARTS WITHIN A DAY!",
        "year": 2018,
        "publication_types": ["Review"],
        "source": "Review collection",
    },
    {
        "id": "zinc-a",
        "title": "Zinc and colds",
        "text": "Zinc lozenges shorten the common cold; treatment starts within a day.",
        "year": 2018,
        "publication_types": ["Review"],
        "source": "Review collection",
    },
]


def _ids(hits: list[Hit]) -> list[str]:
    return [h.chunk.doc_id for h in hits]


def _records_where(predicate) -> set[str]:
    return {r["id"] for r in CONTRACT_RECORDS if predicate(r)}


class RetrieverContract:
    """Every retriever: at most k hits ranked 1..n by non-increasing score, ties broken by chunk id,
    the same hits for the same query, filters applied inside the search (a filtered search still
    fills k), and QueryError for an empty query or k < 1.

    Provide a `retriever` fixture. It may build on `contract_index`, an index of
    `CONTRACT_RECORDS` built once per test class with `contract_embedder` (a 64-dimension
    HashEmbedder unless overridden).
    """

    @pytest.fixture(scope="class")
    @classmethod
    def contract_embedder(cls) -> Embedder:
        return HashEmbedder(dimension=64)

    @pytest.fixture(scope="class")
    @classmethod
    def contract_index(cls, tmp_path_factory: pytest.TempPathFactory, contract_embedder: Embedder) -> Index:
        from rag_oracle.ingest.pipeline import ingest

        root: Path = tmp_path_factory.mktemp("retriever-contract")
        corpus = root / "records.jsonl"
        corpus.write_text("".join(json.dumps(r) + "\n" for r in CONTRACT_RECORDS), encoding="utf-8")
        settings = Settings().with_overrides(
            {
                "embed": {"model": "hash:dim=64", "cache_dir": "off"},
                "chunk": {"max_tokens": 200, "overlap_tokens": 20},
                "index": {"faiss": "Flat"},
            }
        )
        report = ingest([corpus], root / "index", settings, embedder=contract_embedder)
        assert report.documents_added == len(CONTRACT_RECORDS), report.files
        return Index.open(root / "index", contract_embedder)

    @pytest.fixture
    def retriever(self) -> Retriever:
        raise NotImplementedError("a subclass of RetrieverContract provides the `retriever` fixture")

    def test_has_a_name(self, retriever: Retriever) -> None:
        assert isinstance(retriever.name, str) and retriever.name

    @pytest.mark.parametrize("k", [1, 3, len(CONTRACT_RECORDS)])
    def test_k_is_respected(self, retriever: Retriever, k: int) -> None:
        hits = retriever.search("treatment", k)
        assert len(hits) == k, f"asked for {k} of {len(CONTRACT_RECORDS)} matching chunks, got {len(hits)}"
        assert len(retriever.search("treatment", 1000)) == len(CONTRACT_RECORDS)

    def test_ranks_and_scores(self, retriever: Retriever) -> None:
        hits = retriever.search("stop heparin platelet count treatment", 5)
        assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
        assert all(a.score >= b.score for a, b in itertools.pairwise(hits)), "scores must not increase down the list"
        assert len({h.chunk.id for h in hits}) == len(hits), "a chunk appears twice"
        for hit in hits:
            assert hit.document.id == hit.chunk.doc_id

    def test_topical_record_comes_first(self, retriever: Retriever) -> None:
        assert _ids(retriever.search("amoxicillin sinusitis", 3))[0] == "amox-sinusitis"
        assert _ids(retriever.search("warfarin elective surgery bridging", 3))[0] == "warfarin-surgery"

    def test_deterministic(self, retriever: Retriever) -> None:
        first = [(h.chunk.id, h.score) for h in retriever.search("platelet count treatment", 5)]
        for _ in range(3):
            assert [(h.chunk.id, h.score) for h in retriever.search("platelet count treatment", 5)] == first

    def test_ties_break_by_chunk_id(self, retriever: Retriever) -> None:
        hits = retriever.search("zinc lozenges common cold", 4)
        ids = _ids(hits)
        assert {"zinc-a", "zinc-b"} <= set(ids[:2]), f"the two zinc records should lead: {ids}"
        assert ids.index("zinc-a") < ids.index("zinc-b"), "equal scores must be ordered by chunk id"
        for a, b in itertools.pairwise(retriever.search("treatment", len(CONTRACT_RECORDS))):
            assert a.score > b.score or a.chunk.id < b.chunk.id, f"tie between {a.chunk.id} and {b.chunk.id}"

    def test_year_filter(self, retriever: Retriever) -> None:
        hits = retriever.search("treatment", 10, Filters(year_min=2020))
        assert set(_ids(hits)) == _records_where(lambda r: r["year"] >= 2020)
        hits = retriever.search("treatment", 10, Filters(year_min=2016, year_max=2018))
        assert set(_ids(hits)) == _records_where(lambda r: 2016 <= r["year"] <= 2018)

    def test_publication_type_filter(self, retriever: Retriever) -> None:
        hits = retriever.search("treatment", 10, Filters(publication_types=["drug monograph"]))
        assert set(_ids(hits)) == {"amox-sinusitis", "sertraline-start"}

    def test_source_filter(self, retriever: Retriever) -> None:
        hits = retriever.search("treatment", 10, Filters(sources=["trial collection"]))
        assert _ids(hits) == ["heparin-hit"]

    def test_filtered_search_still_fills_k(self, retriever: Retriever) -> None:
        # The best match for the query is filtered out; k hits still come back from the rest.
        reviews = Filters(publication_types=["Review"])
        hits = retriever.search("amoxicillin sinusitis treatment", 2, reviews)
        assert len(hits) == 2 and set(_ids(hits)) <= _records_where(lambda r: "Review" in r["publication_types"])
        assert [h.rank for h in hits] == [1, 2]

    def test_filter_matching_nothing(self, retriever: Retriever) -> None:
        assert retriever.search("treatment", 5, Filters(year_min=2100)) == []

    @pytest.mark.parametrize(("query", "k"), [("", 5), ("   \n", 5), ("treatment", 0), ("treatment", -1)])
    def test_bad_queries(self, retriever: Retriever, query: str, k: int) -> None:
        with pytest.raises(QueryError):
            retriever.search(query, k)
