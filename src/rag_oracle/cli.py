"""The `rag-oracle` command: argument parsing and error mapping over the Python API, nothing more.

Exit codes: 0 success; 1 finished but something failed (a file could not be ingested, an
index failed verification); 2 bad input or an error that stopped the command (the message
says what and how to fix it); 130 interrupted.
"""

from __future__ import annotations

import json
import logging
import shlex
import sys
from pathlib import Path

import click

from rag_oracle import __version__
from rag_oracle.errors import RagOracleError
from rag_oracle.settings import Settings, load_settings


class TqdmProgress:
    """Draws the library's progress events as tqdm bars on stderr (count, rate, ETA)."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.bar = None

    def start(self, phase: str, total: int | None, unit: str) -> None:
        from tqdm import tqdm

        labels = {"read": "reading + chunking", "embed": "embedding"}
        self.bar = tqdm(
            total=total,
            unit=f" {unit}",
            desc=labels.get(phase, phase),
            disable=not self.enabled,
            file=sys.stderr,
            dynamic_ncols=True,
            smoothing=0.1,
        )

    def advance(self, n: int = 1, **info: object) -> None:
        if self.bar is not None:
            self.bar.update(n)
            if info:
                self.bar.set_postfix(info, refresh=False)

    def finish(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _settings(ctx: click.Context, **overrides: dict) -> Settings:
    settings: Settings = ctx.obj["settings"]
    return settings.with_overrides(overrides)


def _command_line(words: list[str], flags: dict[str, object]) -> str:
    """The command as typed, for manifests: argv is not used, since under a test runner or a
    wrapper it names something else. Flags left at None (defaults) are omitted."""
    return shlex.join(
        words + [part for flag, value in flags.items() if value is not None for part in (flag, str(value))]
    )


def _fail(message: str, code: int = 2) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


class _Group(click.Group):
    """Maps library errors to a one-line message and exit code 2; never a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except RagOracleError as exc:
            _fail(str(exc), exc.exit_code)
        except KeyboardInterrupt:
            _fail("interrupted", 130)


@click.group(cls=_Group)
@click.version_option(__version__, prog_name="rag-oracle")
@click.option(
    "--config", "config_file", type=click.Path(dir_okay=False), help="TOML settings file (default: ./rag-oracle.toml)."
)
@click.pass_context
def main(ctx: click.Context, config_file: str | None) -> None:
    """Cited answers to clinical questions from the literature you index."""
    # Damaged PDFs make pypdf log recoverable problems; the ingest report already says what failed.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        ctx.obj = {"settings": load_settings(config_file)}
    except RagOracleError as exc:
        _fail(str(exc), exc.exit_code)


# --- ingest --------------------------------------------------------------------------------


@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option(
    "--index", "index_dir", required=True, type=click.Path(file_okay=False), help="Index directory to create or add to."
)
@click.option("--embed-model", help="sentence-transformers model name or path (default: all-MiniLM-L6-v2, bundled).")
@click.option("--chunk-tokens", type=int, help="Maximum chunk length in embedder tokens (default 200).")
@click.option("--chunk-overlap", type=int, help="Overlap between consecutive chunks in tokens (default 40).")
@click.option("--faiss", "faiss_spec", help="FAISS factory string: Flat (default, exact), HNSW32, IVF1024,PQ32 …")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--quiet", is_flag=True, help="No progress bars.")
@click.pass_context
def ingest(ctx, paths, index_dir, embed_model, chunk_tokens, chunk_overlap, faiss_spec, as_json, quiet):
    """Add PDFs, PubMed/JATS XML, Markdown, text and JSONL files (or folders of them) to an index.

    Corrupt, empty, encrypted and unsupported files are reported and skipped; the rest is
    ingested. Exit code 1 when any file failed, 0 otherwise.
    """
    from rag_oracle.ingest.pipeline import ingest as run_ingest

    settings = _settings(
        ctx,
        embed={"model": embed_model},
        chunk={"max_tokens": chunk_tokens, "overlap_tokens": chunk_overlap},
        index={"faiss": faiss_spec},
    )
    flags = {
        "--embed-model": embed_model,
        "--chunk-tokens": chunk_tokens,
        "--chunk-overlap": chunk_overlap,
        "--faiss": faiss_spec,
    }
    command = _command_line(["rag-oracle", "ingest", *paths, "--index", index_dir], flags)
    report = run_ingest(
        list(paths), index_dir, settings, progress=TqdmProgress(not quiet and not as_json), command=command
    )
    if as_json:
        from dataclasses import asdict

        click.echo(json.dumps(asdict(report), indent=2))
    else:
        for f in report.files:
            if f.status == "failed" or (f.status == "skipped" and f.reason.startswith("unsupported")):
                click.echo(f"{f.status.upper()}: {f.path}: {f.reason}", err=True)
            for warning in f.warnings:
                click.echo(f"warning: {warning}", err=True)
        click.echo(report.summary())
        if report.seconds.get("embed") and report.chunks_added:
            rate = report.chunks_added / report.seconds["embed"]
            click.echo(f"embedded {report.chunks_added} chunks in {report.seconds['embed']:.1f}s ({rate:.1f} chunks/s)")
    sys.exit(report.exit_code)


# --- index ---------------------------------------------------------------------------------


@main.group()
def index() -> None:
    """Inspect and check index directories."""


@index.command("info")
@click.argument("directory", type=click.Path(file_okay=False))
@click.option("--json", "as_json", is_flag=True)
def index_info(directory, as_json):
    """What an index holds and how it was built (from its manifest)."""
    from rag_oracle.index.manifest import read_manifest

    manifest = read_manifest(Path(directory))
    if as_json:
        click.echo(manifest.model_dump_json(indent=2))
        return
    m = manifest
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


@index.command("verify")
@click.argument("directory", type=click.Path(file_okay=False))
def index_verify(directory):
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


# --- search and ask ------------------------------------------------------------------------


def _retrieval_options(f):
    f = click.option("--mode", type=click.Choice(["hybrid", "dense", "bm25"]), help="Retriever (default hybrid).")(f)
    f = click.option("--year-min", type=int, help="Only documents published in or after this year.")(f)
    f = click.option("--year-max", type=int, help="Only documents published in or before this year.")(f)
    f = click.option(
        "--type", "pub_types", multiple=True, help="Publication type, e.g. 'Randomized Controlled Trial' (repeatable)."
    )(f)
    f = click.option(
        "--source",
        "sources",
        multiple=True,
        help="Format (pdf, pubmed, jats, markdown, jsonl), source label or path part (repeatable).",
    )(f)
    f = click.option(
        "--index",
        "index_dir",
        type=click.Path(file_okay=False),
        help="Index directory (default: the sample index, built from ./corpus on first use).",
    )(f)
    f = click.option("--json", "as_json", is_flag=True, help="Structured output.")(f)
    return f


def _generator_options(f):
    f = click.option(
        "--generator", type=click.Choice(["extractive", "llm"]), help="Answer writer (default extractive: no LLM)."
    )(f)
    f = click.option("--prompt", "prompt_ref", help="Prompt id@version for the LLM generator, e.g. answer@2.")(f)
    f = click.option(
        "--audience", type=click.Choice(["clinician", "patient", "researcher"]), help="Who the answer is for."
    )(f)
    f = click.option(
        "--llm-backend",
        type=click.Choice(["openai", "llamacpp"]),
        help="OpenAI-compatible endpoint or in-process GGUF.",
    )(f)
    f = click.option("--llm-url", help="OpenAI-compatible base URL, e.g. http://127.0.0.1:8080/v1.")(f)
    f = click.option("--llm-model", help="Model name served by the endpoint.")(f)
    f = click.option("--llm-model-path", help="GGUF file for the llamacpp backend.")(f)
    f = click.option(
        "--unsupported",
        type=click.Choice(["remove", "flag"]),
        help="Remove unsupported sentences (default) or keep them flagged.",
    )(f)
    return f


def _generator_overrides(generator, prompt_ref, audience, llm_backend, llm_url, llm_model, llm_model_path, unsupported):
    return {
        "answer": {
            "generator": generator,
            "prompt": prompt_ref,
            "audience": audience,
            "unsupported_policy": unsupported,
        },
        "llm": {"backend": llm_backend, "base_url": llm_url, "model": llm_model, "model_path": llm_model_path},
    }


def _open(settings: Settings, index_dir: str | None, quiet: bool):
    from rag_oracle.api import RagOracle, ensure_sample_index
    from rag_oracle.embed import make_embedder

    embedder = make_embedder(settings.embed)
    if index_dir is None:
        path, report = ensure_sample_index(settings, progress=TqdmProgress(not quiet), embedder=embedder)
        if report is not None:
            click.echo(f"built the sample index at {path}: {report.summary()}", err=True)
        index_dir = str(path)
    return RagOracle(index_dir, settings, embedder=embedder)


def _filters(year_min, year_max, pub_types, sources):
    from rag_oracle.retrieve import Filters

    return Filters(year_min=year_min, year_max=year_max, publication_types=list(pub_types), sources=list(sources))


@main.command()
@click.argument("query")
@click.option("-k", "k", type=int, help="Number of chunks (default 10).")
@_retrieval_options
@click.pass_context
def search(ctx, query, k, mode, year_min, year_max, pub_types, sources, index_dir, as_json):
    """Ranked passages for QUERY, with dense and BM25 score components."""
    settings = _settings(ctx, retrieve={"mode": mode, "k": k})
    oracle = _open(settings, index_dir, as_json)
    hits = oracle.search(query, settings.retrieve.k, _filters(year_min, year_max, pub_types, sources))
    if as_json:
        click.echo(json.dumps([h.model_dump() for h in hits], indent=2))
        return
    if not hits:
        click.echo("no matching passages")
    for h in hits:
        parts = [f"score {h.score:.4f}"]
        if h.dense_score is not None:
            parts.append(f"dense {h.dense_score:.3f} (#{h.dense_rank})")
        if h.bm25_score is not None:
            parts.append(f"bm25 {h.bm25_score:.2f} (#{h.bm25_rank})")
        title = h.document.title or h.document.id
        year = f" ({h.document.year})" if h.document.year else ""
        click.echo(f"{h.rank:>3}. {h.chunk.id}  {' | '.join(parts)}")
        click.echo(f"     {title}{year}" + (f" [{h.chunk.section}]" if h.chunk.section else ""))
        text = " ".join(h.chunk.text.split())
        click.echo(f"     {text[:300]}{'…' if len(text) > 300 else ''}")


@main.command()
@click.argument("question")
@_retrieval_options
@_generator_options
@click.option("--no-stream", is_flag=True, help="Do not show the LLM's draft as it is written.")
@click.pass_context
def ask(
    ctx,
    question,
    mode,
    year_min,
    year_max,
    pub_types,
    sources,
    index_dir,
    as_json,
    generator,
    prompt_ref,
    audience,
    llm_backend,
    llm_url,
    llm_model,
    llm_model_path,
    unsupported,
    no_stream,
):
    """A cited, guideline-style answer to QUESTION (or a plain statement that the index cannot answer it).

    With --generator llm the draft streams to stderr as it is written; the verified answer
    (unsupported sentences removed, citations renumbered) is printed when it is complete.
    """
    from rag_oracle.generate.render import render_markdown

    settings = _settings(
        ctx,
        retrieve={"mode": mode},
        **_generator_overrides(
            generator, prompt_ref, audience, llm_backend, llm_url, llm_model, llm_model_path, unsupported
        ),
    )
    oracle = _open(settings, index_dir, as_json)
    stream = None
    if settings.answer.generator == "llm" and not as_json and not no_stream:
        click.echo("draft (verifying when complete):", err=True)

        def stream(piece: str) -> None:
            click.echo(piece, nl=False, err=True)

    answer = oracle.ask(question, _filters(year_min, year_max, pub_types, sources), on_token=stream)
    if stream is not None:
        click.echo("\n", err=True)
    if as_json:
        click.echo(answer.model_dump_json(indent=2))
    else:
        click.echo(render_markdown(answer))


# --- evaluation ----------------------------------------------------------------------------


@main.group("eval")
def eval_group() -> None:
    """Batch evaluation: import data sets, run, compare runs, write reports."""


@eval_group.command("import")
@click.option("--format", "fmt", type=click.Choice(["pubmedqa", "bioasq", "beir"]), required=True)
@click.option("--split", default="test", help="BEIR qrels split (qrels/<split>.tsv).")
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False),
    help="Folder for questions.jsonl and corpus.jsonl.",
)
@click.argument("source", type=click.Path())
def eval_import(fmt, split, out_dir, source):
    """Convert PubMedQA (ori_pqal.json), BioASQ (JSON) or BEIR (folder) into the interchange format."""
    from rag_oracle.evaluation.importers import import_dataset

    counts = import_dataset(fmt, source, out_dir, split=split)
    click.echo(f"wrote {counts['questions']} questions and {counts['documents']} documents to {counts['out']}")
    click.echo(f"next: rag-oracle ingest {counts['out']}/corpus.jsonl --index indexes/<name>")


@eval_group.command("run")
@click.option("--questions", "questions_file", required=True, type=click.Path(dir_okay=False))
@click.option("--index", "index_dir", required=True, type=click.Path(file_okay=False))
@click.option(
    "--out", "out_dir", required=True, type=click.Path(file_okay=False), help="Run directory (resumed if it exists)."
)
@click.option("--limit", type=int, help="Only the first N questions.")
@click.option("--workers", type=int, default=1, show_default=True, help="Questions answered in parallel.")
@click.option("--mode", type=click.Choice(["hybrid", "dense", "bm25"]), help="Retriever (default hybrid).")
@_generator_options
@click.option("--quiet", is_flag=True)
@click.pass_context
def eval_run(
    ctx,
    questions_file,
    index_dir,
    out_dir,
    limit,
    workers,
    mode,
    generator,
    prompt_ref,
    audience,
    llm_backend,
    llm_url,
    llm_model,
    llm_model_path,
    unsupported,
    quiet,
):
    """Answer every question, score it, and write predictions.jsonl, metrics.json and manifest.json.

    A prompt change is an experiment: `--generator llm --prompt answer@2`, then `rag-oracle eval compare`.
    """
    from rag_oracle.evaluation.runner import run_evaluation

    if prompt_ref and not generator:
        generator = "llm"  # naming a prompt only makes sense for the LLM generator
    settings = _settings(
        ctx,
        retrieve={"mode": mode},
        **_generator_overrides(
            generator, prompt_ref, audience, llm_backend, llm_url, llm_model, llm_model_path, unsupported
        ),
    )
    flags = {
        "--limit": limit,
        "--mode": mode,
        "--generator": generator,
        "--prompt": prompt_ref,
        "--audience": audience,
        "--llm-backend": llm_backend,
        "--llm-url": llm_url,
        "--llm-model": llm_model,
        "--unsupported": unsupported,
    }
    command = _command_line(
        ["rag-oracle", "eval", "run", "--questions", questions_file, "--index", index_dir, "--out", out_dir], flags
    )
    result = run_evaluation(
        questions_file,
        index_dir,
        out_dir,
        settings,
        limit=limit,
        workers=workers,
        progress=TqdmProgress(not quiet),
        command=command,
    )
    if result.resumed:
        click.echo(f"resumed: {result.resumed} questions were already answered", err=True)
    click.echo(_metrics_table(result.metrics))
    click.echo(f"run written to {result.out_dir}")


def _metrics_table(metrics: dict) -> str:
    lines = []
    for group in ("retrieval", "answer", "decision", "citations"):
        for name, entry in metrics.get(group, {}).items():
            if entry.get("mean") is None:
                lines.append(f"{group:<10} {name:<20} {'n/a':>7}")
                continue
            ci = entry.get("ci95") or [entry["mean"], entry["mean"]]
            lines.append(
                f"{group:<10} {name:<20} {entry['mean']:>7.4f}  [{ci[0]:.4f}, {ci[1]:.4f}]  n={entry.get('n')}"
            )
    for stage, p in metrics.get("latency", {}).items():
        lines.append(f"{'latency':<10} {stage:<20} p50 {p['p50'] or 0:>8.1f} ms  p95 {p['p95'] or 0:>8.1f} ms")
    c = metrics.get("counts", {})
    lines.append(f"questions {c.get('questions')}, errors {c.get('errors')}, abstained {c.get('abstained')}")
    return "\n".join(lines)


@eval_group.command("compare")
@click.argument("run_a", type=click.Path(file_okay=False))
@click.argument("run_b", type=click.Path(file_okay=False))
@click.option("--top", default=10, show_default=True, help="Questions that changed most, to list.")
@click.option("--json", "as_json", is_flag=True)
def eval_compare(run_a, run_b, top, as_json):
    """Per-metric deltas (B - A) with paired bootstrap intervals, and the questions that changed most."""
    from rag_oracle.evaluation.compare import compare_runs

    result = compare_runs(run_a, run_b, top=top)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2))
        return
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    click.echo(f"A = {run_a}\nB = {run_b}\n{result.paired_questions} questions paired\n")
    click.echo(f"{'metric':<32} {'A':>7} {'B':>7} {'B-A':>8}  {'95% CI':<20} {'p':>6}")
    for d in result.deltas:
        mark = " *" if d.significant else ""
        click.echo(
            f"{d.group + ': ' + d.metric:<32} {d.a:>7.4f} {d.b:>7.4f} {d.delta:>+8.4f}  "
            f"[{d.ci95[0]:+.4f}, {d.ci95[1]:+.4f}] {d.p_value:>6.3f}{mark}"
        )
    click.echo("* significant: the 95% interval excludes 0")
    if result.changed:
        click.echo("\nquestions that changed most:")
        for c in result.changed:
            change = ", ".join(f"{k} {v:+.3f}" for k, v in c["change"].items())
            click.echo(f"  {c['id']}: {change}  {c['question'][:80]}")


@eval_group.command("report")
@click.argument("runs", nargs=-1, required=True, type=click.Path(file_okay=False))
@click.option(
    "--out", "out_file", type=click.Path(dir_okay=False), help="HTML file (default: <first run>/report.html)."
)
def eval_report(runs, out_file):
    """One self-contained HTML report: metric plots with intervals, latency, and every question."""
    from rag_oracle.evaluation.report import write_report

    path = write_report(list(runs), out_file or str(Path(runs[0]) / "report.html"))
    click.echo(f"report written to {path}")


# --- prompts -------------------------------------------------------------------------------


@main.group()
def prompts() -> None:
    """List, show and compare the versioned prompt templates in prompts/."""


@prompts.command("list")
def prompts_list():
    """Every prompt version, with its hash and whether it is released (locked)."""
    from rag_oracle.generate.prompts import list_prompts, read_lock

    lock = read_lock()
    for p in list_prompts():
        state = "released" if lock.get(p.ref) == p.sha256 else ("CHANGED" if p.ref in lock else "draft")
        click.echo(f"{p.ref:<16} {state:<9} {p.sha256[:12]}  {p.description[:80]}")


@prompts.command("show")
@click.argument("ref")
def prompts_show(ref):
    """The templates, variables, parameters and audiences of REF (id@version, or id for the latest)."""
    from rag_oracle.generate.prompts import load_prompt

    p = load_prompt(ref)
    click.echo(f"# {p.ref}  ({p.path}, sha256 {p.sha256[:12]})\n{p.description}\n")
    click.echo(
        f"variables: {', '.join(p.variables)}\nparameters: {p.parameters}\naudiences: {', '.join(p.audiences)}\n"
    )
    click.echo(f"--- system ---\n{p.system}\n--- user ---\n{p.user}")


@prompts.command("diff")
@click.argument("ref_a")
@click.argument("ref_b")
def prompts_diff(ref_a, ref_b):
    """Unified diff between two prompt versions."""
    import difflib

    from rag_oracle.generate.prompts import load_prompt

    a, b = load_prompt(ref_a), load_prompt(ref_b)
    text_a = Path(a.path).read_text(encoding="utf-8").splitlines(keepends=True)
    text_b = Path(b.path).read_text(encoding="utf-8").splitlines(keepends=True)
    click.echo("".join(difflib.unified_diff(text_a, text_b, fromfile=a.ref, tofile=b.ref)) or "identical")


@prompts.command("lock")
def prompts_lock():
    """Record new prompt versions as released in prompts/lock.json (released ones never change)."""
    from rag_oracle.generate.prompts import write_lock

    added = write_lock()
    click.echo(f"released: {', '.join(added)}" if added else "nothing new to release")


from rag_oracle.cli_serve import chat, serve  # noqa: E402  (imports cli lazily inside; no cycle)

main.add_command(serve)
main.add_command(chat)


if __name__ == "__main__":  # pragma: no cover
    main()
