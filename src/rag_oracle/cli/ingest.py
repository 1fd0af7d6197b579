"""`rag-oracle ingest`: add files to an index and report what could not be read."""

from __future__ import annotations

import dataclasses
import json
import sys
from typing import Any

import click

from rag_oracle.cli.options import command_line, current_settings, index_option, json_option, quiet_option
from rag_oracle.cli.progress import TqdmProgress
from rag_oracle.text.untrusted import terminal_safe, terminal_safe_json


def _report_dict(report: Any) -> dict[str, Any]:
    # The report is becoming a pydantic model; until then it is a dataclass. Both print the same.
    if hasattr(report, "model_dump"):
        return report.model_dump(mode="json")
    return dataclasses.asdict(report)


def _one_line(text: str) -> str:
    """A report line as one terminal line: no controls, and a newline in a file name shown as \\n,
    so a file cannot print a line of its own ("SKIPPED: forged …")."""
    return terminal_safe(text.replace("\r", "\\r").replace("\n", "\\n"))


def _unremarkable(reason: str) -> bool:
    """Skips a user expects and need not read about: unchanged files, duplicates, nothing to add."""
    return reason == "unchanged since last ingest" or reason.startswith("all ") or reason == "no documents"


@click.command()
@click.argument("paths", nargs=-1, required=True)
@index_option(required=True, help="Index directory to create or add to.")
@click.option("--embed-model", help="sentence-transformers model name or path (default: all-MiniLM-L6-v2, bundled).")
@click.option("--chunk-tokens", type=int, help="Maximum chunk length in embedder tokens (default 200).")
@click.option("--chunk-overlap", type=int, help="Overlap between consecutive chunks in tokens (default 40).")
@click.option("--faiss", "faiss_spec", help="FAISS factory string: Flat (default, exact), HNSW32, IVF1024,PQ32 …")
@click.option("--wait", is_flag=True, help="If another ingest is writing this index, wait for it instead of failing.")
@click.option(
    "--replace/--keep-existing",
    "replace",
    default=None,
    help="A document already indexed under the same id with other text: replace it with the new version "
    "(default, ingest.existing = replace: how a correction lands) or keep the stored one.",
)
@click.option("--max-file-mib", type=float, help="Largest file to read, in MiB (default 64; ingest.max_file_mib).")
@click.option(
    "--follow-symlinks",
    is_flag=True,
    default=None,
    help="Read symbolic links that lead outside the folders given (default: reported and skipped).",
)
@click.option(
    "--commercial-only",
    is_flag=True,
    default=None,
    help="PMC/JATS: keep only articles licensed for commercial reuse (CC0, CC BY, BY-SA, BY-ND); ingest.licences.",
)
@click.option(
    "--engine",
    type=click.Choice(["local", "ray"]),
    default="local",
    show_default=True,
    help="ray: load, chunk and embed on a Ray cluster (the ray extra), assemble the same index here.",
)
@click.option("--address", help="Ray cluster address (ray://HOST:PORT or auto); default: a local Ray.")
@click.option("--ray-batch-size", type=int, default=256, show_default=True, help="Texts per embedding batch.")
@click.option("--ray-concurrency", type=int, default=1, show_default=True, help="Chunker and embedder actors.")
@click.option("--ray-gpus", type=float, default=0.0, show_default=True, help="GPUs per embedder actor.")
@json_option("Print the report as JSON.")
@quiet_option("No progress bars.")
@click.pass_context
def ingest(
    ctx: click.Context,
    paths: tuple[str, ...],
    index_dir: str,
    embed_model: str | None,
    chunk_tokens: int | None,
    chunk_overlap: int | None,
    faiss_spec: str | None,
    wait: bool,
    replace: bool | None,
    max_file_mib: float | None,
    follow_symlinks: bool | None,
    commercial_only: bool | None,
    engine: str,
    address: str | None,
    ray_batch_size: int,
    ray_concurrency: int,
    ray_gpus: float,
    as_json: bool,
    quiet: bool,
) -> None:
    """Add PDFs, PubMed/JATS XML, Markdown, text and JSONL files (or folders of them) to an index.

    Corrupt, empty, encrypted and unsupported files are reported and skipped; so are files over
    a limit (size, decompressed size, time), special files and symlinks out of the folders given.
    The rest is ingested. Exit code 1 when any file failed, 0 otherwise.
    """
    from rag_oracle.ingest.pipeline import ingest as run_ingest

    settings = current_settings(
        ctx,
        {
            "embed": {"model": embed_model},
            "chunk": {"max_tokens": chunk_tokens, "overlap_tokens": chunk_overlap},
            "index": {"faiss": faiss_spec},
            "ingest": {
                "existing": None if replace is None else ("replace" if replace else "keep"),
                "max_file_mib": max_file_mib,
                "follow_symlinks": follow_symlinks,
                "licences": "commercial" if commercial_only else None,
            },
        },
    )
    flags = {
        "--embed-model": embed_model,
        "--chunk-tokens": chunk_tokens,
        "--chunk-overlap": chunk_overlap,
        "--faiss": faiss_spec,
        "--max-file-mib": max_file_mib,
    }
    if engine == "ray":
        flags = {**flags, "--engine": "ray", "--address": address}
    command = command_line(["rag-oracle", "ingest", *paths, "--index", index_dir], flags)
    progress = TqdmProgress(not quiet and not as_json)
    if engine == "ray":
        from rag_oracle.ingest.distributed import ingest_with_ray

        report, ray_report = ingest_with_ray(
            list(paths),
            index_dir,
            settings,
            address=address,
            batch_size=ray_batch_size,
            concurrency=ray_concurrency,
            gpus=ray_gpus,
            progress=progress,
            command=command,
            wait=wait,
        )
        if not as_json:
            click.echo(
                f"ray: {ray_report.texts_embedded} texts embedded into {ray_report.shards_written} shards "
                f"({ray_report.texts_in_shards} already in shards) in {ray_report.seconds:.1f}s"
            )
    else:
        report = run_ingest(list(paths), index_dir, settings, progress=progress, command=command, wait=wait)
    if as_json:
        click.echo(terminal_safe_json(json.dumps(_report_dict(report), indent=2)))
    else:
        for f in report.files:
            if f.status == "failed" or (f.status == "skipped" and not _unremarkable(f.reason)):
                click.echo(_one_line(f"{f.status.upper()}: {f.path}: {f.reason}"), err=True)
            for warning in f.warnings:
                click.echo(_one_line(f"warning: {warning}"), err=True)
        if not report.files:
            click.echo(_one_line(f"warning: no files found in {', '.join(paths)}"), err=True)
        click.echo(terminal_safe(report.summary()))
        if engine == "local" and report.seconds.get("embed") and report.chunks_added:  # ray: above
            rate = report.chunks_added / report.seconds["embed"]
            click.echo(f"embedded {report.chunks_added} chunks in {report.seconds['embed']:.1f}s ({rate:.1f} chunks/s)")
    sys.exit(report.exit_code)
