"""`pubmed fetch` against the loopback E-utilities server (rag_oracle/testing/eutils_server.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag_oracle.errors import ConfigError
from rag_oracle.ingest.eutils import BATCH, EutilsClient, EutilsError, RateLimiter, check_since, fetch, fetch_folder
from rag_oracle.testing.eutils_server import EutilsServer, fixture_records

RECORDS = fixture_records(450)


def _client(server: EutilsServer, **kw) -> EutilsClient:
    kw.setdefault("per_second", 200.0)  # tests run fast; the rate limit itself is tested below
    return EutilsClient(server.url, tool="rag-oracle-tests", email="tests@example.org", api_key="", backoff=0.01, **kw)


def test_fetch_takes_every_match_in_batches_by_history(tmp_path: Path) -> None:
    with EutilsServer(RECORDS) as server:
        report = fetch(_client(server), "all[sb]", tmp_path / "f", max_records=450)
        fetches = server.utility_requests("efetch")
        searches = server.utility_requests("esearch")
    assert report.count == 450 and len(report.pmids) == 450 and len(set(report.pmids)) == 450
    assert report.batches == 3 and len(report.files) == 3 and not report.missing
    assert [p["retstart"] for _, p in fetches] == ["0", "200", "400"]
    assert all(p["WebEnv"] and p["query_key"] == "1" for _, p in fetches)
    assert [p["retmax"] for _, p in fetches] == [str(BATCH), str(BATCH), "50"]
    assert all(p["tool"] == "rag-oracle-tests" and p["email"] == "tests@example.org" for _, p in fetches + searches)
    assert all("api_key" not in p for _, p in fetches + searches)
    assert searches[0][1]["usehistory"] == "y"
    # newest first, as PubMed sorts
    dates = {r.pmid: r.entry_date for r in RECORDS}
    assert [dates[p] for p in report.pmids] == sorted(dates.values(), reverse=True)


def test_query_max_and_since_narrow_the_set(tmp_path: Path) -> None:
    with EutilsServer(RECORDS) as server:
        client = _client(server)
        report = fetch(client, "apixaban", tmp_path / "a", max_records=10_000)
        assert report.count == sum("apixaban" in r.words() for r in RECORDS) == len(report.pmids)
        capped = fetch(client, "apixaban", tmp_path / "b", max_records=7)
        assert capped.count == report.count and capped.pmids == report.pmids[:7]
        recent = fetch(client, "apixaban", tmp_path / "c", since=check_since("2023-01-01"))
        assert recent.pmids and all(r.entry_date >= "2023/01/01" for r in RECORDS if r.pmid in recent.pmids)
        assert len(recent.pmids) < len(report.pmids)
        since_params = server.utility_requests("esearch")[-1][1]
        assert since_params["mindate"] == "2023/01/01" and since_params["datetype"] == "edat"
        empty = fetch(client, "nosuchwordanywhere", tmp_path / "d")
    assert empty.count == 0 and empty.pmids == [] and empty.files == []


def test_429s_a_500_and_a_truncated_batch_are_retried(tmp_path: Path) -> None:
    with EutilsServer(RECORDS) as server:
        server.faults = {"esearch": ["429"], "efetch": ["429", "429", "500", "truncate"]}
        client = _client(server)
        report = fetch(client, "all[sb]", tmp_path / "f", max_records=450)
    assert len(report.pmids) == 450 and not report.missing and report.retries == 5
    fetched = []
    for file in report.files:
        fetched += [line for line in file.read_text().split("<PMID") if line.startswith(' Version="1">')]
    assert len(fetched) == 450


def test_giving_up_says_what_failed_and_that_a_rerun_resumes(tmp_path: Path) -> None:
    with EutilsServer(RECORDS) as server:
        server.faults = {"efetch": ["500"] * 10}
        with pytest.raises(EutilsError, match=r"efetch failed 3 times \(last: HTTP 500\).*resumes"):
            fetch(_client(server, max_tries=3), "all[sb]", tmp_path / "f", max_records=450)


def test_a_killed_fetch_resumes_and_fetches_nothing_twice(tmp_path: Path) -> None:
    folder = tmp_path / "f"
    with EutilsServer(RECORDS) as server:
        server.faults = {"efetch": ["ok", "500", "500", "500"]}  # batch 0 lands, then batch 1 gives up
        with pytest.raises(EutilsError):
            fetch(_client(server, max_tries=3), "all[sb]", folder, max_records=450)
        assert [p.name for p in sorted(folder.glob("batch-*.xml"))] == ["batch-000000.xml"]
        before = len(server.utility_requests("efetch"))
        report = fetch(_client(server), "all[sb]", folder, max_records=450)
        again = server.utility_requests("efetch")[before:]
        assert [p["retstart"] for _, p in again] == ["200", "400"]  # batch 0 was not fetched again
        assert len(server.utility_requests("esearch")) == 1  # nor searched again
        assert report.batches_fetched == 2 and len(report.files) == 3
        third = fetch(_client(server), "all[sb]", folder, max_records=450)
        assert third.batches_fetched == 0 and len(server.utility_requests("efetch")) == before + 2


def test_an_expired_history_is_read_on_by_pmid(tmp_path: Path) -> None:
    with EutilsServer(RECORDS) as server:
        server.faults = {"efetch": ["ok", "expire"]}
        report = fetch(_client(server), "all[sb]", tmp_path / "f", max_records=450)
        by_id = [p for _, p in server.utility_requests("efetch") if "id" in p]
    assert len(report.pmids) == 450 and not report.missing and len(report.files) == 3
    assert [len(p["id"].split(",")) for p in by_id] == [200, 50]  # after the expiry, by PMID


def test_rate_limit_holds_across_requests() -> None:
    import time

    limiter = RateLimiter(20.0)
    t0 = time.monotonic()
    for _ in range(11):
        limiter.wait()
    assert time.monotonic() - t0 >= 0.5 - 0.01  # 10 intervals of 50 ms
    assert EutilsClient("http://127.0.0.1:9/", api_key="").per_second == 3.0
    assert EutilsClient("http://127.0.0.1:9/", api_key="k").per_second == 10.0


def test_the_api_key_comes_from_the_environment_and_is_never_stored(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("NCBI_API_KEY", "secret-key-123")
    with EutilsServer(RECORDS[:5]) as server:
        client = EutilsClient(server.url, per_second=200.0, backoff=0.01)
        assert client.per_second == 200.0 and client.api_key == "secret-key-123"
        report = fetch(client, "all[sb]", tmp_path / "f")
        assert all(p["api_key"] == "secret-key-123" for _, _, p in server.requests)
    record = json.dumps(report.record("", client.base_url))
    assert "secret-key-123" not in record
    assert all("secret-key-123" not in p.read_text() for p in (tmp_path / "f").iterdir())


def test_bad_arguments_name_the_fix(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="YYYY-MM-DD"):
        check_since("last tuesday")
    assert check_since("2024-02") == "2024/02"
    client = EutilsClient("http://127.0.0.1:9/", api_key="")
    with pytest.raises(ConfigError, match="query is empty"):
        fetch(client, "  ", tmp_path / "f")
    with pytest.raises(ConfigError, match="--max 0"):
        fetch(client, "x", tmp_path / "f", max_records=0)
    assert fetch_folder(tmp_path / "idx", "q", "", 5) != fetch_folder(tmp_path / "idx", "q", "", 6)
    assert fetch_folder(tmp_path / "idx", "q", "", 5).parent.name == "idx.pubmed"


def test_the_command_builds_an_index_that_records_the_fetch_and_answers_from_it(settings, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from rag_oracle import RagOracle
    from rag_oracle.cli.pubmed import pubmed_group
    from rag_oracle.index.store import Index

    index = tmp_path / "indexes" / "pubmed"
    args = ["fetch", "apixaban", "--index", str(index), "--max", "30", "--quiet"]
    with EutilsServer(RECORDS) as server:
        env = {"RAG_ORACLE_EUTILS_URL": server.url, "NCBI_EMAIL": "tests@example.org"}
        first = CliRunner().invoke(pubmed_group, args, obj={"settings": settings}, env=env, catch_exceptions=False)
        assert first.exit_code == 0, first.output
        assert "took 30 (1 batches, 1 fetched now" in first.output
        again = CliRunner().invoke(pubmed_group, [*args, "--json"], obj={"settings": settings}, env=env)
        assert json.loads(again.output)["batches_fetched_now"] == 0  # the same command fetches nothing twice
        assert len(server.utility_requests("efetch")) == 1
    manifest = Index.open(index).manifest
    record = manifest.literature[0]
    assert record["kind"] == "pubmed-fetch" and record["query"] == "apixaban" and record["server"] == server.url
    assert len(record["pmids"]) == 30 and record["fetched_at"].endswith("Z")
    assert manifest.counts["documents"] == 30
    assert any("pubmed fetch apixaban" in c for c in manifest.build_commands)
    hits = RagOracle(index, settings).search("apixaban fixture study", k=5)
    assert hits and all(h.chunk.doc_id.removeprefix("pmid:") in record["pmids"] for h in hits)
