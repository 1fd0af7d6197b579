"""Author keywords reach metadata.extra["keywords"] from PubMed and JATS (BM25 may index them)."""

from __future__ import annotations

from pathlib import Path

from rag_oracle.ingest.jats import JatsXmlLoader
from rag_oracle.ingest.pubmed import PubmedXmlLoader
from tests.conftest import JATS_XML, PUBMED_XML


def _pubmed(tmp_path: Path, keywords: str) -> Path:
    xml = PUBMED_XML.format(
        pmid="900000001", year=2020, title="T", background="B.", results="R.", conclusions="C.", ptype="Review"
    ).replace("</MeshHeadingList>", "</MeshHeadingList>" + keywords)
    path = tmp_path / "p.xml"
    path.write_text(xml, encoding="utf-8")
    return path


def test_pubmed_keywords(tmp_path: Path) -> None:
    path = _pubmed(
        tmp_path, '<KeywordList Owner="NOTNLM"><Keyword>INR</Keyword><Keyword> bridging </Keyword></KeywordList>'
    )
    (doc,) = PubmedXmlLoader().load(path).documents
    assert doc.metadata.extra["keywords"] == ["INR", "bridging"] and doc.metadata.mesh_terms == ["Warfarin"]
    (plain,) = PubmedXmlLoader().load(_pubmed(tmp_path, "")).documents
    assert "keywords" not in plain.metadata.extra


def test_jats_keywords(tmp_path: Path) -> None:
    xml = JATS_XML.replace(
        "<abstract>",
        '<kwd-group kwd-group-type="author"><kwd>heparin</kwd><kwd><italic>HIT</italic></kwd></kwd-group><abstract>',
    )
    path = tmp_path / "a.xml"
    path.write_text(xml, encoding="utf-8")
    (doc,) = JatsXmlLoader().load(path).documents
    assert doc.metadata.extra["keywords"] == ["heparin", "HIT"]
