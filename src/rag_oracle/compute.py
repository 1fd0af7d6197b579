"""Threads for the project's own compute, set deliberately because the machines are shared.

Two things make torch, FAISS and llama.cpp slow on a shared two-core machine: more compute threads
than free cores, and idle threads that spin (busy-wait) instead of sleeping. Under a competing
CPU-bound process, MiniLM encoded 200 passages in 39 s with OpenMP's default policy and in 6.3 s with
`OMP_WAIT_POLICY=PASSIVE` (benchmarks/README.md, `threads_under_load.py`).

- `preset_environment()` runs when `rag_oracle` is imported: it sets `OMP_WAIT_POLICY=PASSIVE` (and
  the thread counts when `RAG_ORACLE_COMPUTE__THREADS` is given) *before* any OpenMP runtime loads,
  because OpenMP reads them once, when it starts. A variable the user set is never overwritten.
- `configure(compute)` applies `[compute] threads` to the libraries already loaded (torch, FAISS)
  and is what the embedders and retrievers call; ONNX Runtime gets the thread count and the spinning
  policy per session (embed/onnx.py), llama.cpp gets `[llm] threads`.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # settings are imported lazily: this module runs at package import
    from rag_oracle.settings import ComputeSettings

_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
_applied: tuple[int, str] | None = None


def preset_environment(environ: dict[str, str] | None = None) -> None:
    """Set the OpenMP variables from `RAG_ORACLE_COMPUTE__*` or the defaults, unless already set."""
    env = os.environ if environ is None else environ
    policy = env.get("RAG_ORACLE_COMPUTE__WAIT_POLICY", "passive").strip().lower()
    env.setdefault("OMP_WAIT_POLICY", "ACTIVE" if policy == "active" else "PASSIVE")
    threads = env.get("RAG_ORACLE_COMPUTE__THREADS", "").strip()
    if threads.isdigit() and int(threads) > 0:
        for name in _THREAD_VARIABLES:
            env.setdefault(name, threads)


def configure(compute: ComputeSettings) -> int:
    """Apply `compute` to torch and FAISS if they are loaded (and to OpenMP if it is not yet);
    returns the thread count. Cheap to call again: it does the work only when the values change."""
    global _applied
    threads = compute.resolved_threads()
    if _applied == (threads, compute.wait_policy):
        return threads
    if "torch" not in sys.modules and "faiss" not in sys.modules:
        # OpenMP has not started yet: the policy and count still take effect (a user's variable wins).
        os.environ.setdefault("OMP_WAIT_POLICY", compute.wait_policy.upper())
        os.environ.setdefault("OMP_NUM_THREADS", str(threads))
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(threads)
    faiss = sys.modules.get("faiss")
    if faiss is not None:
        faiss.omp_set_num_threads(threads)
    _applied = (threads, compute.wait_policy)
    return threads


def describe(compute: ComputeSettings) -> dict[str, object]:
    """What is in effect, for `index info`-style reports and benchmarks."""
    return {
        "threads": compute.resolved_threads(),
        "wait_policy": compute.wait_policy,
        "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", ""),
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", ""),
    }
