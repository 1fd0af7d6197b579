"""Which loader reads a file: by extension, and for XML by its root element."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from rag_oracle.errors import UnsupportedFormatError
from rag_oracle.ingest.base import Loader
from rag_oracle.ingest.jats import JatsXmlLoader
from rag_oracle.ingest.jsonl import JsonlLoader
from rag_oracle.ingest.pdf import PdfLoader
from rag_oracle.ingest.pubmed import PubmedXmlLoader
from rag_oracle.ingest.textfile import MarkdownLoader, PlainTextLoader
from rag_oracle.ingest.xmlsafe import sniff_root

SUPPORTED = ".pdf, .xml/.xml.gz/.nxml (PubMed or JATS), .md/.markdown, .txt, .jsonl/.jsonl.gz"

_BY_SUFFIX: dict[str, Loader] = {
    ".pdf": PdfLoader(),
    ".md": MarkdownLoader(),
    ".markdown": MarkdownLoader(),
    ".txt": PlainTextLoader(),
    ".jsonl": JsonlLoader(),
    ".jsonl.gz": JsonlLoader(),
}
_PUBMED = PubmedXmlLoader()
_JATS = JatsXmlLoader()


def _suffix(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes]
    if len(suffixes) >= 2 and suffixes[-1] == ".gz":
        return "".join(suffixes[-2:])
    return suffixes[-1] if suffixes else ""


def loader_for(path: Path) -> Loader:
    """The loader for `path`, or UnsupportedFormatError naming the supported formats."""
    suffix = _suffix(path)
    if suffix in _BY_SUFFIX:
        return _BY_SUFFIX[suffix]
    if suffix in {".xml", ".xml.gz", ".nxml"}:
        root = sniff_root(path)
        if root == "PubmedArticleSet":
            return _PUBMED
        if root in {"article", "pmc-articleset"}:
            return _JATS
        # Let the PubMed loader produce the precise error (empty, malformed, wrong root).
        return _PUBMED if root in {"", "PubmedBookArticleSet"} else _unsupported_xml(path, root)
    raise UnsupportedFormatError(path, f"unsupported file type '{suffix or path.name}'; supported: {SUPPORTED}")


def _unsupported_xml(path: Path, root: str) -> Loader:
    raise UnsupportedFormatError(
        path, f"XML with root <{root}> is neither PubMed (<PubmedArticleSet>) nor JATS (<article>)"
    )


def iter_files(paths: Iterable[str | Path]) -> Iterator[Path]:
    """Files named in `paths`, directories walked recursively in sorted order; hidden files skipped."""
    for given in paths:
        path = Path(given)
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                rel = child.relative_to(path)
                if child.is_file() and not any(part.startswith(".") for part in rel.parts):
                    yield child
        else:
            yield path
