"""A local NCBI E-utilities server on loopback, for tests and benchmarks without the internet.

It speaks the part of the protocol `rag-oracle pubmed fetch` uses (NCBI's "E-utilities In-Depth",
NBK25499), in NCBI's documented response formats:

- ``esearch.fcgi?db=pubmed&term=…&usehistory=y&retmax=…&retstart=…[&mindate=…&maxdate=…&datetype=edat]``
  returns an ``<eSearchResult>`` with Count, RetMax, RetStart, QueryKey, WebEnv and IdList;
- ``efetch.fcgi?db=pubmed&WebEnv=…&query_key=…&retstart=…&retmax=…&retmode=xml`` (or ``id=1,2,3``,
  by GET or POST) returns a ``<PubmedArticleSet>`` of those records, newest first as PubMed sorts;
- ``efetch.fcgi?db=pmc&id=PMC1,PMC2`` returns a ``<pmc-articleset>`` of JATS ``<article>``s
  (`FixtureArticle`, with a licence in ``<permissions>``).

The records are `FixtureRecord`s written by the project (`fixture_records`), not NCBI data. A term
matches a record when every word of it is in the record's title or abstract (``all[sb]`` matches
every record); the date range filters on the record's entry date.

Faults are scripted per utility, consumed one per request: ``server.faults["efetch"] = ["429",
"500", "truncate", "expire"]`` answers the next four EFetch requests with a 429 (with Retry-After),
a 500, a 200 whose XML is cut in half, and NCBI's error for an unknown WebEnv. Every request is
logged (`requests`: time, utility, parameters) so a test can check rates and parameters.

    with EutilsServer(fixture_records(450)) as server:
        client = EutilsClient(base_url=server.url, ...)
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse
from xml.sax.saxutils import escape


@dataclass(frozen=True)
class FixtureRecord:
    pmid: str
    title: str
    abstract: list[tuple[str, str]]  # (label, text)
    entry_date: str  # YYYY/MM/DD, what mindate/maxdate filter on (datetype edat)
    publication_types: tuple[str, ...] = ("Journal Article",)
    mesh: tuple[str, ...] = ()
    year: int = 2024
    version: int = 1

    def words(self) -> set[str]:
        text = " ".join([self.title, *(t for _, t in self.abstract)]).lower()
        return set("".join(c if c.isalnum() else " " for c in text).split())


_PAIRS = (  # a drug and a condition it is used for
    ("apixaban", "atrial fibrillation"),
    ("warfarin", "venous thromboembolism"),
    ("sertraline", "depression"),
    ("clonazepam", "panic disorder"),
    ("atorvastatin", "hyperlipidaemia"),
    ("amoxicillin", "acute sinusitis"),
)
_DESIGNS = (
    ("Randomized Controlled Trial", "A randomised trial of {d} in adults with {c}"),
    ("Systematic Review", "{d} for {c}: a systematic review"),
    ("Practice Guideline", "Guideline on the use of {d} in {c}"),
    ("Observational Study", "Outcomes of {d} in a cohort with {c}"),
    ("Case Reports", "An unusual reaction to {d} in a patient with {c}"),
)


def fixture_records(n: int, *, start_pmid: int = 990000001) -> list[FixtureRecord]:
    """`n` synthetic records (project-written text) with varied drugs, conditions and study designs."""
    out = []
    for i in range(n):
        drug, condition = _PAIRS[i % len(_PAIRS)]
        ptype, title = _DESIGNS[i % len(_DESIGNS)]
        out.append(
            FixtureRecord(
                pmid=str(start_pmid + i),
                title=title.format(d=drug, c=condition) + f" (fixture record {i})",
                abstract=[
                    ("BACKGROUND", f"The role of {drug} in {condition} is debated in fixture study {i}."),
                    ("RESULTS", f"In fixture study {i}, {drug} was given to {20 + i % 80} adults with {condition}."),
                ],
                entry_date=f"{2015 + i % 10}/{1 + i % 12:02d}/{1 + i % 28:02d}",
                publication_types=("Journal Article", ptype),
                mesh=(drug.capitalize(), condition.title()),
                year=2015 + i % 10,
            )
        )
    return out


def article_xml(record: FixtureRecord) -> str:
    """One ``<PubmedArticle>`` in PubMed's EFetch/MEDLINE XML."""
    abstract = "".join(
        f'<AbstractText Label="{escape(lab)}">{escape(text)}</AbstractText>' for lab, text in record.abstract
    )
    types = "".join(f"<PublicationType>{escape(t)}</PublicationType>" for t in record.publication_types)
    mesh = "".join(f"<MeshHeading><DescriptorName>{escape(m)}</DescriptorName></MeshHeading>" for m in record.mesh)
    return (
        f'<PubmedArticle><MedlineCitation Status="MEDLINE" Owner="NLM"><PMID Version="{record.version}">'
        f"{record.pmid}</PMID><Article><Journal><JournalIssue><PubDate><Year>{record.year}</Year></PubDate>"
        f"</JournalIssue><Title>Fixture Journal</Title></Journal><ArticleTitle>{escape(record.title)}</ArticleTitle>"
        f"<Abstract>{abstract}</Abstract><PublicationTypeList>{types}</PublicationTypeList></Article>"
        f"<MeshHeadingList>{mesh}</MeshHeadingList></MedlineCitation><PubmedData><ArticleIdList>"
        f'<ArticleId IdType="pubmed">{record.pmid}</ArticleId></ArticleIdList></PubmedData></PubmedArticle>'
    )


def article_set_xml(records: Sequence[FixtureRecord]) -> str:
    return (
        '<?xml version="1.0" ?>\n<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st January 2024//EN" '
        '"https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_240101.dtd">\n<PubmedArticleSet>'
        + "".join(article_xml(r) for r in records)
        + "</PubmedArticleSet>\n"
    )


@dataclass(frozen=True)
class FixtureArticle:
    """A PMC full-text article (JATS), project-written, with its licence URL ("" for none)."""

    pmcid: str  # PMC1234567
    title: str
    paragraphs: tuple[tuple[str, str], ...]  # (section title, text)
    licence_url: str = "https://creativecommons.org/licenses/by/4.0/"
    pmid: str = ""


def fixture_articles() -> list[FixtureArticle]:
    """Three articles: CC BY, CC BY-NC-ND and one without a licence statement."""
    body = (
        ("Methods", "Fixture adults with atrial fibrillation received apixaban in this project-written article."),
        ("Results", "Apixaban was held for 48 hours before a procedure with a high bleeding risk in this fixture."),
    )
    return [
        FixtureArticle("PMC9900001", "Apixaban before procedures: a fixture full text", body, pmid="990000001"),
        FixtureArticle(
            "PMC9900002",
            "Warfarin bridging: a fixture full text",
            body,
            "https://creativecommons.org/licenses/by-nc-nd/4.0/",
        ),
        FixtureArticle("PMC9900003", "Sertraline dosing: a fixture full text", body, ""),
    ]


def jats_xml(article: FixtureArticle) -> str:
    """One JATS ``<article>`` as PMC's EFetch returns it."""
    licence = (
        f'<permissions><license xmlns:xlink="http://www.w3.org/1999/xlink" license-type="open-access" '
        f'xlink:href="{escape(article.licence_url)}"><license-p>Distributed under {escape(article.licence_url)}.'
        "</license-p></license></permissions>"
        if article.licence_url
        else ""
    )
    secs = "".join(f"<sec><title>{escape(t)}</title><p>{escape(p)}</p></sec>" for t, p in article.paragraphs)
    ids = f'<article-id pub-id-type="pmc">{article.pmcid}</article-id>' + (
        f'<article-id pub-id-type="pmid">{article.pmid}</article-id>' if article.pmid else ""
    )
    return (
        f'<article article-type="research-article"><front><article-meta>{ids}<title-group><article-title>'
        f"{escape(article.title)}</article-title></title-group><pub-date><year>2024</year></pub-date>{licence}"
        f"<abstract><p>{escape(article.paragraphs[0][1])}</p></abstract></article-meta></front><body>{secs}</body></article>"
    )


@dataclass
class _History:
    pmids: list[str]


@dataclass
class EutilsServer:
    """The server (module docstring); a context manager that serves on 127.0.0.1 at a free port."""

    records: list[FixtureRecord]
    articles: list[FixtureArticle] = field(default_factory=fixture_articles)
    faults: dict[str, list[str]] = field(default_factory=dict)
    requests: list[tuple[float, str, dict[str, str]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._history: dict[str, _History] = {}
        self._httpd: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._httpd is not None, "start the server first (use it as a context manager)"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/entrez/eutils/"

    def __enter__(self) -> EutilsServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self._answer(urlparse(self.path).query)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self._answer(self.rfile.read(length).decode("utf-8"), urlparse(self.path).query)

            def _answer(self, *queries: str) -> None:
                params: dict[str, str] = {}
                for q in queries:
                    params.update({k: v[-1] for k, v in parse_qs(q, keep_blank_values=True).items()})
                utility = urlparse(self.path).path.rsplit("/", 1)[-1].removesuffix(".fcgi")
                status, body, headers = server._respond(utility, params)
                data = body.encode("utf-8")
                self.send_response(status)
                for key, value in {"Content-Type": "text/xml; charset=UTF-8", **headers}.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:  # quiet
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()

    def utility_requests(self, utility: str) -> list[tuple[float, dict[str, str]]]:
        with self._lock:
            return [(t, p) for t, u, p in self.requests if u == utility]

    # --- the protocol ---

    def _respond(self, utility: str, params: dict[str, str]) -> tuple[int, str, dict[str, str]]:
        with self._lock:
            self.requests.append((time.monotonic(), utility, dict(params)))
            scripted = self.faults.get(utility) or []
            fault = scripted.pop(0) if scripted else ""
        if fault == "429":
            return 429, '{"error":"API rate limit exceeded","count":"4"}', {"Retry-After": "0"}
        if fault == "500":
            return 500, "<html><body>Internal Server Error</body></html>", {}
        if utility == "esearch":
            return self._esearch(params)
        if utility == "efetch":
            status, body, headers = self._efetch(params, expired=fault == "expire")
            if fault == "truncate" and status == 200:
                body = body[: len(body) // 2]
            return status, body, headers
        return 400, f"<eSearchResult><ERROR>unknown utility {escape(utility)}</ERROR></eSearchResult>", {}

    def _esearch(self, params: dict[str, str]) -> tuple[int, str, dict[str, str]]:
        if params.get("db") != "pubmed":
            return 400, "<eSearchResult><ERROR>db must be pubmed here</ERROR></eSearchResult>", {}
        term = params.get("term", "").strip().lower()
        words = [w for w in "".join(c if c.isalnum() or c in "[]" else " " for c in term).split() if w != "and"]
        lo, hi = params.get("mindate", "").replace("-", "/"), params.get("maxdate", "").replace("-", "/")
        newest_first = sorted(self.records, key=lambda r: (r.entry_date, r.pmid), reverse=True)
        found = [
            r.pmid
            for r in newest_first
            if (words == ["all[sb]"] or all(w in r.words() for w in words))
            and (not lo or r.entry_date >= lo)
            and (not hi or r.entry_date <= hi)
        ]
        retstart, retmax = int(params.get("retstart") or 0), int(params.get("retmax") or 20)
        history = ""
        if params.get("usehistory") == "y":
            webenv = params.get("WebEnv") or f"MCID_{uuid.uuid4().hex}"
            with self._lock:
                self._history[f"{webenv}#1"] = _History(found)
            history = f"<QueryKey>1</QueryKey><WebEnv>{webenv}</WebEnv>"
        ids = "".join(f"<Id>{p}</Id>" for p in found[retstart : retstart + retmax])
        body = (
            '<?xml version="1.0" encoding="UTF-8" ?>\n<!DOCTYPE eSearchResult PUBLIC "-//NLM//DTD esearch 20060628//EN" '
            '"https://eutils.ncbi.nlm.nih.gov/eutils/dtd/20060628/esearch.dtd">\n'
            f"<eSearchResult><Count>{len(found)}</Count><RetMax>{len(found[retstart : retstart + retmax])}</RetMax>"
            f"<RetStart>{retstart}</RetStart>{history}<IdList>{ids}</IdList>"
            f"<QueryTranslation>{escape(term)}</QueryTranslation></eSearchResult>\n"
        )
        return 200, body, {}

    def _efetch(self, params: dict[str, str], *, expired: bool) -> tuple[int, str, dict[str, str]]:
        if params.get("db") == "pmc":
            wanted = [p.strip().upper() for p in params.get("id", "").split(",") if p.strip()]
            wanted = [p if p.startswith("PMC") else f"PMC{p}" for p in wanted]
            by_id = {a.pmcid: a for a in self.articles}
            found = "".join(jats_xml(by_id[p]) for p in wanted if p in by_id)
            return 200, f'<?xml version="1.0" ?>\n<pmc-articleset>{found}</pmc-articleset>\n', {}
        by_pmid = {r.pmid: r for r in self.records}
        if params.get("id"):
            pmids = [p.strip() for p in params["id"].split(",") if p.strip()]
        else:
            with self._lock:
                history = None if expired else self._history.get(f"{params.get('WebEnv')}#{params.get('query_key')}")
            if history is None:
                return 400, "<eFetchResult><ERROR>Unable to obtain query #1</ERROR></eFetchResult>", {}
            start, count = int(params.get("retstart") or 0), int(params.get("retmax") or 20)
            pmids = history.pmids[start : start + count]
        return 200, article_set_xml([by_pmid[p] for p in pmids if p in by_pmid]), {}


__all__ = [
    "EutilsServer",
    "FixtureArticle",
    "FixtureRecord",
    "article_set_xml",
    "article_xml",
    "fixture_articles",
    "fixture_records",
    "jats_xml",
]


def main() -> None:
    """`python -m rag_oracle.testing.eutils_server [--records N]`: serve fixture records until ^C and
    print the URL to give `rag-oracle pubmed fetch --eutils-url`."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--records", type=int, default=450)
    args = parser.parse_args()
    with EutilsServer(fixture_records(args.records)) as server:
        print(server.url, flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
