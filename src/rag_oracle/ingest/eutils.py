"""PubMed through NCBI's E-utilities: `rag-oracle pubmed fetch QUERY --index DIR`.

ESearch runs once with the history server (``usehistory=y``) and records the matching PMIDs (newest
first, at most ``--max``); EFetch then reads them in batches of 200 by ``WebEnv``/``query_key``/
``retstart``, as NCBI asks for large sets ("E-utilities In-Depth", NBK25499). Each batch is written as
a PubMed XML file in the fetch's folder beside the index (``<index>.pubmed/<fetch id>/``) with a
state file; a run that was killed resumes from there and fetches no batch twice. A history that
expired on the server (it lasts hours) is read on by PMID (``id=`` by POST) instead. The batches are
then ingested like any PubMed XML, and the index manifest's ``literature`` records the exact query,
date range, time and PMIDs, so the corpus can be rebuilt later.

Etiquette (NCBI's usage policy): every request carries ``tool`` and ``email``; the API key comes from
``NCBI_API_KEY`` only (never written to the state, the manifest or a log); at most 3 requests a second
without a key and 10 with one, across threads; 429 and 5xx answers and dropped connections are retried
with exponential backoff (a 429's Retry-After is honoured), and so is a 200 whose XML is cut short.

Why not Biopython's ``Bio.Entrez`` (or ``eutils``/``metapub``): Bio.Entrez hard-codes NCBI's host in
every function, so it cannot be pointed at the loopback server the tests run against
(testing/eutils_server.py) without patching its internals, and it retries a truncated 200 as success.
The client here is ~150 lines over ``requests`` (connection reuse, timeouts) with one retry loop that
covers both HTTP errors and truncated bodies under the same rate limit.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from xml.etree.ElementTree import Element

from rag_oracle.errors import ConfigError, RagOracleError

EUTILS = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/"
BATCH = 200  # EFetch records per request
SEARCH_PAGE = 10_000  # ESearch's largest retmax
RETRY_STATUS = {429, 500, 502, 503, 504}
STATE_FILE = "state.json"


class EutilsError(RagOracleError):
    """NCBI (or the server at --eutils-url) did not give a usable answer after every retry."""


def _parse(raw: bytes, what: str) -> Element:
    from rag_oracle.ingest.xmlsafe import parse_xml

    return parse_xml(Path(what), raw=raw)


class RateLimiter:
    """At most `per_second` calls a second across threads: each `wait` returns at the earliest slot."""

    def __init__(self, per_second: float) -> None:
        self.interval = 1.0 / per_second
        self._lock = threading.Lock()
        self._next = 0.0

    def wait(self) -> None:
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next)
            self._next = start + self.interval
        if start > now:
            time.sleep(start - now)


@dataclass
class SearchResult:
    count: int
    webenv: str
    query_key: str
    pmids: list[str]


class EutilsClient:
    """ESearch and EFetch on PubMed with NCBI's etiquette (module docstring)."""

    def __init__(
        self,
        base_url: str = EUTILS,
        *,
        tool: str = "rag-oracle",
        email: str = "",
        api_key: str | None = None,
        per_second: float | None = None,
        max_tries: int = 6,
        backoff: float = 1.0,
        timeout: float = 60.0,
    ) -> None:
        import requests

        self.base_url = base_url.rstrip("/") + "/"
        self.tool, self.email = tool, email
        if api_key is None:
            api_key = os.environ.get("NCBI_API_KEY", "").strip() or None
        self.api_key = api_key
        self.per_second = per_second or (10.0 if self.api_key else 3.0)
        self.limiter = RateLimiter(self.per_second)
        self.max_tries, self.backoff, self.timeout = max_tries, backoff, timeout
        self.session = requests.Session()
        self.requests_made = 0
        self.retries = 0

    def _call(self, utility: str, params: dict[str, str | int], *, post: bool = False, root: str) -> Element:
        """The parsed answer of one E-utility, retried on 429/5xx/connection errors/truncated XML."""
        import requests

        params = {**params, "tool": self.tool, **({"email": self.email} if self.email else {})}
        if self.api_key:
            params["api_key"] = self.api_key
        url = f"{self.base_url}{utility}.fcgi"
        problem = ""
        for attempt in range(self.max_tries):
            if attempt:
                self.retries += 1
            self.limiter.wait()
            self.requests_made += 1
            try:
                if post:
                    resp = self.session.post(url, data=params, timeout=self.timeout)
                else:
                    resp = self.session.get(url, params=params, timeout=self.timeout)
            except requests.RequestException as exc:
                problem = f"{type(exc).__name__}: {exc}"
                time.sleep(self.backoff * 2**attempt)
                continue
            if resp.status_code in RETRY_STATUS:
                problem = f"HTTP {resp.status_code}"
                after = resp.headers.get("Retry-After", "")
                time.sleep(float(after) if after.replace(".", "", 1).isdigit() else self.backoff * 2**attempt)
                continue
            if resp.status_code != 200:
                raise EutilsError(f"{utility} answered HTTP {resp.status_code}: {resp.text[:300]}")
            try:
                element = _parse(resp.content, f"{utility} answer")
            except RagOracleError as exc:  # a 200 cut short: NCBI drops long answers now and then
                problem = f"unreadable XML ({exc})"
                time.sleep(self.backoff * 2**attempt)
                continue
            error = element.findtext("ERROR")
            if element.tag != root:
                raise EutilsError(f"{utility} answered <{element.tag}>, expected <{root}>: {error or ''}".strip())
            return element
        raise EutilsError(
            f"{utility} failed {self.max_tries} times (last: {problem}); NCBI may be down or rate-limiting this "
            "address: wait and run the same command again (a fetch resumes where it stopped)"
        )

    def esearch(
        self, term: str, *, retstart: int = 0, retmax: int = 0, mindate: str = "", maxdate: str = ""
    ) -> SearchResult:
        params: dict[str, str | int] = {
            "db": "pubmed",
            "term": term,
            "usehistory": "y",
            "retstart": retstart,
            "retmax": retmax,
        }
        if mindate:
            params.update({"mindate": mindate, "maxdate": maxdate or "3000", "datetype": "edat"})
        root = self._call("esearch", params, root="eSearchResult")
        if root.findtext("ERROR"):
            raise EutilsError(f"PubMed refused the query {term!r}: {root.findtext('ERROR')}")
        return SearchResult(
            count=int(root.findtext("Count") or 0),
            webenv=root.findtext("WebEnv") or "",
            query_key=root.findtext("QueryKey") or "",
            pmids=[e.text or "" for e in root.findall("IdList/Id")],
        )

    def efetch_history(self, webenv: str, query_key: str, retstart: int, retmax: int) -> Element | None:
        """A `<PubmedArticleSet>` from the history server, or None when the history is gone."""
        params = {"db": "pubmed", "WebEnv": webenv, "query_key": query_key, "retstart": retstart, "retmax": retmax}
        try:
            return self._call("efetch", {**params, "retmode": "xml"}, root="PubmedArticleSet")
        except EutilsError as exc:
            if "eFetchResult" in str(exc) or "Unable to obtain query" in str(exc):
                return None
            raise

    def efetch_ids(self, pmids: list[str]) -> Element:
        return self._call(
            "efetch", {"db": "pubmed", "id": ",".join(pmids), "retmode": "xml"}, post=True, root="PubmedArticleSet"
        )

    def efetch_pmc(self, pmcids: list[str]) -> Element:
        """JATS full text (a `<pmc-articleset>`) of these PMC articles (PMC Open Access: others come
        back with their front matter only)."""
        return self._call(
            "efetch", {"db": "pmc", "id": ",".join(pmcids), "retmode": "xml"}, post=True, root="pmc-articleset"
        )


_PMCID = re.compile(r"^(?:PMC)?(\d{1,9})$", re.I)


def check_pmcids(values: list[str]) -> list[str]:
    """'PMC123' or '123' -> 'PMC123'; ConfigError naming any that is not a PMCID."""
    bad = [v for v in values if not _PMCID.match(v.strip())]
    if bad or not values:
        raise ConfigError(f"not PMCIDs: {', '.join(map(repr, bad)) or 'none given'}; give ids such as PMC1234567")
    return list(dict.fromkeys(f"PMC{_PMCID.match(v.strip()).group(1)}" for v in values))


def fetch_pmc(client: EutilsClient, pmcids: list[str], folder: Path) -> tuple[list[Path], list[str]]:
    """Fetch each article's JATS into `folder`/<PMCID>.xml (one already there is not fetched again);
    returns (the files, the PMCIDs PMC returned nothing for)."""
    from rag_oracle.ingest.xmlsafe import local

    folder.mkdir(parents=True, exist_ok=True)
    wanted = check_pmcids(pmcids)
    todo = [p for p in wanted if not (folder / f"{p}.xml").is_file()]
    for start in range(0, len(todo), BATCH):
        got = client.efetch_pmc(todo[start : start + BATCH])
        for article in (c for c in got if local(c.tag) == "article"):
            ids = {n.get("pub-id-type"): (n.text or "").strip() for n in article.iter() if local(n.tag) == "article-id"}
            pmcid = ids.get("pmc") or ids.get("pmcid") or ""
            pmcid = pmcid if pmcid.upper().startswith("PMC") else f"PMC{pmcid}"
            if pmcid in todo:
                wrapper = Element("pmc-articleset")
                wrapper.append(article)
                _write_xml(folder / f"{pmcid}.xml", wrapper)
    files = [folder / f"{p}.xml" for p in wanted if (folder / f"{p}.xml").is_file()]
    return files, [p for p in wanted if not (folder / f"{p}.xml").is_file()]


def returned_pmids(article_set: Element) -> list[str]:
    return [(a.findtext("MedlineCitation/PMID") or "").strip() for a in article_set.findall("PubmedArticle")]


_DATE = re.compile(r"^\d{4}(/\d{2}(/\d{2})?)?$")


def check_since(since: str) -> str:
    """'2024-01-31' or '2024/01' -> NCBI's 'YYYY/MM/DD' form; ConfigError otherwise."""
    value = since.strip().replace("-", "/")
    if not _DATE.match(value):
        raise ConfigError(
            f"--since {since!r} is not a date; give YYYY, YYYY-MM or YYYY-MM-DD (e.g. --since 2024-01-01)"
        )
    return value


def fetch_folder(index_path: str | Path, query: str, since: str, max_records: int) -> Path:
    """Where a fetch keeps its batches and state: beside the index, one folder per (query, since, max)."""
    key = hashlib.sha256(json.dumps([query, since, max_records]).encode()).hexdigest()[:12]
    index = Path(index_path)
    return index.parent / f"{index.name}.pubmed" / key


@dataclass
class FetchReport:
    query: str
    count: int  # what PubMed matched
    pmids: list[str]  # what this fetch takes (at most --max), newest first
    batches: int
    batches_fetched: int  # this run (the rest were on disk from an earlier one)
    requests: int
    retries: int
    seconds: float
    folder: Path
    files: list[Path] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # PMIDs PubMed listed but returned no record for

    def record(self, since: str, base_url: str) -> dict:
        """What the index manifest keeps of this fetch (`literature`): enough to run it again."""
        return {
            "kind": "pubmed-fetch",
            "query": self.query,
            "since": since,
            "server": base_url,
            "fetched_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "count": self.count,
            "pmids": self.pmids,
            "missing": self.missing,
        }


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _write_xml(path: Path, root: Element) -> None:
    """`root` as a UTF-8 XML file the loaders read (PubMed's or PMC's article set), atomically."""
    from xml.etree.ElementTree import tostring

    body = '<?xml version="1.0" encoding="UTF-8"?>\n' + tostring(root, encoding="unicode") + "\n"
    _write_atomic(path, body.encode("utf-8"))


def fetch(
    client: EutilsClient,
    query: str,
    folder: Path,
    *,
    max_records: int = 10_000,
    since: str = "",
    progress=None,
) -> FetchReport:
    """Search and fetch into `folder` (resumable; module docstring); returns what was fetched."""
    if not query.strip():
        raise ConfigError("the PubMed query is empty; give one, e.g. rag-oracle pubmed fetch 'apixaban AND surgery'")
    if max_records < 1:
        raise ConfigError(f"--max {max_records} must be at least 1")
    t0 = time.perf_counter()
    folder.mkdir(parents=True, exist_ok=True)
    state_path = folder / STATE_FILE
    state = json.loads(state_path.read_text()) if state_path.is_file() else {}
    if state.get("query") != query or state.get("since") != since or state.get("max") != max_records:
        first = client.esearch(query, retmax=min(max_records, SEARCH_PAGE), mindate=since)
        pmids = first.pmids
        while len(pmids) < min(first.count, max_records):
            page = client.esearch(
                query, retstart=len(pmids), retmax=min(max_records - len(pmids), SEARCH_PAGE), mindate=since
            )
            if not page.pmids:
                break
            pmids += page.pmids
        state = {
            "query": query,
            "since": since,
            "max": max_records,
            "count": first.count,
            "webenv": first.webenv,
            "query_key": first.query_key,
            "pmids": pmids[:max_records],
        }
        _write_atomic(state_path, json.dumps(state).encode())
    pmids: list[str] = state["pmids"]
    starts = list(range(0, len(pmids), BATCH))
    if progress is not None:
        progress.start("pubmed fetch", len(pmids), "records")
    fetched, files, missing = 0, [], []
    history_ok = bool(state.get("webenv"))
    for start in starts:
        path = folder / f"batch-{start // BATCH:06d}.xml"
        expected = pmids[start : start + BATCH]
        if not path.is_file() and str(start) not in state.get("missing", {}):
            got = (
                client.efetch_history(state["webenv"], state["query_key"], start, len(expected)) if history_ok else None
            )
            if got is None or returned_pmids(got) != expected:
                # the history expired, or the result set moved (new records shift the offsets): by PMID
                history_ok = got is not None and history_ok
                got = client.efetch_ids(expected)
            returned = set(returned_pmids(got))
            state.setdefault("missing", {})[str(start)] = [p for p in expected if p not in returned]
            if returned:
                _write_xml(path, got)
            _write_atomic(state_path, json.dumps(state).encode())  # the batch is done: a resumed run skips it
            fetched += 1
        if path.is_file():
            files.append(path)
        missing += state.get("missing", {}).get(str(start), [])
        if progress is not None:
            progress.advance(len(expected))
    if progress is not None:
        progress.finish()
    return FetchReport(
        query=query,
        count=int(state["count"]),
        pmids=pmids,
        batches=len(starts),
        batches_fetched=fetched,
        requests=client.requests_made,
        retries=client.retries,
        seconds=time.perf_counter() - t0,
        folder=folder,
        files=files,
        missing=missing,
    )


__all__ = [
    "EUTILS",
    "EutilsClient",
    "EutilsError",
    "FetchReport",
    "RateLimiter",
    "check_since",
    "fetch",
    "fetch_folder",
]
