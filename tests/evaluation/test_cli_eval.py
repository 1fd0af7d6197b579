"""The evaluation workflow from the command line: import BEIR, ingest, run, kill, resume, compare, report."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest


def rag(*args: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [sys.executable, "-m", "rag_oracle.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=_env(),
        timeout=300,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"{args} failed ({proc.returncode}): {proc.stderr}")
    return proc


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("RAG_ORACLE_")}


@pytest.fixture
def beir(tmp_path: Path) -> Path:
    """A small BEIR-format set written here: 60 documents, 120 judged queries."""
    src = tmp_path / "beir"
    (src / "qrels").mkdir(parents=True)
    drugs = ["warfarin", "apixaban", "sertraline", "clonazepam", "amoxicillin", "doxycycline"]
    topics = [
        "surgery",
        "depression",
        "sinusitis",
        "panic",
        "bleeding",
        "elderly",
        "renal",
        "pregnancy",
        "dose",
        "taper",
    ]
    with open(src / "corpus.jsonl", "w") as fh:
        for i in range(60):
            d, t = drugs[i % 6], topics[i % 10]
            fh.write(
                json.dumps(
                    {
                        "_id": f"d{i}",
                        "title": f"{d} and {t}",
                        "text": f"Notes on {d} in {t}. Item {i} says {d} use in {t} needs care.",
                    }
                )
                + "\n"
            )
    with open(src / "queries.jsonl", "w") as fh, open(src / "qrels" / "test.tsv", "w") as qr:
        qr.write("query-id\tcorpus-id\tscore\n")
        for j in range(120):
            i = j % 60
            d, t = drugs[i % 6], topics[i % 10]
            fh.write(json.dumps({"_id": f"q{j}", "text": f"What about {d} in {t}?"}) + "\n")
            qr.write(f"q{j}\td{i}\t1\n")
    return src


def test_import_run_kill_resume_compare_report(beir: Path, tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / "rag-oracle.toml").write_text(f'[embed]\nmodel = "hash:dim=256"\ncache_dir = "{tmp_path / "cache"}"\n')
    out = rag("eval", "import", "--format", "beir", str(beir), "--out", "data", cwd=work)
    assert "wrote 120 questions and 60 documents" in out.stdout
    rag("ingest", "data/corpus.jsonl", "--index", "idx", "--quiet", cwd=work)

    # Start a run and kill it hard once some questions are done.
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "rag_oracle.cli",
            "eval",
            "run",
            "--questions",
            "data/questions.jsonl",
            "--index",
            "idx",
            "--out",
            "runs/a",
            "--quiet",
        ],
        cwd=work,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    pred = work / "runs" / "a" / "predictions.jsonl"
    deadline = time.time() + 120
    while time.time() < deadline and (not pred.exists() or len(pred.read_text().splitlines()) < 5):
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done_before = len(pred.read_text().splitlines())
    assert 5 <= done_before < 120, "the run should have been killed midway"
    assert not (work / "runs" / "a" / "metrics.json").exists()

    resumed = rag(
        "eval", "run", "--questions", "data/questions.jsonl", "--index", "idx", "--out", "runs/a", "--quiet", cwd=work
    )
    assert f"resumed: {done_before - 1}" in resumed.stderr or f"resumed: {done_before}" in resumed.stderr
    assert "ndcg@10" in resumed.stdout
    assert len(pred.read_text().splitlines()) == 120
    ids = [json.loads(line)["id"] for line in pred.read_text().splitlines()]
    assert len(set(ids)) == 120

    rag(
        "eval",
        "run",
        "--questions",
        "data/questions.jsonl",
        "--index",
        "idx",
        "--out",
        "runs/b",
        "--mode",
        "bm25",
        "--quiet",
        cwd=work,
    )
    cmp = rag("eval", "compare", "runs/a", "runs/b", cwd=work)
    assert "retrieval: ndcg@10" in cmp.stdout and "95% CI" in cmp.stdout
    data = json.loads(rag("eval", "compare", "runs/a", "runs/b", "--json", cwd=work).stdout)
    assert data["paired_questions"] == 120

    rep = rag("eval", "report", "runs/a", "runs/b", "--out", "report.html", cwd=work)
    assert "report written" in rep.stdout
    html = (work / "report.html").read_text()
    assert "<svg" in html and "What about warfarin in surgery?" in html


def test_eval_bad_inputs(tmp_path: Path) -> None:
    missing = rag("eval", "run", "--questions", "nope.jsonl", "--index", "idx", "--out", "r", cwd=tmp_path, check=False)
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    bad = rag("eval", "import", "--format", "beir", str(tmp_path), "--out", "o", cwd=tmp_path, check=False)
    assert bad.returncode == 2 and "not a BEIR folder" in bad.stderr
    notrun = rag("eval", "compare", str(tmp_path), str(tmp_path), cwd=tmp_path, check=False)
    assert notrun.returncode == 2 and "not a finished run" in notrun.stderr


def test_eval_run_defaults_to_the_sample_index_like_ask(tmp_path, monkeypatch) -> None:
    from click.testing import CliRunner

    from rag_oracle.cli import main

    repo = Path(__file__).resolve().parents[2]
    for key in [k for k in os.environ if k.startswith("RAG_ORACLE_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("RAG_ORACLE_EMBED__MODEL", "hash:dim=256")
    monkeypatch.setenv("RAG_ORACLE_EMBED__CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("RAG_ORACLE_INDEX__ROOT", str(tmp_path / "indexes"))
    monkeypatch.chdir(repo)  # the sample corpus is ./corpus, as for `rag-oracle ask`
    questions = tmp_path / "q.jsonl"
    questions.write_text(json.dumps({"id": "a", "question": "How should clonazepam be tapered?"}) + "\n")
    result = CliRunner().invoke(main, ["eval", "run", "--questions", str(questions), "--out", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert Path(manifest["identity"]["index"]["path"]).parent == tmp_path / "indexes"
    assert "--index" in manifest["command"]
    help_text = CliRunner().invoke(main, ["eval", "run", "--help"]).output
    assert "No progress bar." in help_text and "sample index" in help_text
