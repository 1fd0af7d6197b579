"""`rag-oracle index info|verify`: what an index holds, and whether its files are intact."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from rag_oracle.cli.options import json_option


@click.group("index")
def index_group() -> None:
    """Inspect and check index directories."""


@index_group.command("info")
@click.argument("directory", type=click.Path(file_okay=False))
@json_option()
def index_info(directory: str, as_json: bool) -> None:
    """What an index holds and how it was built (from its manifest)."""
    from rag_oracle.index.manifest import read_manifest

    m = read_manifest(Path(directory))
    if as_json:
        click.echo(m.model_dump_json(indent=2))
        return
    click.echo(f"index        {directory}")
    click.echo(
        f"documents    {m.counts.get('documents')}   chunks {m.counts.get('chunks')}   tokens {m.counts.get('tokens')}"
    )
    click.echo(f"embedder     {m.embedder.get('id')} (dim {m.embedder.get('dimension')})")
    click.echo(f"chunking     {m.chunking}")
    click.echo(f"faiss        {m.faiss.get('spec')} ({m.faiss.get('metric')}, {m.faiss.get('ntotal')} vectors)")
    click.echo(f"bm25         {m.bm25}")
    click.echo(f"fingerprint  {m.fingerprint}   schema {m.schema_version}   rag-oracle {m.package_version}")
    click.echo(f"created      {m.created_at}   updated {m.updated_at}")
    for cmd in m.build_commands:
        click.echo(f"built by     {cmd}")


@index_group.command("verify")
@click.argument("directory", type=click.Path(file_okay=False))
def index_verify(directory: str) -> None:
    """Re-hash every file against the manifest and check chunk offsets. Exit 1 on any problem."""
    from rag_oracle.index.store import Index

    idx = Index.open(directory)
    problems = idx.verify()
    for p in problems:
        click.echo(f"PROBLEM: {p}", err=True)
    if problems:
        click.echo(f"{directory}: {len(problems)} problem(s); rebuild the index with rag-oracle ingest")
        sys.exit(1)
    click.echo(
        f"{directory}: OK ({len(idx.manifest.files)} files, {len(idx.documents)} documents, {len(idx.chunks)} chunks)"
    )
