"""Batch evaluation: run the whole pipeline on every question, write predictions, metrics and a manifest.

Each answer comes from `RagOracle.run`, the call `rag-oracle ask`, chat and the server make, so
the evaluation measures the program users run (tests/evaluation/test_path.py checks that the
answers are identical). Retrieval metrics need a deeper ranking than an answer reads (100
documents for recall@100), so the retriever is asked once more for that ranking; it does not
touch the answer.

A run directory holds::

    manifest.json       every setting, generator/prompt identity, index fingerprint, package
                        versions, git commit, dataset hash, timestamps, status
    predictions.jsonl   one line per question, appended as it finishes (so a killed run resumes)
    metrics.json        aggregate metrics with bootstrap 95% intervals (see metrics.py)

Example::

    result = run_evaluation("evals/sample/questions.jsonl", "indexes/sample", "runs/demo", load_settings())
    result.metrics["retrieval"]["ndcg@10"]["mean"]
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from time import perf_counter

from rag_oracle.api import RagOracle, document_ranking
from rag_oracle.errors import RagOracleError, RunConfigMismatchError
from rag_oracle.evaluation.answer_metrics import cosine, rouge, token_f1
from rag_oracle.evaluation.attribution import attribution_scores
from rag_oracle.evaluation.citation_metrics import citation_metrics, draft_citation_metrics
from rag_oracle.evaluation.metrics import aggregate
from rag_oracle.evaluation.nuggets import nugget_scores
from rag_oracle.evaluation.questions import EvalQuestion, file_sha256, load_questions
from rag_oracle.evaluation.retrieval_metrics import mrr_at_k, ndcg_at_k, recall_at_k
from rag_oracle.ingest.pipeline import NullProgress, Progress
from rag_oracle.settings import Settings
from rag_oracle.text.sentences import sentence_spans
from rag_oracle.version import __version__

PREDICTIONS = "predictions.jsonl"
METRICS = "metrics.json"
MANIFEST = "manifest.json"
RETRIEVAL_DEPTH = 100  # documents ranked per question, for recall@100


@dataclass
class RunResult:
    out_dir: Path
    metrics: dict
    predictions: list[dict]
    resumed: int  # questions taken from an earlier, interrupted run


def _git_commit() -> dict[str, object]:
    root = Path(__file__).resolve().parents[3]
    try:
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, check=True
        ).stdout.strip()
        dirty = bool(
            subprocess.run(
                ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                capture_output=True,
                text=True,
                timeout=5,
                check=True,
            ).stdout.strip()
        )
        return {"commit": commit, "dirty": dirty}
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version(), "rag-oracle": __version__}
    for name in ("numpy", "faiss-cpu", "bm25s", "sentence-transformers", "torch", "rouge-score", "pydantic"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            pass
    return out


def _identity(questions_path: Path, oracle: RagOracle, limit: int | None) -> dict[str, object]:
    """What must match for a run directory to be resumed."""
    # The [server] and [chat] sections are how the program is served, not what it answers.
    return {
        "settings": oracle.settings.model_dump(mode="json", exclude={"server", "chat"}),
        "generator": dict(oracle.generator.identity),
        "index": {
            "path": str(oracle.index.path),
            "fingerprint": oracle.index.manifest.fingerprint,
            "chunks_sha256": oracle.index.manifest.chunks_checksum,
            "documents": oracle.index.manifest.counts.get("documents"),
            "chunks": oracle.index.manifest.counts.get("chunks"),
        },
        "dataset": {"path": str(questions_path), "sha256": file_sha256(questions_path), "limit": limit},
    }


def _read_predictions(path: Path) -> list[dict]:
    """Predictions already written; a torn last line (the process died mid-write) is dropped."""
    if not path.is_file():
        return []
    good: list[dict] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    for line in lines:
        try:
            good.append(json.loads(line))
        except json.JSONDecodeError:
            break
    if len(good) != len([line for line in lines if line.strip()]):
        with open(path, "w", encoding="utf-8") as fh:
            fh.writelines(json.dumps(p) + "\n" for p in good)
    return good


def _predict(oracle: RagOracle, q: EvalQuestion) -> dict:
    record: dict = {
        "id": q.id,
        "question": q.question,
        "reference_answer": q.reference_answer,
        "relevant_ids": q.relevant_ids,
        "gold_decision": q.decision,
        "type": q.type,
        "answerable": q.answerable,
        "must_include": q.must_include,
        "must_not_include": q.must_not_include,
    }
    try:
        answer = oracle.run(q.question)
        start = perf_counter()
        hits = oracle.search(q.question, k=max(oracle.settings.retrieve.k, RETRIEVAL_DEPTH * 3))
        ranked_ms = round((perf_counter() - start) * 1000, 2)
    except RagOracleError as exc:
        record["error"] = f"{type(exc).__name__}: {exc}"
        return record
    except Exception as exc:  # one failing question is recorded; the run goes on
        record["error"] = f"unexpected {type(exc).__name__}: {exc}"
        return record
    retrieve = oracle.settings.retrieve
    ranking = document_ranking(hits, retrieve.document_score, retrieve.document_chunks)[:RETRIEVAL_DEPTH]
    doc_scores: dict[str, float] = {}
    for h in hits:
        doc_scores.setdefault(h.chunk.doc_id, round(h.score, 6))
    record.update(
        {
            "answer": answer.text,
            "direct_answer": " ".join(
                s.text for section in answer.sections if section.kind == "direct" for s in section.sentences
            ),
            "lead": lead_baseline(oracle, hits),
            "abstained": answer.abstained,
            "decision": answer.decision,
            "analysis": answer.analysis.model_dump(mode="json") if answer.analysis else None,
            "conflicts": [{"quantity": c.quantity, "values": c.values, "outlier": c.outlier} for c in answer.conflicts],
            "citations": [
                {
                    "number": r.number,
                    "chunk_id": r.chunk_id,
                    "doc_id": r.doc_id,
                    "passage": r.passage,
                    "cited_spans": [s.text for s in r.cited_spans],
                }
                for r in answer.references
            ],
            "retrieved_documents": [{"doc_id": d, "score": doc_scores[d]} for d in ranking],
            "retrieved_chunks": [{"chunk_id": h.chunk.id, "score": round(h.score, 6)} for h in hits[:20]],
            "latency_ms": {**answer.timings_ms, "ranking": ranked_ms},
            "provenance": answer.provenance.model_dump(mode="json") if answer.provenance else None,
            "citation_metrics": {**citation_metrics(answer), **draft_citation_metrics(answer)},
            "attribution": attribution_scores(q.question, answer),
        }
    )
    return record


LEAD_SENTENCES = 2


def lead_baseline(oracle: RagOracle, hits: list) -> str:
    """The trivial peer every run is compared with: the first sentences of the top retrieved document."""
    if not hits:
        return ""
    document = oracle.index.documents.get(hits[0].chunk.doc_id)
    if document is None:
        return ""
    spans = sentence_spans(document.text)[:LEAD_SENTENCES]
    return " ".join(document.text[a:b] for a, b in spans)


def _score(oracle: RagOracle, record: dict) -> dict:
    """Per-question metric values (None where undefined) stored on the prediction line."""
    if "error" in record:
        return {}
    ranked = [d["doc_id"] for d in record["retrieved_documents"]]
    rel = record["relevant_ids"]
    scores: dict[str, float | None] = {
        "ndcg@10": ndcg_at_k(ranked, rel, 10),
        "recall@10": recall_at_k(ranked, rel, 10),
        "recall@100": recall_at_k(ranked, rel, 100),
        "mrr@10": mrr_at_k(ranked, rel, 10),
    }
    answer = "" if record["abstained"] else record["answer"]
    reference = record["reference_answer"] or ""
    r = rouge(answer, reference)
    scores.update(r or {"rouge1": None, "rouge2": None, "rougeL": None})
    scores["token_f1"] = token_f1(answer, reference)
    # the direct answer alone, and the lead baseline, against the same reference
    direct = "" if record["abstained"] else record.get("direct_answer", "")
    for suffix, text in (("direct", direct), ("lead", record.get("lead", ""))):
        r = rouge(text, reference)
        scores[f"rougeL_{suffix}"] = r["rougeL"] if r else None
        scores[f"token_f1_{suffix}"] = token_f1(text, reference)
    if reference.strip():
        if answer.strip():
            vecs = oracle.embedder.embed_documents([answer, reference])
            scores["semantic_similarity"] = cosine(vecs[0], vecs[1])
        else:
            scores["semantic_similarity"] = 0.0
    else:
        scores["semantic_similarity"] = None
    answerable = record.get("answerable", True)
    scores.update(
        nugget_scores(
            record["answer"],
            record["abstained"],
            record.get("must_include", []),
            record.get("must_not_include", []),
            answerable,
        )
    )
    # abstention as a measured behaviour: declined when it should, answered when it could
    scores["declined_unanswerable"] = None if answerable else float(record["abstained"])
    scores["answered_answerable"] = float(not record["abstained"]) if answerable else None
    return scores


def run_evaluation(
    questions_path: str | Path,
    index_path: str | Path,
    out_dir: str | Path,
    settings: Settings,
    *,
    limit: int | None = None,
    workers: int = 1,
    progress: Progress | None = None,
    oracle: RagOracle | None = None,
    command: str = "",
) -> RunResult:
    """Evaluate every question (resuming an interrupted run in `out_dir`) and write the run directory."""
    progress = progress or NullProgress()
    questions_path = Path(questions_path)
    out = Path(out_dir)
    questions = load_questions(questions_path, limit)
    oracle = oracle or RagOracle(index_path, settings)
    identity = _identity(questions_path, oracle, limit)

    manifest_path = out / MANIFEST
    if manifest_path.is_file():
        previous = json.loads(manifest_path.read_text(encoding="utf-8"))
        if previous.get("identity") != identity:
            changed = [k for k in identity if previous.get("identity", {}).get(k) != identity[k]]
            raise RunConfigMismatchError(
                f"{out} holds a run with different {', '.join(changed)}; resume it with the same settings, "
                "or choose a new --out directory"
            )
        started_at = previous.get("started_at")
    else:
        if out.exists() and any(out.iterdir()):
            raise RunConfigMismatchError(f"{out} exists and is not a run directory; choose a new --out directory")
        started_at = datetime.now(UTC).isoformat(timespec="seconds")
    out.mkdir(parents=True, exist_ok=True)
    manifest = {
        "status": "running",
        "identity": identity,
        "package_versions": _versions(),
        "git": _git_commit(),
        "command": command,
        "started_at": started_at,
        "finished_at": None,
        "host": {"cpus": os.cpu_count(), "platform": platform.platform()},
    }
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")

    pred_path = out / PREDICTIONS
    done = {p["id"]: p for p in _read_predictions(pred_path)}
    wanted = {q.id for q in questions}
    done = {k: v for k, v in done.items() if k in wanted}
    todo = [q for q in questions if q.id not in done]
    resumed = len(done)

    progress.start("evaluate", len(questions), "questions")
    progress.advance(resumed)

    # The first questions a process answers pay for loading the model and warming caches: they are
    # marked, and their latency is reported apart from the percentiles (metrics.py).
    cold = {q.id for q in todo[: max(1, workers)]}

    def work(q: EvalQuestion) -> dict:
        record = _predict(oracle, q)
        record["scores"] = _score(oracle, record)
        if q.id in cold:
            record["warm_up"] = True
        return record

    with open(pred_path, "a", encoding="utf-8") as fh:
        if workers > 1:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                for record in pool.map(work, todo):
                    fh.write(json.dumps(record) + "\n")
                    fh.flush()
                    done[record["id"]] = record
                    progress.advance(1, errors=sum("error" in r for r in done.values()))
        else:
            for q in todo:
                record = work(q)
                fh.write(json.dumps(record) + "\n")
                fh.flush()
                done[record["id"]] = record
                progress.advance(1, errors=sum("error" in r for r in done.values()))
    progress.finish()

    predictions = [done[q.id] for q in questions]
    metrics = aggregate(predictions)
    (out / METRICS).write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    manifest["status"] = "complete"
    manifest["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    manifest["questions"] = len(predictions)
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return RunResult(out, metrics, predictions, resumed)


def load_run(run_dir: str | Path) -> tuple[dict, dict, list[dict]]:
    """(manifest, metrics, predictions) of a finished run."""
    run = Path(run_dir)
    if not (run / MANIFEST).is_file() or not (run / METRICS).is_file():
        raise RunConfigMismatchError(
            f"{run} is not a finished run directory (needs {MANIFEST} and {METRICS}); run 'rag-oracle eval run' first"
        )
    manifest = json.loads((run / MANIFEST).read_text(encoding="utf-8"))
    metrics = json.loads((run / METRICS).read_text(encoding="utf-8"))
    return manifest, metrics, _read_predictions(run / PREDICTIONS)


__all__ = ["RunConfigMismatchError", "RunResult", "load_run", "run_evaluation"]
