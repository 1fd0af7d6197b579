"""`rag-oracle prompts list|show|diff|lock`: the versioned prompt templates in prompts/.

Prompt files are data anyone can add a version of: what they hold is printed through `terminal_safe`.
"""

from __future__ import annotations

from pathlib import Path

import click

from rag_oracle.text.untrusted import terminal_safe


@click.group("prompts")
def prompts_group() -> None:
    """List, show and compare the versioned prompt templates in prompts/."""


@prompts_group.command("list")
def prompts_list() -> None:
    """Every prompt version, with its hash and whether it is released (locked)."""
    from rag_oracle.generate.prompts import list_prompts, read_lock

    lock = read_lock()
    for p in list_prompts():
        state = "released" if lock.get(p.ref) == p.sha256 else ("CHANGED" if p.ref in lock else "draft")
        click.echo(terminal_safe(f"{p.ref:<16} {state:<9} {p.sha256[:12]}  {p.description[:80]}"))


@prompts_group.command("show")
@click.argument("ref")
def prompts_show(ref: str) -> None:
    """The templates, variables, parameters and audiences of REF (id@version, or id for the latest)."""
    from rag_oracle.generate.prompts import load_prompt

    p = load_prompt(ref)
    click.echo(terminal_safe(f"# {p.ref}  ({p.path}, sha256 {p.sha256[:12]})\n{p.description}\n"))
    click.echo(
        terminal_safe(
            f"variables: {', '.join(p.variables)}\nparameters: {p.parameters}\naudiences: {', '.join(p.audiences)}\n"
        )
    )
    click.echo(terminal_safe(f"--- system ---\n{p.system}\n--- user ---\n{p.user}"))


@prompts_group.command("diff")
@click.argument("ref_a")
@click.argument("ref_b")
def prompts_diff(ref_a: str, ref_b: str) -> None:
    """Unified diff between two prompt versions."""
    import difflib

    from rag_oracle.generate.prompts import load_prompt

    a, b = load_prompt(ref_a), load_prompt(ref_b)
    text_a = Path(a.path).read_text(encoding="utf-8").splitlines(keepends=True)
    text_b = Path(b.path).read_text(encoding="utf-8").splitlines(keepends=True)
    click.echo(
        terminal_safe("".join(difflib.unified_diff(text_a, text_b, fromfile=a.ref, tofile=b.ref))) or "identical"
    )


@prompts_group.command("lock")
def prompts_lock() -> None:
    """Record new prompt versions as released in prompts/lock.json (released ones never change)."""
    from rag_oracle.generate.prompts import write_lock

    added = write_lock()
    click.echo(f"released: {', '.join(added)}" if added else "nothing new to release")
