"""What kind of study a source is, and the links that open it: read from its metadata, offline.

`study_type` maps PubMed publication types (and the same words in other loaders' metadata) to one
label, the most authoritative one a source carries: a guideline before a systematic review or
meta-analysis, before a randomised trial, before a cohort or case-control study, before a case
report, before a drug label or monograph, before a narrative review. MeSH publication-type names and their common spellings are
accepted ("Practice Guideline", "Guideline", "Consensus Development Conference", "Randomized
Controlled Trial", "Systematic Review", "Meta-Analysis", "Cohort Studies", "Case Reports",
"Review"). A source with none of them has no study type (None), which the page shows as nothing
rather than as a guess.

`source_links` turns identifiers into the URLs a reader clicks: PubMed for a PMID, PubMed Central
for a PMCID, doi.org for a DOI. Only identifiers of the expected shape become links, so a
document's metadata cannot smuggle another URL into the page.

Example::

    study_type(["Journal Article", "Randomized Controlled Trial"])   # 'rct'
    source_links({"pmid": "900100001", "doi": "10.5555/x"})
    # {'pmid': 'https://pubmed.ncbi.nlm.nih.gov/900100001/', 'doi': 'https://doi.org/10.5555/x'}
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING
from urllib.parse import quote

if TYPE_CHECKING:  # types.Filters reads the grades here: no import back at run time
    from rag_oracle.types import StudyType

# Most authoritative first: the first label any publication type matches is the study type.
_RULES: list[tuple[StudyType, re.Pattern]] = [
    ("guideline", re.compile(r"\b(?:guidelines?|consensus|position statement|recommendations?)\b", re.I)),
    ("systematic_review", re.compile(r"\bsystematic(?:\s+|-)review\b", re.I)),
    ("meta_analysis", re.compile(r"\bmeta-?\s?analys[ie]s\b", re.I)),
    ("rct", re.compile(r"\brandomi[sz]ed\b|\bRCT\b", re.I)),
    ("cohort", re.compile(r"\b(?:cohort|observational|prospective|longitudinal)\b", re.I)),
    ("case_control", re.compile(r"\bcase-?\s?control\b", re.I)),
    ("case_report", re.compile(r"\bcase (?:reports?|series)\b", re.I)),
    ("drug_label", re.compile(r"\b(?:monograph|prescribing information|drug label|package insert|smpc)\b", re.I)),
    ("review", re.compile(r"\breview\b", re.I)),
]

LABELS: dict[str, str] = {
    "guideline": "Guideline",
    "systematic_review": "Systematic review",
    "meta_analysis": "Meta-analysis",
    "rct": "Randomised trial",
    "cohort": "Cohort study",
    "case_control": "Case-control study",
    "case_report": "Case report",
    "drug_label": "Drug label or monograph",
    "review": "Review",
}

# Evidence grades (issue 15): the study types grouped as a clinician ranks evidence, strongest first.
# A retrieval filter (Filters.grades, --grade) and the order "guidelines and reviews before single studies".
GRADES: dict[str, tuple[str, tuple[str, ...]]] = {
    "guideline": ("Practice guideline", ("guideline",)),
    "systematic_review": ("Systematic review or meta-analysis", ("systematic_review", "meta_analysis")),
    "rct": ("Randomised trial", ("rct",)),
    "observational": ("Cohort or case-control study", ("cohort", "case_control")),
    "case_report": ("Case report", ("case_report",)),
    "drug_label": ("Drug label or monograph", ("drug_label",)),
    "review": ("Narrative review", ("review",)),
    "other": ("Other", ()),
}
_GRADE_OF = {kind: grade for grade, (_, kinds) in GRADES.items() for kind in kinds}
_RETRACTED = re.compile(r"\bretract(?:ed publication|ion of publication|ion notice)\b", re.I)


def evidence_grade(publication_types: Iterable[str]) -> str:
    """The evidence grade (a GRADES key) of a source: 'other' when no study type is named."""
    return _GRADE_OF.get(study_type(publication_types) or "", "other")


def check_grades(grades: Iterable[str]) -> list[str]:
    """The grades, lower-cased; QueryError naming the valid ones for any other."""
    from rag_oracle.errors import QueryError

    out = [g.strip().lower() for g in grades if g.strip()]
    unknown = [g for g in out if g not in GRADES]
    if unknown:
        raise QueryError(f"unknown evidence grade {', '.join(map(repr, unknown))}; use one of: {', '.join(GRADES)}")
    return out


def is_retracted(publication_types: Iterable[str]) -> bool:
    """Whether PubMed marks the record a retracted publication or a retraction notice."""
    return any(_RETRACTED.search(t or "") for t in publication_types)


_PMID = re.compile(r"^\d{1,9}$")
_PMCID = re.compile(r"^PMC\d{1,9}$")
_DOI = re.compile(r"^10\.\d{4,9}/\S+$")


def study_type(publication_types: Iterable[str]) -> StudyType | None:
    """The most authoritative study type the publication types name, or None."""
    types = [t for t in publication_types if t]
    for label, pattern in _RULES:
        if any(pattern.search(t) for t in types):
            return label
    return None


def study_label(kind: str | None) -> str:
    """'rct' -> 'Randomised trial'; '' for None."""
    return LABELS.get(kind or "", "")


def source_links(identifiers: dict[str, str]) -> dict[str, str]:
    """pmid, pmcid and doi of the right shape -> the URL that opens the source."""
    links: dict[str, str] = {}
    pmid = identifiers.get("pmid", "").strip()
    if _PMID.match(pmid):
        links["pmid"] = f"https://pubmed.ncbi.nlm.nih.gov/{pmid}/"
    pmcid = identifiers.get("pmcid", "").strip().upper()
    if _PMCID.match(pmcid):
        links["pmcid"] = f"https://pmc.ncbi.nlm.nih.gov/articles/{pmcid}/"
    doi = identifiers.get("doi", "").strip()
    if _DOI.match(doi):
        links["doi"] = "https://doi.org/" + quote(doi, safe="/:;()._-")
    return links


__all__ = [
    "GRADES",
    "LABELS",
    "check_grades",
    "evidence_grade",
    "is_retracted",
    "source_links",
    "study_label",
    "study_type",
]
