"""`rag-oracle index info|verify`: what an index holds, and whether its files are intact."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from rag_oracle.cli.options import command_line, current_settings, json_option
from rag_oracle.text.untrusted import terminal_safe, terminal_safe_json


@click.group("index")
def index_group() -> None:
    """Inspect and check index directories."""


@index_group.command("info")
@click.argument("directory", type=click.Path(file_okay=False))
@json_option()
def index_info(directory: str, as_json: bool) -> None:
    """What an index holds and how it was built (from its manifest), and the FAISS spec recommended for its size."""
    from rag_oracle.index.dense import recommended_factory
    from rag_oracle.index.manifest import read_manifest

    m = read_manifest(Path(directory))
    chunks = _count(m.counts.get("chunks"))
    spec, reason = recommended_factory(chunks, _count(m.embedder.get("dimension")))
    current = str(m.faiss.get("spec"))
    if as_json:
        data = json.loads(m.model_dump_json())
        data["recommended_faiss"] = {"spec": spec, "reason": reason, "current": current}
        click.echo(terminal_safe_json(json.dumps(data, indent=2, ensure_ascii=False)))
        return
    click.echo(terminal_safe(f"index        {directory}"))
    click.echo(
        f"documents    {m.counts.get('documents')}   chunks {m.counts.get('chunks')}   tokens {m.counts.get('tokens')}"
    )
    click.echo(f"embedder     {m.embedder.get('id')} (dim {m.embedder.get('dimension')})")
    click.echo(f"chunking     {m.chunking}")
    click.echo(f"faiss        {m.faiss.get('spec')} ({m.faiss.get('metric')}, {m.faiss.get('ntotal')} vectors)")
    same = (
        "the current spec"
        if spec == current
        else f"current {current}; to change it, ingest into a new --index with --faiss '{spec}'"
    )
    click.echo(terminal_safe(f"recommended  {spec} for {chunks} chunks ({same}): {reason}"))
    click.echo(f"bm25         {m.bm25}")
    click.echo(f"fingerprint  {m.fingerprint}   schema {m.schema_version}   rag-oracle {m.package_version}")
    click.echo(f"created      {m.created_at}   updated {m.updated_at}")
    for cmd in m.build_commands:
        click.echo(terminal_safe(f"built by     {cmd}"))
    for record in m.literature:
        if record.get("kind") == "pubmed-fetch":
            line = (
                f"literature   PubMed {record.get('query')!r}"
                + (f" since {record['since']}" if record.get("since") else "")
                + f": {len(record.get('pmids') or [])} of {record.get('count')} matches, fetched {record.get('fetched_at')}"
            )
        else:
            line = f"literature   MEDLINE file {record.get('file')} (-{record.get('deleted', 0)} deleted)"
        click.echo(terminal_safe(line))


def _count(value: object) -> int:
    """A manifest number, or 0 when it is missing or not a number (a damaged manifest still prints)."""
    try:
        return max(0, int(value))  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return 0


@index_group.command("verify")
@click.argument("directory", type=click.Path(file_okay=False))
def index_verify(directory: str) -> None:
    """Re-hash every file against the manifest, parse them all and check chunk offsets. Exit 1 on any problem."""
    from rag_oracle.index.manifest import read_manifest
    from rag_oracle.index.store import verify_index

    problems = verify_index(directory)
    for p in problems:
        click.echo(terminal_safe(f"PROBLEM: {p}"), err=True)
    if problems:
        click.echo(terminal_safe(f"{directory}: {len(problems)} problem(s); rebuild the index with rag-oracle ingest"))
        sys.exit(1)
    m = read_manifest(Path(directory))  # verified: its counts are what the files hold
    click.echo(
        f"{directory}: OK ({len(m.files)} files, {m.counts['documents']} documents, {m.counts['chunks']} chunks)"
    )


@index_group.command("remove")
@click.argument("doc_ids", nargs=-1, required=True, metavar="ID...")
@click.option("--index", "index_dir", required=True, type=click.Path(file_okay=False), help="Index to remove from.")
@click.option("--wait", is_flag=True, help="If an ingest is writing this index, wait for it instead of failing.")
@json_option("Print the report as JSON.")
@click.pass_context
def index_remove(ctx: click.Context, doc_ids: tuple[str, ...], index_dir: str, wait: bool, as_json: bool) -> None:
    """Remove documents by id (as `search --json` or the references show them), atomically.

    Their chunks leave the dense and BM25 indexes; the files they came from are forgotten, so
    ingesting a corrected file adds it again. An unknown id removes nothing (exit 2).
    """
    from rag_oracle.ingest.pipeline import remove

    settings = current_settings(ctx, {})
    command = command_line(["rag-oracle", "index", "remove", *doc_ids, "--index", index_dir], {})
    report = remove(list(doc_ids), index_dir, settings, command=command, wait=wait)
    click.echo(terminal_safe_json(report.model_dump_json(indent=2)) if as_json else terminal_safe(report.summary()))
