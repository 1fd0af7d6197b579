"""PubMed/MEDLINE XML (`PubmedArticleSet`), as NCBI efetch returns it and as in the annual
baseline files (optionally gzipped). One document per `PubmedArticle`; id `pmid:<PMID>`.

The structured abstract keeps its labels as section titles, so a chunk knows it came from
RESULTS rather than BACKGROUND.
"""

from __future__ import annotations

import re
from pathlib import Path
from xml.etree.ElementTree import Element

from rag_oracle.errors import CorruptFileError
from rag_oracle.ingest.base import LoadResult, TextBuilder, clean_inline, keywords_extra, make_document
from rag_oracle.ingest.limits import Deadline, Limits, budget
from rag_oracle.ingest.xmlsafe import itertext, parse_xml
from rag_oracle.text.publication import is_retracted
from rag_oracle.types import DocumentMetadata

_YEAR = re.compile(r"(1[89]\d\d|20\d\d)")


class PubmedXmlLoader:
    name = "pubmed"
    suffixes = (".xml", ".xml.gz")

    def load(self, path: Path, *, limits: Limits | None = None, deadline: Deadline | None = None) -> LoadResult:
        limits, deadline = budget(path, limits, deadline)
        root = parse_xml(path, limits=limits)
        deadline.check()
        if root.tag != "PubmedArticleSet":
            raise CorruptFileError(path, f"expected a <PubmedArticleSet> root, found <{root.tag}>")
        result = LoadResult()
        articles = root.findall("PubmedArticle")
        for i, article in enumerate(articles, 1):
            deadline.check()
            types = [
                clean_inline(p.text or "")
                for p in article.findall("MedlineCitation/Article/PublicationTypeList/PublicationType")
            ]
            if is_retracted(types):
                pmid = (article.findtext("MedlineCitation/PMID") or "").strip()
                result.warnings.append(
                    f"{path}: PMID {pmid} is a {'retraction notice' if any('retraction of' in t.lower() for t in types) else 'retracted publication'}; excluded"
                )
                continue
            doc = self._article(article, path)
            if doc is None:
                result.warnings.append(f"{path}: article {i} has no PMID or no title/abstract; skipped")
            else:
                result.documents.append(doc)
        if not articles:
            raise CorruptFileError(path, "the PubmedArticleSet holds no PubmedArticle")
        return result

    def _article(self, article: Element, path: Path):
        cit = article.find("MedlineCitation")
        if cit is None:
            return None
        pmid = (cit.findtext("PMID") or "").strip()
        art = cit.find("Article")
        if not pmid or art is None:
            return None
        title = clean_inline(itertext(art.find("ArticleTitle")))
        builder = TextBuilder()
        for node in art.findall("Abstract/AbstractText"):
            label = node.get("Label") or ""
            builder.add_section(label.upper() if label.isupper() else label, [clean_inline(itertext(node))])
        if not builder.sections:
            if not title:
                return None
            builder.add_section("Title", [title])
        journal = art.find("Journal")
        meta = DocumentMetadata(
            format=self.name,
            source_path=str(path),
            pmid=pmid,
            year=_year(journal),
            journal=clean_inline(journal.findtext("Title") or "") if journal is not None else "",
            authors=_authors(art),
            doi=_doi(art, article),
            pmcid=_article_id(article, "pmc"),
            mesh_terms=[clean_inline(d.text or "") for d in cit.findall("MeshHeadingList/MeshHeading/DescriptorName")],
            publication_types=[clean_inline(p.text or "") for p in art.findall("PublicationTypeList/PublicationType")],
            source="PubMed",
            url=f"https://pubmed.ncbi.nlm.nih.gov/{pmid}/",
            extra=keywords_extra([clean_inline(itertext(k)) for k in cit.findall("KeywordList/Keyword")]),
        )
        return make_document(text=builder.text, title=title, sections=builder.sections, metadata=meta)


def _year(journal: Element | None) -> int | None:
    if journal is None:
        return None
    date = journal.find("JournalIssue/PubDate")
    if date is None:
        return None
    text = date.findtext("Year") or date.findtext("MedlineDate") or ""
    match = _YEAR.search(text)
    return int(match.group(1)) if match else None


def _authors(art: Element) -> list[str]:
    names = []
    for author in art.findall("AuthorList/Author"):
        last = author.findtext("LastName")
        if last:
            initials = author.findtext("Initials") or ""
            names.append(f"{last} {initials}".strip())
        elif author.findtext("CollectiveName"):
            names.append(clean_inline(author.findtext("CollectiveName") or ""))
    return names


def _doi(art: Element, article: Element) -> str:
    for loc in art.findall("ELocationID"):
        if loc.get("EIdType") == "doi" and loc.text:
            return loc.text.strip()
    return _article_id(article, "doi")


def _article_id(article: Element, kind: str) -> str:
    for node in article.findall("PubmedData/ArticleIdList/ArticleId"):
        if node.get("IdType") == kind and node.text:
            return node.text.strip()
    return ""
