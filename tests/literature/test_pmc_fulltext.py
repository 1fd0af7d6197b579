"""PMC Open Access full text by PMCID: JATS with its licence, and the commercial-reuse option."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from rag_oracle.errors import ConfigError
from rag_oracle.index.store import Index
from rag_oracle.ingest.eutils import EutilsClient, check_pmcids, fetch_pmc
from rag_oracle.ingest.jats import licence_terms
from rag_oracle.testing.eutils_server import EutilsServer


def test_licences_are_read_as_pmc_counts_commercial_use() -> None:
    cases = {
        ("https://creativecommons.org/licenses/by/4.0/", ""): ("CC BY", True),
        ("http://creativecommons.org/licenses/by-sa/3.0/", ""): ("CC BY-SA", True),
        ("https://creativecommons.org/licenses/by-nd/4.0/", ""): ("CC BY-ND", True),
        ("https://creativecommons.org/publicdomain/zero/1.0/", ""): ("CC0", True),
        ("https://creativecommons.org/licenses/by-nc-nd/4.0/", ""): ("CC BY-NC-ND", False),
        ("", "This is an open access article under the CC BY-NC licence."): ("CC BY-NC", False),
        ("", "© The publisher. All rights reserved."): ("unknown", False),
    }
    for (url, text), (name, commercial) in cases.items():
        got = licence_terms(url, text)
        assert (got["name"], got["commercial"]) == (name, commercial), (url, text)


def test_pmc_articles_are_fetched_once_with_their_licence(settings, tmp_path: Path) -> None:
    from rag_oracle.cli.pubmed import pubmed_group

    index = tmp_path / "indexes" / "pmc"
    with EutilsServer([]) as server:
        env = {"RAG_ORACLE_EUTILS_URL": server.url}
        args = ["pmc", "PMC9900001", "9900002", "PMC9900003", "PMC9999999", "--index", str(index), "--quiet"]
        run = CliRunner().invoke(pubmed_group, args, obj={"settings": settings}, env=env, catch_exceptions=False)
        assert run.exit_code == 0, run.output
        assert "no article for PMC9999999" in run.output
        assert len(server.utility_requests("efetch")) == 1
        files, missing = fetch_pmc(
            EutilsClient(server.url, api_key=""), ["PMC9900001"], tmp_path / "indexes" / "pmc.pubmed" / "pmc"
        )
        assert (
            len(server.utility_requests("efetch")) == 1 and missing == [] and len(files) == 1
        )  # already on disk: not fetched again
    docs = Index.open(index).documents
    licences = {d: docs[d].metadata.extra["licence"]["name"] for d in docs}
    assert licences == {
        "pmcid:PMC9900001": "CC BY",
        "pmcid:PMC9900002": "CC BY-NC-ND",
        "pmcid:PMC9900003": "not stated",
    }
    assert "held for 48 hours" in docs["pmcid:PMC9900001"].text  # the body, not only the abstract


def test_commercial_only_keeps_reusable_licences_and_reports_the_rest(settings, tmp_path: Path) -> None:
    from rag_oracle.cli.pubmed import pubmed_group

    index = tmp_path / "indexes" / "pmc"
    with EutilsServer([]) as server:
        args = ["pmc", "PMC9900001", "PMC9900002", "PMC9900003", "--index", str(index), "--quiet", "--commercial-only"]
        run = CliRunner().invoke(
            pubmed_group, args, obj={"settings": settings}, env={"RAG_ORACLE_EUTILS_URL": server.url}
        )
    assert run.exit_code == 0, run.output
    assert set(Index.open(index).documents) == {"pmcid:PMC9900001"}
    assert "pmcid:PMC9900002: licence CC BY-NC-ND does not allow commercial reuse" in run.output
    assert "pmcid:PMC9900003: licence not stated" in run.output


def test_pmcids_are_checked() -> None:
    assert check_pmcids(["PMC12", "12", "pmc7"]) == ["PMC12", "PMC7"]
    with pytest.raises(ConfigError, match=r"not PMCIDs: 'doi:10\.1/x'"):
        check_pmcids(["doi:10.1/x"])
