"""Corrections: a document re-ingested with new text replaces the stored one (or, with
--keep-existing, does not), and `index remove` takes documents out of the dense index, the BM25
index and the manifest at once, from the CLI and the Python API (issue 11).

Before: there was no way to remove a document, and no policy for a corrected one.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from rag_oracle import RagOracle, ingest
from rag_oracle.cli import main
from rag_oracle.errors import DocumentNotFoundError
from rag_oracle.index.lock import writer_lock
from rag_oracle.index.store import Index
from rag_oracle.ingest.pipeline import remove

WRONG = "Dabigatran: hold 10 days before surgery when CrCl is 50 mL/min or more."
RIGHT = "Dabigatran: hold 1 to 2 days before surgery when CrCl is 50 mL/min or more."


def _records(path: Path, *records: dict) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


@pytest.fixture
def run_cli(settings, tmp_path: Path):
    (tmp_path / "rag-oracle.toml").write_text(
        f'[embed]\nmodel = "hash:dim=512"\ncache_dir = "{tmp_path / "cache"}"\n'
        "[chunk]\nmax_tokens = 40\noverlap_tokens = 10\n"
    )
    return lambda *args: CliRunner().invoke(main, list(args), catch_exceptions=False)


def _bm25_finds(index_path: Path, settings, query: str) -> set[str]:
    oracle = RagOracle(index_path, settings.with_overrides({"retrieve": {"mode": "bm25"}}))
    return {h.chunk.doc_id for h in oracle.search(query, k=20)}


def _dense_finds(index_path: Path, settings, query: str) -> set[str]:
    oracle = RagOracle(index_path, settings.with_overrides({"retrieve": {"mode": "dense"}}))
    return {h.chunk.doc_id for h in oracle.search(query, k=20)}


def test_a_corrected_dose_replaces_the_wrong_one(tmp_path: Path, settings) -> None:
    index = tmp_path / "idx"
    ingest([_records(tmp_path / "v1.jsonl", {"id": "doac", "text": WRONG})], index, settings)
    report = ingest([_records(tmp_path / "v2.jsonl", {"id": "doac", "text": RIGHT})], index, settings)
    assert report.documents_replaced == 1 and "replaced" in report.files[0].warnings[0]
    opened = Index.open(index)
    assert opened.documents["doac"].text == RIGHT and all("10 days" not in c.text for c in opened.chunks)


def test_keep_existing_keeps_the_stored_version(tmp_path: Path, settings, run_cli) -> None:
    index = tmp_path / "idx"
    ingest([_records(tmp_path / "v1.jsonl", {"id": "doac", "text": RIGHT})], index, settings)
    newer = _records(tmp_path / "v2.jsonl", {"id": "doac", "text": WRONG})
    result = run_cli("ingest", str(newer), "--index", str(index), "--keep-existing", "--quiet")
    assert result.exit_code == 0, result.stderr
    assert "kept the stored version" in result.stderr and "--replace" in result.stderr
    assert Index.open(index).documents["doac"].text == RIGHT
    again = run_cli("ingest", str(newer), "--index", str(index), "--replace", "--quiet")
    assert again.exit_code == 0 and Index.open(index).documents["doac"].text == WRONG


def test_remove_takes_a_document_out_of_every_part_of_the_index(tmp_path: Path, settings) -> None:
    index = tmp_path / "idx"
    batch = _records(
        tmp_path / "batch.jsonl",
        {"id": "doac", "text": WRONG},
        {"id": "warf", "text": "Warfarin: stop 5 days before surgery and check the INR the day before."},
        {"id": "copy", "text": WRONG},  # same text as doac: stored once, as an alias
    )
    ingest([batch], index, settings)
    assert Index.open(index).aliases == {"copy": "doac"}
    assert "doac" in _bm25_finds(index, settings, "dabigatran hold") and "doac" in _dense_finds(index, settings, WRONG)

    report = remove(["doac"], index, settings)
    assert report.documents_removed == ["doac"] and report.aliases_removed == ["copy"]
    assert report.total_documents == 1 and report.sources_forgotten == [str(batch)]
    opened = Index.open(index)
    assert set(opened.documents) == {"warf"} and opened.aliases == {}
    assert opened.manifest.counts["documents"] == 1 and opened.manifest.counts["chunks"] == len(opened.chunks)
    assert opened.faiss_index.ntotal == len(opened.chunks) and opened.verify() == []
    assert "doac" not in _bm25_finds(index, settings, "dabigatran hold")
    assert "doac" not in _dense_finds(index, settings, WRONG)

    # Its file is no longer recorded as ingested: ingesting it again brings the document back.
    again = ingest([batch], index, settings)
    assert again.documents_added == 1 and "doac" in Index.open(index).documents


def test_remove_from_the_cli_and_its_errors(tmp_path: Path, settings, run_cli) -> None:
    index = tmp_path / "idx"
    batch = _records(
        tmp_path / "b.jsonl", {"id": "doac", "text": WRONG}, {"id": "warf", "text": "Warfarin: stop 5 days."}
    )
    ingest([batch], index, settings)
    before = (index / "CURRENT").read_text()

    unknown = run_cli("index", "remove", "nope", "doac", "--index", str(index))
    assert unknown.exit_code != 0 and "nope" in unknown.stderr and "nothing was removed" in unknown.stderr
    assert (index / "CURRENT").read_text() == before, "an unknown id writes nothing"

    everything = run_cli("index", "remove", "doac", "warf", "--index", str(index))
    assert everything.exit_code != 0 and "delete its directory" in everything.stderr

    with writer_lock(index):
        locked = run_cli("index", "remove", "doac", "--index", str(index))
    assert locked.exit_code != 0 and "another ingest is writing" in locked.stderr

    done = run_cli("index", "remove", "doac", "--index", str(index), "--json")
    assert done.exit_code == 0, done.stderr
    assert json.loads(done.stdout)["documents_removed"] == ["doac"]
    assert set(Index.open(index).documents) == {"warf"}


def test_remove_names_the_missing_ids(tmp_path: Path, settings) -> None:
    index = tmp_path / "idx"
    ingest([_records(tmp_path / "b.jsonl", {"id": "warf", "text": "Warfarin: stop 5 days."})], index, settings)
    with pytest.raises(DocumentNotFoundError, match="pmid:1"):
        remove(["pmid:1"], index, settings)
