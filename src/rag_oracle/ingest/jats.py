"""PMC / JATS XML: one `<article>` (or several inside `<pmc-articleset>`, as efetch db=pmc returns).

Title, abstract (with its own section titles), body sections (nested titles joined with ' > '),
PMCID, PMID and DOI. Figures, tables and reference lists are left out: their text reads badly
as a passage and is rarely what a clinical question is after.
"""

from __future__ import annotations

import re
from pathlib import Path
from xml.etree.ElementTree import Element

from rag_oracle.errors import CorruptFileError
from rag_oracle.ingest.base import LoadResult, TextBuilder, clean_inline, keywords_extra, make_document
from rag_oracle.ingest.limits import Deadline, Limits, budget
from rag_oracle.ingest.xmlsafe import itertext, local, parse_xml
from rag_oracle.types import DocumentMetadata

_SKIP = {"fig", "table-wrap", "ref-list", "supplementary-material", "fn-group", "table", "graphic"}
_YEAR = re.compile(r"(1[89]\d\d|20\d\d)")


class JatsXmlLoader:
    name = "jats"
    suffixes = (".xml", ".nxml", ".xml.gz")

    def load(self, path: Path, *, limits: Limits | None = None, deadline: Deadline | None = None) -> LoadResult:
        limits, deadline = budget(path, limits, deadline)
        root = parse_xml(path, limits=limits)
        deadline.check()
        tag = local(root.tag)
        if tag == "article":
            articles = [root]
        elif tag == "pmc-articleset":
            articles = [a for a in root if local(a.tag) == "article"]
        else:
            raise CorruptFileError(path, f"expected an <article> or <pmc-articleset> root, found <{tag}>")
        result = LoadResult()
        for i, article in enumerate(articles, 1):
            deadline.check()
            try:
                doc = self._article(article, path)
            except RecursionError:  # <sec> or inline markup nested thousands deep
                result.warnings.append(f"{path}: article {i} is nested too deeply to read; skipped")
                continue
            if doc is None:
                result.warnings.append(f"{path}: article {i} has no text; skipped")
            else:
                result.documents.append(doc)
        if not result.documents:
            raise CorruptFileError(path, "no article with a title, abstract or body text")
        return result

    def _article(self, article: Element, path: Path):
        meta_el = _find(article, "front", "article-meta")
        ids: dict[str, str] = {}
        title = ""
        authors: list[str] = []
        year = None
        journal = clean_inline(
            itertext(_find(article, "front", "journal-meta", "journal-title-group", "journal-title"))
        )
        builder = TextBuilder()
        if meta_el is not None:
            for node in _children(meta_el, "article-id"):
                ids[node.get("pub-id-type", "")] = (node.text or "").strip()
            title = clean_inline(itertext(_find(meta_el, "title-group", "article-title")))
            for contrib in _iter(meta_el, "contrib"):
                surname = clean_inline(itertext(_find(contrib, "name", "surname")))
                given = clean_inline(itertext(_find(contrib, "name", "given-names")))
                if surname:
                    authors.append(f"{surname} {''.join(p[0] for p in given.split() if p)}".strip())
            for date in _children(meta_el, "pub-date"):
                match = _YEAR.search(itertext(_find(date, "year")))
                if match:
                    year = int(match.group(1))
                    break
            for abstract in _children(meta_el, "abstract"):
                if abstract.get("abstract-type") in {"graphical", "teaser"}:
                    continue
                _add_sections(builder, abstract, "Abstract")
        body = _find(article, "body")
        if body is not None:
            _add_sections(builder, body, "")
        if not builder.sections:
            return None
        pmcid = ids.get("pmcid") or ids.get("pmc") or ""
        if pmcid and not pmcid.upper().startswith("PMC"):
            pmcid = f"PMC{pmcid}"
        meta = DocumentMetadata(
            format=self.name,
            source_path=str(path),
            year=year,
            authors=authors,
            journal=journal,
            pmid=ids.get("pmid", ""),
            pmcid=pmcid,
            doi=ids.get("doi", ""),
            publication_types=[article.get("article-type", "")] if article.get("article-type") else [],
            source="PMC",
            extra={**_keywords(meta_el), **_licence(meta_el)},
        )
        doc_id = f"pmcid:{pmcid}" if pmcid else ""
        return make_document(text=builder.text, title=title, sections=builder.sections, metadata=meta, doc_id=doc_id)


# Licences PMC counts as allowing commercial use (its "commercial use allowed" OA subset): CC0, CC BY,
# CC BY-SA, CC BY-ND, public domain. NC licences and the publishers' own terms do not.
_CC = re.compile(r"creativecommons\.org/(?:licenses/(by(?:-nc)?(?:-sa|-nd)?)|publicdomain/(zero|mark))", re.I)
_NAMED = re.compile(r"\bCC[ -]?(0|BY(?:[ -]NC)?(?:[ -](?:SA|ND))?)\b", re.I)


def licence_terms(url: str, text: str = "", kind: str = "") -> dict[str, object]:
    """{"name", "url", "commercial"} of a JATS <license> (its URL, its text, its license-type)."""
    match = _CC.search(url) or _CC.search(text)
    if match:
        name = (
            "CC0" if match.group(2) == "zero" else "public domain" if match.group(2) else f"CC {match.group(1).upper()}"
        )
    else:
        named = _NAMED.search(text)
        name = f"CC {named.group(1).upper().replace(' ', '-')}" if named else ""
        if not name and re.search(r"\bpublic domain\b", text, re.I):
            name = "public domain"
    name = name.replace("CC 0", "CC0")
    commercial = bool(name) and "NC" not in name
    return {"name": name or (kind or "unknown"), "url": url, "commercial": commercial}


def _licence(meta_el: Element | None) -> dict[str, object]:
    """metadata.extra["licence"] from the article's <permissions><license> ("not stated" without one)."""
    licence = _find(meta_el, "permissions", "license")
    if licence is None:
        return {"licence": {"name": "not stated", "url": "", "commercial": False}}
    url = next((v for k, v in licence.attrib.items() if local(k) == "href"), "")
    ref = next((clean_inline(itertext(n)) for n in _iter(licence, "license_ref")), "")
    return {"licence": licence_terms(url or ref, clean_inline(itertext(licence)), licence.get("license-type", ""))}


def _keywords(meta_el: Element | None) -> dict[str, object]:
    """metadata.extra holding the article's keywords (kwd-group/kwd), when there are any."""
    if meta_el is None:
        return {}
    return keywords_extra(
        [clean_inline(itertext(k)) for group in _children(meta_el, "kwd-group") for k in _children(group, "kwd")]
    )


def _add_sections(builder: TextBuilder, el: Element, heading: str) -> None:
    """Paragraphs directly under `el` form one section; each <sec> recurses with a longer heading."""
    paragraphs = []
    for child in el:
        name = local(child.tag)
        if name == "p":
            paragraphs.append(_paragraph(child))
        elif name == "list":
            paragraphs.extend(_paragraph(item) for item in _iter(child, "list-item"))
    builder.add_section(heading or "Body", paragraphs)
    for child in el:
        if local(child.tag) == "sec":
            sec_title = clean_inline(itertext(_find(child, "title")))
            _add_sections(builder, child, " > ".join(t for t in (heading, sec_title) if t))


def _paragraph(el: Element) -> str:
    parts: list[str] = []

    def walk(node: Element) -> None:
        if local(node.tag) in _SKIP:
            return
        if node.text:
            parts.append(node.text)
        for child in node:
            walk(child)
            if child.tail:
                parts.append(child.tail)

    walk(el)
    return clean_inline("".join(parts))


def _children(el: Element, name: str) -> list[Element]:
    return [c for c in el if local(c.tag) == name]


def _find(el: Element | None, *names: str) -> Element | None:
    for name in names:
        if el is None:
            return None
        el = next((c for c in el if local(c.tag) == name), None)
    return el


def _iter(el: Element, name: str):
    return (node for node in el.iter() if local(node.tag) == name)
