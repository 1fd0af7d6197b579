"""`rag-oracle pubmed fetch`: build or extend an index from a PubMed query (ingest/eutils.py)."""

from __future__ import annotations

import json
import sys

import click

from rag_oracle.cli.options import command_line, current_settings, index_option, json_option, quiet_option
from rag_oracle.cli.progress import TqdmProgress
from rag_oracle.text.untrusted import terminal_safe


@click.group("pubmed")
def pubmed_group() -> None:
    """The literature itself: PubMed records through NCBI's E-utilities."""


@pubmed_group.command("fetch")
@click.argument("query")
@index_option(required=True, help="The index to build or add to (created if it does not exist).")
@click.option("--max", "max_records", type=int, default=10_000, show_default=True, help="Most records to take.")
@click.option("--since", default="", help="Only records entered since this date (YYYY, YYYY-MM or YYYY-MM-DD).")
@click.option(
    "--email",
    envvar="NCBI_EMAIL",
    default="",
    help="Your email, sent with every request as NCBI asks (or NCBI_EMAIL). The API key is read from NCBI_API_KEY only.",
)
@click.option("--tool", default="rag-oracle", show_default=True, help="The tool name NCBI sees.")
@click.option(
    "--eutils-url",
    envvar="RAG_ORACLE_EUTILS_URL",
    default=None,
    help="E-utilities base URL (default NCBI's; a mirror or the test server of rag_oracle.testing.eutils_server).",
)
@json_option("Print the report as JSON.")
@quiet_option("No progress bars.")
@click.pass_context
def fetch(
    ctx: click.Context,
    query: str,
    index_dir: str,
    max_records: int,
    since: str,
    email: str,
    tool: str,
    eutils_url: str | None,
    as_json: bool,
    quiet: bool,
) -> None:
    """Search PubMed for QUERY, fetch the records in batches of 200 and ingest them into --index.

    Resumable: run the same command again after an interruption and it continues where it stopped,
    fetching no batch twice. The index manifest records the query, date range, time and PMIDs.
    At most 3 requests a second (10 with NCBI_API_KEY set); 429 and 5xx answers are retried.
    """
    from rag_oracle.ingest.eutils import EUTILS, EutilsClient, check_since, fetch_folder
    from rag_oracle.ingest.eutils import fetch as run_fetch
    from rag_oracle.ingest.pipeline import ingest as run_ingest

    settings = current_settings(ctx, {})
    since = check_since(since) if since else ""
    client = EutilsClient(eutils_url or EUTILS, tool=tool, email=email)
    progress = TqdmProgress(not quiet and not as_json)
    folder = fetch_folder(index_dir, query, since, max_records)
    report = run_fetch(client, query, folder, max_records=max_records, since=since, progress=progress)
    flags = {"--max": max_records if max_records != 10_000 else None, "--since": since or None}
    command = command_line(["rag-oracle", "pubmed", "fetch", query, "--index", index_dir], flags)
    ingested = None
    record = report.record(since, client.base_url)
    if _recorded(index_dir, record):
        record = None  # the same fetch again (a resumed or repeated run): one record is enough
    if report.files:
        ingested = run_ingest(
            report.files,
            index_dir,
            settings,
            progress=progress,
            command=command,
            literature=record,
        )
    summary = {
        "query": query,
        "matched": report.count,
        "taken": len(report.pmids),
        "batches": report.batches,
        "batches_fetched_now": report.batches_fetched,
        "requests": report.requests,
        "retries": report.retries,
        "fetch_seconds": round(report.seconds, 2),
        "records_per_second": round(len(report.pmids) / report.seconds, 1) if report.batches_fetched else None,
        "missing": report.missing,
        "folder": str(report.folder),
        "ingest": ingested.summary() if ingested else "nothing to ingest",
    }
    if as_json:
        click.echo(json.dumps(summary, indent=2))
    else:
        click.echo(
            f"PubMed matched {report.count} records for {terminal_safe(query)!r}; took {len(report.pmids)} "
            f"({report.batches} batches, {report.batches_fetched} fetched now, {report.requests} requests, "
            f"{report.retries} retried) in {report.seconds:.1f}s"
        )
        if not report.count:
            click.echo("nothing matched: check the query (PubMed's syntax, e.g. 'apixaban AND surgery')", err=True)
        if report.missing:
            click.echo(f"warning: PubMed returned no record for {len(report.missing)} PMIDs", err=True)
        click.echo(terminal_safe(summary["ingest"]))
    sys.exit(ingested.exit_code if ingested else (0 if report.count else 1))


@pubmed_group.command("update")
@click.argument("paths", nargs=-1, required=True)
@index_option(required=True, help="The index to apply the files to (created by the first baseline file).")
@json_option("Print the report as JSON.")
@quiet_option("No progress bars.")
@click.pass_context
def update(ctx: click.Context, paths: tuple[str, ...], index_dir: str, as_json: bool, quiet: bool) -> None:
    """Apply MEDLINE baseline and update files (FILES or a DIR of .xml/.xml.gz) in name order.

    New citations are added, revised versions replace the earlier text, DeleteCitation removes
    PMIDs, and files already applied (recorded in the manifest by name and sha256) are skipped.
    """
    import dataclasses

    from rag_oracle.ingest.medline import update as run_update

    settings = current_settings(ctx, {})
    command = command_line(["rag-oracle", "pubmed", "update", *paths, "--index", index_dir], {})
    report = run_update(
        list(paths), index_dir, settings, progress=TqdmProgress(not quiet and not as_json), command=command
    )
    if as_json:
        click.echo(
            json.dumps({"files": [dataclasses.asdict(f) for f in report.files], "summary": report.summary()}, indent=2)
        )
    else:
        for f in report.files:
            click.echo(
                terminal_safe(
                    f"{f.status}: {f.file}"
                    + (
                        f" (+{f.added} new, {f.replaced} revised, -{f.deleted} deleted)"
                        if f.status == "applied"
                        else ""
                    )
                )
            )
        click.echo(report.summary())


def _recorded(index_dir: str, record: dict) -> bool:
    """Whether the index's manifest already records this fetch (same query, range, server and PMIDs)."""
    from rag_oracle.ingest.pipeline import recorded_literature

    keys = ("kind", "query", "since", "server", "pmids")
    return any(all(r.get(k) == record[k] for k in keys) for r in recorded_literature(index_dir))


@pubmed_group.command("pmc")
@click.argument("pmcids", nargs=-1, required=True)
@index_option(required=True, help="The index to add the full texts to (created if it does not exist).")
@click.option(
    "--commercial-only",
    is_flag=True,
    help="Keep only articles licensed for commercial reuse (CC0, CC BY, BY-SA, BY-ND); the rest are reported.",
)
@click.option("--email", envvar="NCBI_EMAIL", default="", help="Your email, sent with every request (or NCBI_EMAIL).")
@click.option(
    "--eutils-url", envvar="RAG_ORACLE_EUTILS_URL", default=None, help="E-utilities base URL (default NCBI's)."
)
@quiet_option("No progress bars.")
@click.pass_context
def pmc(
    ctx: click.Context,
    pmcids: tuple[str, ...],
    index_dir: str,
    commercial_only: bool,
    email: str,
    eutils_url: str | None,
    quiet: bool,
) -> None:
    """Add PubMed Central Open Access full texts (JATS) by PMCID; each document records its licence."""
    from pathlib import Path

    from rag_oracle.ingest.eutils import EUTILS, EutilsClient, fetch_pmc
    from rag_oracle.ingest.pipeline import ingest as run_ingest

    settings = current_settings(ctx, {"ingest": {"licences": "commercial" if commercial_only else None}})
    client = EutilsClient(eutils_url or EUTILS, email=email)
    index = Path(index_dir)
    files, missing = fetch_pmc(client, list(pmcids), index.parent / f"{index.name}.pubmed" / "pmc")
    for pmcid in missing:
        click.echo(f"warning: PMC returned no article for {pmcid} (not in PMC, or not Open Access)", err=True)
    if not files:
        click.echo("nothing to ingest", err=True)
        sys.exit(1)
    command = command_line(["rag-oracle", "pubmed", "pmc", *pmcids, "--index", index_dir], {})
    report = run_ingest(files, index_dir, settings, progress=TqdmProgress(not quiet), command=command)
    for f in report.files:
        for warning in f.warnings:
            click.echo(terminal_safe(f"warning: {warning}"), err=True)
    click.echo(terminal_safe(report.summary()))
    sys.exit(report.exit_code)
