"""`rag-oracle eval import|run|compare|report`: batch evaluation over question sets.

Questions, ids and warnings come from data sets and documents: printed through `terminal_safe`.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import click

from rag_oracle.cli.options import (
    AnnFlags,
    GeneratorFlags,
    ann_options,
    command_line,
    current_settings,
    generator_options,
    index_option,
    json_option,
    mode_option,
    open_oracle,
    quiet_option,
)
from rag_oracle.cli.progress import TqdmProgress
from rag_oracle.text.untrusted import terminal_safe


@click.group("eval")
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
def eval_import(fmt: str, split: str, out_dir: str, source: str) -> None:
    """Convert PubMedQA (ori_pqal.json), BioASQ (JSON) or BEIR (folder) into the interchange format."""
    from rag_oracle.evaluation.importers import import_dataset

    counts = import_dataset(fmt, source, out_dir, split=split)
    click.echo(f"wrote {counts['questions']} questions and {counts['documents']} documents to {counts['out']}")
    click.echo(f"next: rag-oracle ingest {counts['out']}/corpus.jsonl --index indexes/<name>")


@eval_group.command("run")
@click.option("--questions", "questions_file", required=True, type=click.Path(dir_okay=False))
@index_option()
@click.option(
    "--out", "out_dir", required=True, type=click.Path(file_okay=False), help="Run directory (resumed if it exists)."
)
@click.option("--limit", type=int, help="Only the first N questions.")
@click.option("--workers", type=int, default=1, show_default=True, help="Questions answered in parallel.")
@mode_option()
@ann_options
@generator_options
@quiet_option(help="No progress bar.")
@click.pass_context
def eval_run(
    ctx: click.Context,
    questions_file: str,
    index_dir: str | None,
    out_dir: str,
    limit: int | None,
    workers: int,
    mode: str | None,
    quiet: bool,
    ann: AnnFlags,
    generation: GeneratorFlags,
) -> None:
    """Answer every question, score it, and write predictions.jsonl, metrics.json and manifest.json.

    A prompt change is an experiment: `--generator llm --prompt answer@2`, then `rag-oracle eval compare`.
    """
    from rag_oracle.evaluation.questions import load_questions
    from rag_oracle.evaluation.runner import run_evaluation

    if generation.prompt_ref and not generation.generator:
        # naming a prompt only makes sense for the LLM generator
        generation = dataclasses.replace(generation, generator="llm")
    settings = current_settings(ctx, {"retrieve": {"mode": mode}}, ann.overrides(), generation.overrides())
    load_questions(questions_file, limit)  # a bad questions file fails before the index and model load
    oracle = open_oracle(settings, index_dir, quiet)  # without --index: the sample index, as for ask
    index_dir = str(oracle.index.path)
    flags = {"--limit": limit, "--mode": mode, **ann.command_flags(), **generation.command_flags()}
    command = command_line(
        ["rag-oracle", "eval", "run", "--questions", questions_file, "--index", index_dir, "--out", out_dir], flags
    )
    result = run_evaluation(
        questions_file,
        index_dir,
        out_dir,
        settings,
        oracle=oracle,
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
    for group in ("retrieval", "answer", "decision", "citations", "attribution", "nuggets", "abstention"):
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


@eval_group.command("followups")
@click.option(
    "--chains", "chains_file", required=True, type=click.Path(dir_okay=False), help="Follow-up chains (JSONL)."
)
@index_option()
@json_option(help="Every turn and the metrics as JSON.")
@click.pass_context
def eval_followups(ctx: click.Context, chains_file: str, index_dir: str | None, as_json: bool) -> None:
    """Rewrite every follow-up of CHAINS as chat would and score it against the expected standalone question.

    The rewriter is the one `rag-oracle chat` uses with these settings (rule-based for the extractive
    generator); the index supplies its term statistics.
    """
    from rag_oracle.chat.rewrite import make_rewriter
    from rag_oracle.evaluation.followups import evaluate_followups, load_chains

    chains = load_chains(chains_file)
    settings = current_settings(ctx)
    oracle = open_oracle(settings, index_dir, as_json)
    result = evaluate_followups(chains, make_rewriter(settings, oracle.index))
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    for name, entry in result["metrics"].items():
        ci = entry["ci95"] or [entry["mean"], entry["mean"]]
        click.echo(f"{name:<18} {entry['mean']:.3f}  [{ci[0]:.3f}, {ci[1]:.3f}]  n={entry['n']}")
    for turn in result["turns"]:
        if not turn["fully_right"]:
            click.echo(
                terminal_safe(f"- {turn['id']} turn {turn['turn']}: {turn['message']!r} -> {turn['produced']!r}")
            )
            click.echo(terminal_safe(f"  expected {turn['expected']!r}"))


@eval_group.command("compare")
@click.argument("run_a", type=click.Path(file_okay=False))
@click.argument("run_b", type=click.Path(file_okay=False))
@click.option("--top", default=10, show_default=True, help="Questions that changed most, to list.")
@json_option()
def eval_compare(run_a: str, run_b: str, top: int, as_json: bool) -> None:
    """Per-metric deltas (B - A) with paired bootstrap intervals, and the questions that changed most."""
    from rag_oracle.evaluation.compare import compare_runs

    result = compare_runs(run_a, run_b, top=top)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2))
        return
    for warning in result.warnings:
        click.echo(terminal_safe(f"warning: {warning}"), err=True)
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
            click.echo(terminal_safe(f"  {c['id']}: {change}  {c['question'][:80]}"))


@eval_group.command("report")
@click.argument("runs", nargs=-1, required=True, type=click.Path(file_okay=False))
@click.option(
    "--out", "out_file", type=click.Path(dir_okay=False), help="HTML file (default: <first run>/report.html)."
)
def eval_report(runs: tuple[str, ...], out_file: str | None) -> None:
    """One self-contained HTML report: metric plots with intervals, latency, and every question."""
    from rag_oracle.evaluation.report import write_report

    path = write_report(list(runs), out_file or str(Path(runs[0]) / "report.html"))
    click.echo(f"report written to {path}")
