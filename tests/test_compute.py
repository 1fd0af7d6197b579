"""Threads and the OpenMP wait policy are set by the project, and a user's own variables win."""

from __future__ import annotations

import subprocess
import sys

import pytest

from rag_oracle import compute
from rag_oracle.settings import ComputeSettings


def test_preset_environment_defaults_to_passive_and_keeps_what_the_user_set() -> None:
    env: dict[str, str] = {}
    compute.preset_environment(env)
    assert env == {"OMP_WAIT_POLICY": "PASSIVE"}
    env = {"OMP_WAIT_POLICY": "ACTIVE", "RAG_ORACLE_COMPUTE__THREADS": "1"}
    compute.preset_environment(env)
    assert env["OMP_WAIT_POLICY"] == "ACTIVE" and env["OMP_NUM_THREADS"] == "1" == env["OPENBLAS_NUM_THREADS"]
    env = {"RAG_ORACLE_COMPUTE__WAIT_POLICY": "active"}
    compute.preset_environment(env)
    assert env["OMP_WAIT_POLICY"] == "ACTIVE"


def test_importing_the_package_sets_the_policy_before_openmp_starts() -> None:
    code = "import os, sys; import rag_oracle; print(os.environ['OMP_WAIT_POLICY'], 'torch' in sys.modules)"
    env = {k: v for k, v in __import__("os").environ.items() if k != "OMP_WAIT_POLICY"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.split() == ["PASSIVE", "False"]


def test_threads_resolve_and_reach_faiss(monkeypatch: pytest.MonkeyPatch) -> None:
    import faiss

    assert ComputeSettings(threads=3).resolved_threads() == 3
    assert ComputeSettings().resolved_threads() >= 1
    monkeypatch.setattr(compute, "_applied", None)
    assert compute.configure(ComputeSettings(threads=1)) == 1
    assert faiss.omp_get_max_threads() == 1
    described = compute.describe(ComputeSettings(threads=1))
    assert described["threads"] == 1 and described["wait_policy"] == "passive"


def test_settings_reject_bad_values() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        ComputeSettings(threads=-1)
    with pytest.raises(ValidationError):
        ComputeSettings(wait_policy="spin")
