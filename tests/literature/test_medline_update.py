"""`pubmed update`: MEDLINE baseline and update files applied in order (ingest/medline.py)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from rag_oracle import RagOracle
from rag_oracle.errors import ConfigError
from rag_oracle.index.store import Index
from rag_oracle.ingest.medline import update
from rag_oracle.testing.eutils_server import article_set_xml, fixture_records

RECORDS = fixture_records(12)


def _medline(path: Path, records, deleted: list[str] = ()) -> Path:
    xml = article_set_xml(records)
    if deleted:
        block = "<DeleteCitation>" + "".join(f'<PMID Version="1">{p}</PMID>' for p in deleted) + "</DeleteCitation>"
        xml = xml.replace("</PubmedArticleSet>", block + "</PubmedArticleSet>")
    path.write_text(xml, encoding="utf-8")
    return path


def test_a_baseline_then_an_update_revises_deletes_and_is_applied_once(settings, tmp_path: Path) -> None:
    files = tmp_path / "medline"
    files.mkdir()
    _medline(files / "pubmed25n0001.xml", RECORDS[:10])
    revised = dataclasses.replace(
        RECORDS[0],
        version=2,
        abstract=[("RESULTS", "Erratum applied: the corrected fixture dose of apixaban was 2.5 mg twice daily.")],
    )
    gone, never_indexed = RECORDS[1].pmid, "990999999"
    _medline(files / "pubmed25n0002.xml", [revised, RECORDS[10]], deleted=[gone, never_indexed])
    _medline(files / "pubmed25n0003.xml", [], deleted=[never_indexed])  # only a deletion it does not hold
    index = tmp_path / "indexes" / "medline"

    report = update([files], index, settings)
    assert [(Path(f.file).name, f.status) for f in report.files] == [
        ("pubmed25n0001.xml", "applied"),
        ("pubmed25n0002.xml", "applied"),
        ("pubmed25n0003.xml", "applied"),
    ]
    second = report.files[1]
    assert (second.added, second.replaced, second.deleted, second.deletions_not_indexed) == (1, 1, 1, 1)
    opened = Index.open(index)
    assert f"pmid:{gone}" not in opened.documents and len(opened.documents) == 10  # 10 + 1 new - 1 deleted
    assert "corrected fixture dose" in opened.documents[f"pmid:{RECORDS[0].pmid}"].text
    recorded = [r["file"] for r in opened.manifest.literature if r["kind"] == "medline-file"]
    assert recorded == ["pubmed25n0001.xml", "pubmed25n0002.xml", "pubmed25n0003.xml"]

    oracle = RagOracle(index, settings)
    hits = oracle.search("corrected fixture dose of apixaban", k=3)
    assert hits[0].chunk.doc_id == f"pmid:{RECORDS[0].pmid}" and "2.5 mg twice daily" in hits[0].chunk.text
    assert all(h.chunk.doc_id != f"pmid:{gone}" for h in oracle.search(RECORDS[1].title, k=20))
    answer = oracle.ask("What was the corrected fixture dose of apixaban?")
    assert "2.5 mg twice daily" in answer.text  # ask quotes the revised version
    assert "fixture study 0," not in answer.text  # and not the text it replaced

    again = update([files], index, settings)
    assert [f.status for f in again.files] == ["skipped"] * 3
    assert Index.open(index).manifest.updated_at == opened.manifest.updated_at  # nothing written


def test_update_names_the_problem_with_bad_input(settings, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file or folder"):
        update([tmp_path / "missing"], tmp_path / "idx", settings)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match=r"no \.xml or \.xml\.gz files"):
        update([tmp_path / "empty"], tmp_path / "idx", settings)
    other = tmp_path / "other.xml"
    other.write_text("<article><front/></article>", encoding="utf-8")
    with pytest.raises(ConfigError, match="expected a MEDLINE <PubmedArticleSet>"):
        update([other], tmp_path / "idx", settings)


def test_a_retraction_removes_the_indexed_version_and_new_retractions_are_not_ingested(
    settings, tmp_path: Path
) -> None:
    index = tmp_path / "indexes" / "r"
    update([_medline(tmp_path / "pubmed25n0001.xml", RECORDS[:4])], index, settings)
    retracted = dataclasses.replace(RECORDS[2], publication_types=("Journal Article", "Retracted Publication"))
    notice = dataclasses.replace(RECORDS[5], publication_types=("Retraction of Publication",))
    report = update([_medline(tmp_path / "pubmed25n0002.xml", [retracted, notice, RECORDS[4]])], index, settings)
    held = set(Index.open(index).documents)
    assert f"pmid:{RECORDS[2].pmid}" not in held and f"pmid:{RECORDS[5].pmid}" not in held
    assert f"pmid:{RECORDS[4].pmid}" in held and len(held) == 4
    assert report.files[0].deleted == 1 and report.files[0].added == 1


def test_the_grade_filter_keeps_only_the_grades_asked(settings, tmp_path: Path) -> None:
    from rag_oracle.text.publication import evidence_grade
    from rag_oracle.types import Filters

    index = tmp_path / "indexes" / "g"
    update([_medline(tmp_path / "pubmed25n0001.xml", RECORDS[:10])], index, settings)
    oracle = RagOracle(index, settings)
    grades = {r.pmid: evidence_grade(r.publication_types) for r in RECORDS[:10]}
    assert set(grades.values()) == {"rct", "systematic_review", "guideline", "observational", "case_report"}
    for wanted in (["guideline"], ["rct", "systematic_review"]):
        hits = oracle.search("fixture study", k=10, filters=Filters(grades=wanted))
        assert hits and all(grades[h.chunk.doc_id.removeprefix("pmid:")] in wanted for h in hits)
    assert oracle.search("fixture study", k=10, filters=Filters(grades=["drug_label"])) == []
