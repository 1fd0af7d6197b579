"""Convert public benchmark formats into the interchange format (questions.jsonl + corpus.jsonl).

- PubMedQA `ori_pqal.json`: {pmid: {QUESTION, CONTEXTS, LABELS, MESHES, YEAR, final_decision,
  LONG_ANSWER}}. Each abstract (without its conclusion) becomes a corpus document with id = PMID;
  the question's reference answer is LONG_ANSWER and its decision final_decision.
- BioASQ training or golden JSON: {"questions": [{id, body, type, ideal_answer, exact_answer,
  documents: [".../pubmed/<pmid>"], snippets: [{document, text}]}]}. The corpus is rebuilt from
  the snippets (merged per document), as BioASQ distributes no abstracts; yes/no questions get a
  decision from exact_answer.
- BEIR: a folder with corpus.jsonl ({_id, title, text}), queries.jsonl ({_id, text}) and
  qrels/<split>.tsv (query-id, corpus-id, score); documents with score > 0 are relevant.

Every importer returns counts and never overwrites an existing output file.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable
from pathlib import Path

from rag_oracle.errors import ImportFormatError

FORMATS = ("pubmedqa", "bioasq", "beir")


def _write_jsonl(path: Path, records: Iterable[dict]) -> int:
    n = 0
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        for record in records:
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
            n += 1
    tmp.replace(path)
    return n


def _load_json(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ImportFormatError(f"{path}: not readable JSON ({exc})") from None


def import_pubmedqa(src: Path) -> tuple[list[dict], list[dict]]:
    data = _load_json(src)
    if (
        not isinstance(data, dict)
        or not data
        or not all(isinstance(v, dict) and "QUESTION" in v for v in data.values())
    ):
        raise ImportFormatError(f"{src}: expected PubMedQA's ori_pqal.json ({{pmid: {{QUESTION, CONTEXTS, ...}}}})")
    questions, corpus = [], []
    for pmid, item in data.items():
        year = item.get("YEAR")
        corpus.append(
            {
                "id": str(pmid),
                "title": "",
                "text": "\n\n".join(item.get("CONTEXTS", [])),
                "year": int(year) if str(year or "").isdigit() else None,
                "mesh": item.get("MESHES", []),
                "section_labels": item.get("LABELS", []),
                "source": "PubMedQA",
            }
        )
        questions.append(
            {
                "id": str(pmid),
                "question": item["QUESTION"],
                "reference_answer": item.get("LONG_ANSWER", ""),
                "relevant_ids": [str(pmid)],
                "decision": item.get("final_decision"),
                "type": "yesno",
            }
        )
    return questions, corpus


_PMID = re.compile(r"(\d+)\s*$")


def import_bioasq(src: Path) -> tuple[list[dict], list[dict]]:
    data = _load_json(src)
    if not isinstance(data, dict) or not isinstance(data.get("questions"), list):
        raise ImportFormatError(f"{src}: expected BioASQ JSON with a top-level 'questions' list")
    questions, snippets_by_doc = [], {}
    for q in data["questions"]:
        if "body" not in q or "id" not in q:
            raise ImportFormatError(f"{src}: a question lacks 'id' or 'body'")
        docs = [m.group(1) for url in q.get("documents", []) if (m := _PMID.search(url))]
        ideal = q.get("ideal_answer", "")
        ideal_list = ideal if isinstance(ideal, list) else [ideal]
        record = {
            "id": q["id"],
            "question": q["body"],
            "reference_answer": ideal_list[0] if ideal_list else "",
            "ideal_answers": ideal_list,
            "relevant_ids": docs,
            "type": q.get("type"),
            "exact_answer": q.get("exact_answer"),
        }
        if q.get("type") == "yesno" and isinstance(q.get("exact_answer"), str):
            record["decision"] = q["exact_answer"].strip().lower()
        questions.append(record)
        for snip in q.get("snippets", []):
            m = _PMID.search(snip.get("document", ""))
            if m and snip.get("text"):
                texts = snippets_by_doc.setdefault(m.group(1), [])
                if snip["text"] not in texts:
                    texts.append(snip["text"])
    corpus = [
        {"id": pmid, "title": "", "text": "\n\n".join(texts), "source": "BioASQ snippets"}
        for pmid, texts in sorted(snippets_by_doc.items())
    ]
    return questions, corpus


def import_beir(src: Path, split: str = "test") -> tuple[list[dict], list[dict]]:
    corpus_file, queries_file, qrels_file = src / "corpus.jsonl", src / "queries.jsonl", src / "qrels" / f"{split}.tsv"
    for f in (corpus_file, queries_file, qrels_file):
        if not f.is_file():
            raise ImportFormatError(f"{src} is not a BEIR folder: {f.relative_to(src)} is missing (split '{split}')")
    relevant: dict[str, list[str]] = {}
    with open(qrels_file, encoding="utf-8") as fh:
        reader = csv.reader(fh, delimiter="\t")
        for row in reader:
            if len(row) < 3 or row[0] == "query-id":
                continue
            if float(row[2]) > 0:
                relevant.setdefault(row[0], []).append(row[1])
    corpus = []
    with open(corpus_file, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                d = json.loads(line)
                corpus.append(
                    {
                        "id": str(d["_id"]),
                        "title": d.get("title", ""),
                        "text": d.get("text", ""),
                        **(d.get("metadata") or {}),
                    }
                )
    questions = []
    with open(queries_file, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                d = json.loads(line)
                qid = str(d["_id"])
                if qid in relevant:
                    questions.append(
                        {"id": qid, "question": d["text"], "reference_answer": "", "relevant_ids": relevant[qid]}
                    )
    return questions, corpus


def import_dataset(fmt: str, src: str | Path, out_dir: str | Path, *, split: str = "test") -> dict[str, object]:
    """Convert `src` in format `fmt` to `out_dir`/questions.jsonl and corpus.jsonl; returns counts."""
    src, out = Path(src), Path(out_dir)
    if not src.exists():
        raise ImportFormatError(f"{src} does not exist")
    if fmt == "pubmedqa":
        questions, corpus = import_pubmedqa(src)
    elif fmt == "bioasq":
        questions, corpus = import_bioasq(src)
    elif fmt == "beir":
        questions, corpus = import_beir(src, split)
    else:
        raise ImportFormatError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if not questions:
        raise ImportFormatError(f"{src}: no questions found")
    out.mkdir(parents=True, exist_ok=True)
    for name in ("questions.jsonl", "corpus.jsonl"):
        if (out / name).exists():
            raise ImportFormatError(f"{out / name} already exists; choose an empty --out directory")
    nq = _write_jsonl(out / "questions.jsonl", questions)
    nc = _write_jsonl(out / "corpus.jsonl", corpus)
    return {"questions": nq, "documents": nc, "out": str(out)}
