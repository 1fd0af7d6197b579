"""Safe XML parsing: no external entities, no DTD-declared entities (billion laughs), no network.

defusedxml raises on any entity declaration; NCBI's files carry a DOCTYPE with a public DTD
reference and no entity declarations, which is allowed (the DTD is never fetched).
"""

from __future__ import annotations

import gzip
from pathlib import Path
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from rag_oracle.errors import CorruptFileError, EmptyFileError, UnsafeXmlError


def read_bytes(path: Path) -> bytes:
    """File bytes, gunzipped for .gz; raises EmptyFileError / CorruptFileError."""
    raw = path.read_bytes()
    if path.suffix == ".gz":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise CorruptFileError(path, f"not a valid gzip file ({exc})") from None
    if not raw.strip():
        raise EmptyFileError(path, "file is empty")
    return raw


def parse_xml(path: Path, raw: bytes | None = None) -> Element:
    raw = read_bytes(path) if raw is None else raw
    try:
        return fromstring(raw, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise UnsafeXmlError(
            path,
            f"refused unsafe XML ({type(exc).__name__}: {exc}); entity declarations "
            "and external references are not allowed",
        ) from None
    except ParseError as exc:
        raise CorruptFileError(path, f"malformed XML: {exc}") from None


def sniff_root(path: Path) -> str:
    """Local name of the root element, read from the first few KB (for format detection)."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            head = fh.read(4096)
    except (OSError, EOFError):
        return ""
    text = head.decode("utf-8", errors="replace")
    pos = 0
    while True:
        pos = text.find("<", pos)
        if pos < 0 or pos + 1 >= len(text):
            return ""
        nxt = text[pos + 1]
        if nxt in "?!":
            pos += 1
            continue
        name = ""
        for ch in text[pos + 1 :]:
            if ch.isspace() or ch in ">/":
                break
            name += ch
        return name.split(":")[-1]


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def itertext(el: Element | None) -> str:
    if el is None:
        return ""
    return "".join(el.itertext())
