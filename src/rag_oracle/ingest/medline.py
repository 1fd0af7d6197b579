"""`rag-oracle pubmed update FILES|DIR --index DIR`: apply MEDLINE baseline and update files in order.

NLM publishes PubMed as yearly baseline files and daily update files (``pubmed25n0001.xml.gz`` …),
each a ``<PubmedArticleSet>`` of ``<PubmedArticle>`` records and, in update files, a
``<DeleteCitation>`` listing PMIDs to withdraw. Files are applied in name order (NLM's numbering is
the order of publication). For each file:

1. its articles are ingested with ``existing = "replace"``: a new PMID is added, a revised version of
   an indexed PMID replaces the earlier text (ingest's replace, one atomic commit);
2. the ``DeleteCitation`` PMIDs, and those of records now marked retracted (which ingest excludes),
   that the index holds are removed (one atomic commit); the rest (most of them: an update file
   covers all of PubMed) are counted, not errors;
3. the file (name, sha256, counts) is recorded in the manifest's ``literature``, with the last commit.

A file already recorded (same name and sha256) is skipped, so rerunning over a folder applies only
the new files; a run killed between steps leaves the file unrecorded and the next run applies it again,
which changes nothing twice (the same text replaces itself; a removed PMID is gone).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from rag_oracle.errors import ConfigError, IndexNotFoundError
from rag_oracle.index.manifest import sha256_file
from rag_oracle.ingest.xmlsafe import parse_xml
from rag_oracle.text.publication import is_retracted

SUFFIXES = (".xml", ".xml.gz")


@dataclass
class FileResult:
    file: str
    status: str  # "applied" | "skipped" (already applied)
    added: int = 0
    replaced: int = 0
    deleted: int = 0
    deletions_not_indexed: int = 0


@dataclass
class UpdateReport:
    files: list[FileResult] = field(default_factory=list)

    def summary(self) -> str:
        applied = [f for f in self.files if f.status == "applied"]
        return (
            f"{len(applied)} MEDLINE files applied, {len(self.files) - len(applied)} already applied; "
            f"{sum(f.added for f in applied)} citations added, {sum(f.replaced for f in applied)} revised, "
            f"{sum(f.deleted for f in applied)} deleted ({sum(f.deletions_not_indexed for f in applied)} "
            "deletions named PMIDs this index does not hold)"
        )


def medline_files(paths: list[str | Path]) -> list[Path]:
    """The MEDLINE files among `paths` (files, or folders read one level deep), in name order."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found += [p for p in path.iterdir() if p.is_file() and p.name.endswith(SUFFIXES)]
        elif path.is_file():
            found.append(path)
        else:
            raise ConfigError(f"{path}: no such file or folder; give MEDLINE .xml or .xml.gz files or a folder of them")
    if not found:
        raise ConfigError(f"no .xml or .xml.gz files in {', '.join(map(str, paths))}")
    return sorted(dict.fromkeys(found), key=lambda p: p.name)


def deleted_pmids(path: Path) -> tuple[list[str], bool]:
    """(the PMIDs to withdraw: those its DeleteCitation lists and those it marks retracted, whether
    it holds any PubmedArticle). A retracted record is not ingested (ingest/pubmed.py), so an indexed
    earlier version must go."""
    root = parse_xml(path)
    if root.tag != "PubmedArticleSet":
        raise ConfigError(f"{path}: expected a MEDLINE <PubmedArticleSet>, found <{root.tag}>")
    pmids = [(p.text or "").strip() for p in root.findall("DeleteCitation/PMID") if (p.text or "").strip()]
    for article in root.findall("PubmedArticle"):
        types = [p.text or "" for p in article.findall("MedlineCitation/Article/PublicationTypeList/PublicationType")]
        if is_retracted(types):
            pmids.append((article.findtext("MedlineCitation/PMID") or "").strip())
    return list(dict.fromkeys(p for p in pmids if p)), root.find("PubmedArticle") is not None


def update(
    paths: list[str | Path], index_path: str | Path, settings, *, progress=None, command: str = "", embedder=None
):
    """Apply the MEDLINE files in `paths` to the index (module docstring); returns an UpdateReport."""
    from rag_oracle.embed import make_embedder
    from rag_oracle.ingest.pipeline import ingest, record_literature, remove

    files = medline_files(paths)
    settings = settings.with_overrides({"ingest": {"existing": "replace"}})
    embedder = embedder or make_embedder(settings.embed, settings.compute)
    report = UpdateReport()
    for path in files:
        digest = sha256_file(path)
        applied = _applied(index_path)
        if (path.name, digest) in applied:
            report.files.append(FileResult(str(path), "skipped"))
            continue
        deletions, has_articles = deleted_pmids(path)
        result = FileResult(str(path), "applied")
        record = {"kind": "medline-file", "file": path.name, "sha256": digest}
        if has_articles:
            got = ingest(
                [path],
                index_path,
                settings,
                embedder=embedder,
                progress=progress,
                command=command,
                literature=None if deletions else {**record, "deleted": 0},
            )
            if got.count("failed"):
                raise ConfigError(f"{path}: could not be read ({got.files[0].reason}); nothing of it was recorded")
            result.added, result.replaced = got.documents_added, got.documents_replaced
        held = _held(index_path, deletions)
        if held:
            literature = {**record, "deleted": len(held)}
            remove(held, index_path, settings, embedder=embedder, command=command, literature=literature)
        elif deletions or not has_articles:  # nothing of it to change: record it so it is not read again
            record_literature(index_path, settings, {**record, "deleted": 0}, embedder=embedder, command=command)
        result.deleted, result.deletions_not_indexed = len(held), len(deletions) - len(held)
        report.files.append(result)
    return report


def _applied(index_path) -> set[tuple[str, str]]:
    from rag_oracle.ingest.pipeline import recorded_literature

    return {
        (r.get("file"), r.get("sha256")) for r in recorded_literature(index_path) if r.get("kind") == "medline-file"
    }


def _held(index_path, pmids: list[str]) -> list[str]:
    from rag_oracle.index.store import Index

    if not pmids:
        return []
    try:
        index = Index.open(index_path)
    except IndexNotFoundError:
        return []
    return [f"pmid:{p}" for p in pmids if f"pmid:{p}" in index.documents]


__all__ = ["UpdateReport", "deleted_pmids", "medline_files", "update"]
