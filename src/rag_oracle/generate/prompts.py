"""Versioned prompt templates: `prompts/<id>/v<N>.yaml`, validated on load, frozen once released.

The prompts ship inside the package (`rag_oracle/prompts/`, package data; see `prompts_dir`), so an
installed wheel answers with the same templates as a checkout. RAG_ORACLE_PROMPTS_DIR points
elsewhere, e.g. at a folder of prompts being tuned.

A prompt file declares `id`, `version`, `variables`, `system` and `user` templates (f-string
style, `{name}`), optional `parameters` (temperature, max_tokens) and `audiences` (instructions
per audience, filled into `{audience_instructions}`). Loading fails with a clear error when a
template uses a variable that is not declared, or declares one no template uses.

Released versions never change: `prompts/lock.json` holds the sha256 of every released file
and `check_lock` (run by the tests) fails when a file differs from its recorded hash. An edit is
a new version; `rag-oracle prompts lock` records it.

Example::

    prompt = load_prompt("answer@2")
    messages = prompt.messages(question="...", passages="[1] ...", audience="patient")
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import yaml

from rag_oracle.errors import PromptError

LOCK_FILE = "lock.json"
PROMPTS_PACKAGE = "rag_oracle.prompts"
_FILE = re.compile(r"^v(\d+)\.yaml$")


def prompts_dir() -> Path:
    """Where prompts are read from: RAG_ORACLE_PROMPTS_DIR when set, else the package's own
    `rag_oracle/prompts/` (package data, found through importlib.resources).

    In a checkout (an editable install) that is `src/rag_oracle/prompts/`, which the repository's
    `prompts/` symlink points at, so `rag-oracle prompts lock` writes the lock file there.
    """
    env = os.environ.get("RAG_ORACLE_PROMPTS_DIR")
    if env:
        return Path(env)
    root = resources.files(PROMPTS_PACKAGE)
    # An installed wheel or a checkout is a real folder; a zipped install is not supported,
    # because prompt files are read (and `prompts lock` writes) as ordinary files.
    if not isinstance(root, Path) or not root.is_dir():
        raise PromptError(
            f"the packaged prompts ({PROMPTS_PACKAGE}) are not a folder on disk ({root}); install rag-oracle "
            "unzipped, or set RAG_ORACLE_PROMPTS_DIR to a folder of prompts"
        )
    return root


@dataclass(frozen=True)
class Prompt:
    id: str
    version: int
    description: str
    system: str
    user: str
    variables: tuple[str, ...]
    parameters: dict = field(default_factory=dict)
    audiences: dict = field(default_factory=dict)
    sha256: str = ""
    path: str = ""

    @property
    def ref(self) -> str:
        return f"{self.id}@{self.version}"

    def template(self):
        from langchain_core.prompts import ChatPromptTemplate

        return ChatPromptTemplate.from_messages([("system", self.system), ("human", self.user)])

    def messages(self, *, audience: str = "clinician", **values: str):
        """LangChain chat messages with every variable filled."""
        if self.audiences and audience not in self.audiences:
            raise PromptError(f"prompt {self.ref} has no audience {audience!r}; choose one of {sorted(self.audiences)}")
        if "audience_instructions" in self.variables:
            values.setdefault("audience_instructions", self.audiences.get(audience, "").strip())
        missing = [v for v in self.variables if v not in values]
        if missing:
            raise PromptError(f"prompt {self.ref} needs values for {missing}")
        return self.template().format_messages(**{k: values[k] for k in self.variables})


def _template_variables(text: str) -> set[str]:
    from langchain_core.prompts import PromptTemplate

    return set(PromptTemplate.from_template(text).input_variables)


def parse_prompt_file(path: Path) -> Prompt:
    raw = path.read_bytes()
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise PromptError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(data, dict):
        raise PromptError(f"{path}: a prompt file must be a YAML mapping")
    for key in ("id", "version", "system", "user", "variables"):
        if key not in data:
            raise PromptError(f"{path}: missing required key '{key}'")
    match = _FILE.match(path.name)
    if match and int(match.group(1)) != data["version"]:
        raise PromptError(f"{path}: file name says version {match.group(1)} but the file says {data['version']}")
    if path.parent.name != data["id"]:
        raise PromptError(f"{path}: folder '{path.parent.name}' does not match id '{data['id']}'")
    declared = set(data["variables"])
    try:
        used = _template_variables(data["system"]) | _template_variables(data["user"])
    except (ValueError, KeyError) as exc:
        raise PromptError(f"{path}: template does not parse ({exc}); write literal braces as {{{{ }}}}") from None
    if used - declared:
        raise PromptError(
            f"{path}: templates use undeclared variable(s) {sorted(used - declared)}; add them to 'variables'"
        )
    if declared - used:
        raise PromptError(
            f"{path}: declared variable(s) {sorted(declared - used)} are used by no template; remove them"
        )
    return Prompt(
        id=data["id"],
        version=int(data["version"]),
        description=str(data.get("description", "")).strip(),
        system=data["system"],
        user=data["user"],
        variables=tuple(data["variables"]),
        parameters=dict(data.get("parameters") or {}),
        audiences=dict(data.get("audiences") or {}),
        sha256=hashlib.sha256(raw).hexdigest(),
        path=str(path),
    )


def list_prompts(root: Path | None = None) -> list[Prompt]:
    root = root or prompts_dir()
    out = []
    for path in sorted(root.glob("*/v*.yaml")):
        if _FILE.match(path.name):
            out.append(parse_prompt_file(path))
    return sorted(out, key=lambda p: (p.id, p.version))


def load_prompt(ref: str, root: Path | None = None) -> Prompt:
    """`id@N`, or `id` for its latest version."""
    root = root or prompts_dir()
    name, _, version = ref.partition("@")
    folder = root / name
    if not folder.is_dir():
        known = sorted({p.id for p in list_prompts(root)}) if root.is_dir() else []
        raise PromptError(f"no prompt '{name}' in {root}; known prompts: {known}")
    versions = sorted(int(m.group(1)) for p in folder.iterdir() if (m := _FILE.match(p.name)))
    if not versions:
        raise PromptError(f"{folder} holds no v<N>.yaml files")
    if version:
        if not version.isdigit() or int(version) not in versions:
            raise PromptError(f"prompt '{name}' has no version {version!r}; versions: {versions}")
        number = int(version)
    else:
        number = versions[-1]
    return parse_prompt_file(folder / f"v{number}.yaml")


def read_lock(root: Path | None = None) -> dict[str, str]:
    path = (root or prompts_dir()) / LOCK_FILE
    return json.loads(path.read_text()) if path.is_file() else {}


def check_lock(root: Path | None = None) -> list[str]:
    """Problems: a released prompt whose file changed, or a locked prompt that disappeared."""
    root = root or prompts_dir()
    lock = read_lock(root)
    present = {p.ref: p for p in list_prompts(root)}
    problems = []
    for ref, digest in lock.items():
        if ref not in present:
            problems.append(f"{ref} is released (in {LOCK_FILE}) but its file is gone")
        elif present[ref].sha256 != digest:
            problems.append(f"{ref} changed after release; released prompts never change: add a new version instead")
    return problems


def write_lock(root: Path | None = None) -> list[str]:
    """Record every prompt not yet in the lock file; returns the refs added. Never rewrites a locked hash."""
    root = root or prompts_dir()
    problems = check_lock(root)
    if problems:
        raise PromptError("; ".join(problems))
    lock = read_lock(root)
    added = []
    for prompt in list_prompts(root):
        if prompt.ref not in lock:
            lock[prompt.ref] = prompt.sha256
            added.append(prompt.ref)
    (root / LOCK_FILE).write_text(json.dumps(dict(sorted(lock.items())), indent=2) + "\n")
    return added
