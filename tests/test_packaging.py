"""The built wheel works on its own: prompts and the test kit ship inside it; install hints name real extras.

The wheel test builds a wheel of this checkout, installs it (without dependencies) into a fresh
virtualenv outside the repository, and answers a question from there. The big dependencies are
borrowed from the development virtualenv through a .pth file instead of being reinstalled; that
virtualenv's editable install of rag-oracle is itself a .pth file, which Python does not follow
from a borrowed folder, so the wheel's copy is the one imported (and the test checks that).
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src" / "rag_oracle"


def _run(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(args, capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, f"{' '.join(map(str, args))} failed:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel built from a copy of the checkout (building in place would leave build/ in the tree).

    The copy keeps the root `prompts` symlink, so a build that chokes on it fails here.
    """
    import shutil

    root = tmp_path_factory.mktemp("wheel")
    source = root / "source"
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "build", "dist", "*.pyc")
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(REPO / name, source / name)
    shutil.copytree(REPO / "src", source / "src", ignore=ignore)
    os.symlink("src/rag_oracle/prompts", source / "prompts")
    out = root / "dist"
    _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet", "-w", str(out), "."],
        cwd=source,
    )
    [built] = out.glob("rag_oracle-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv outside the repository with only the wheel installed; returns its python."""
    venv = tmp_path_factory.mktemp("venv") / "env"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    python = venv / "bin" / "python"
    pip = [sys.executable, "-m", "pip", "--python", str(python)]
    _run([*pip, "install", "--no-deps", "--no-index", "--quiet", str(wheel)])
    site = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip())
    # numpy, faiss, langchain-core, ... come from the development virtualenv
    (site / "borrowed-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return python


def test_wheel_holds_the_prompts_and_the_test_kit(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for expected in (
        "rag_oracle/prompts/__init__.py",
        "rag_oracle/prompts/lock.json",
        "rag_oracle/prompts/answer/v1.yaml",
        "rag_oracle/prompts/answer/v2.yaml",
        "rag_oracle/prompts/rewrite/v1.yaml",
        "rag_oracle/testing/__init__.py",
        "rag_oracle/testing/chat_model.py",
        "rag_oracle/testing/contracts/generator.py",
    ):
        assert expected in names, f"{expected} is missing from {wheel.name}"
    assert any(n.startswith("rag_oracle/server/static/") for n in names)
    packaged = {n for n in names if n.startswith("rag_oracle/prompts/") and not n.endswith(".py")}
    in_checkout = {
        f"rag_oracle/prompts/{p.relative_to(SRC / 'prompts').as_posix()}"
        for p in (SRC / "prompts").rglob("*")
        if p.is_file() and p.suffix in {".yaml", ".json"}
    }
    assert packaged == in_checkout, "every prompt file of the checkout ships, and nothing else"
    assert not any(n.startswith(("prompts/", "tests/")) for n in names)


SCRIPT = r"""
import json, sys
from pathlib import Path

import rag_oracle
from rag_oracle import RagOracle, ingest
from rag_oracle.generate.llm import LlmGenerator
from rag_oracle.generate.prompts import check_lock, prompts_dir
from rag_oracle.settings import Settings
from rag_oracle.testing import ScriptedChatModel

here = Path.cwd()
(here / "corpus").mkdir()
records = [
    {"id": "guide-warfarin", "title": "Holding warfarin before surgery", "year": 2022,
     "text": "Stop warfarin 5 days before elective surgery. Check the INR on the day before surgery."},
    {"id": "amox", "title": "Amoxicillin", "year": 2019,
     "text": "Amoxicillin 500 mg three times daily for 5 to 7 days is first line for bacterial sinusitis."},
]
(here / "corpus" / "records.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
settings = Settings().with_overrides({
    "embed": {"model": "hash:dim=256", "cache_dir": "off"},
    "index": {"root": str(here / "indexes")},
    "answer": {"generator": "llm", "prompt": "answer@2", "min_passage_similarity": 0.0},
    "llm": {"model": "scripted"},
})
ingest([here / "corpus"], here / "index", settings)
model = ScriptedChatModel(["## Answer\nStop warfarin 5 days before elective surgery [1].\n"])
generator = LlmGenerator(settings.answer, settings.llm, chat_model=model)
answer = RagOracle(here / "index", settings, generator=generator).ask(
    "How many days before surgery should warfarin be stopped?"
)
print(json.dumps({
    "package": rag_oracle.__file__,
    "prefix": sys.prefix,
    "prompts_dir": str(prompts_dir()),
    "lock_problems": check_lock(),
    "prompt_path": generator.prompt.path,
    "prompt_id": answer.provenance.prompt_id,
    "prompt_version": answer.provenance.prompt_version,
    "abstained": answer.abstained,
    "references": [r.doc_id for r in answer.references],
    "text": answer.text,
    "model_calls": len(model.history),
}))
"""


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_ORACLE_") and k != "PYTHONPATH"}
    return env


@pytest.mark.slow
def test_installed_wheel_answers_with_its_packaged_prompts(installed: Path, tmp_path: Path) -> None:
    work = tmp_path / "elsewhere"
    work.mkdir()
    assert REPO not in work.parents
    result = _run([str(installed), "-c", SCRIPT], cwd=work, env=_clean_env())
    out = json.loads(result.stdout.strip().splitlines()[-1])
    venv = Path(out["prefix"])
    assert venv == installed.parent.parent
    # the wheel's copy, not the checkout's editable install
    assert Path(out["package"]).is_relative_to(venv), out["package"]
    assert Path(out["prompts_dir"]).is_relative_to(venv) and Path(out["prompt_path"]).is_relative_to(venv)
    assert out["lock_problems"] == []
    assert (out["prompt_id"], out["prompt_version"]) == ("answer", 2)
    assert out["model_calls"] == 1
    assert not out["abstained"] and out["references"] == ["guide-warfarin"]
    assert "Stop warfarin 5 days before elective surgery. [1]" in out["text"]


@pytest.mark.slow
def test_installed_command_lists_the_packaged_prompts(installed: Path, tmp_path: Path) -> None:
    result = _run([str(installed.parent / "rag-oracle"), "prompts", "list"], cwd=tmp_path, env=_clean_env())
    listed = {line.split()[0]: line.split()[1] for line in result.stdout.splitlines() if line.strip()}
    assert listed == {"answer@1": "released", "answer@2": "released", "rewrite@1": "released"}


# --- extras --------------------------------------------------------------------------------


def _pyproject_extras() -> set[str]:
    return set(tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"])


def test_extras_table_matches_pyproject() -> None:
    from rag_oracle.optional import EXTRAS

    assert set(EXTRAS) == _pyproject_extras()


def _named_extras() -> list[tuple[str, str]]:
    """(where, extra) for every extra the source names: require(..., extra="x"),
    MissingDependencyError(package, "x", ...), and "rag-oracle[x]" in any string."""
    found = []
    hint = re.compile(r"rag-oracle\[([^\]]+)\]")
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            where = f"{path.relative_to(REPO)}:{getattr(node, 'lineno', '?')}"
            if isinstance(node, ast.Call):
                callee = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                values = [kw.value for kw in node.keywords if kw.arg == "extra"]
                if callee == "MissingDependencyError" and len(node.args) >= 2:
                    values.append(node.args[1])
                if callee in {"require", "MissingDependencyError"}:
                    found += [(where, v.value) for v in values if isinstance(v, ast.Constant) and v.value]
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                for match in hint.finditer(node.value):
                    found += [(where, extra.strip()) for extra in match.group(1).split(",")]
    return found


def test_every_install_hint_names_a_real_extra() -> None:
    named = _named_extras()
    assert len({extra for _, extra in named}) >= 3, f"the scan found too few hints to mean anything: {named}"
    extras = _pyproject_extras()
    unknown = [f"{where}: {extra!r}" for where, extra in named if extra not in extras]
    assert not unknown, "install hints name extras pyproject.toml does not define:\n" + "\n".join(unknown)
