"""Safe XML parsing: no external entities, no DTD-declared entities (billion laughs), no network.

defusedxml raises on any entity declaration; NCBI's files carry a DOCTYPE with a public DTD
reference and no entity declarations, which is allowed (the DTD is never fetched).

Files are read through `ingest/limits.py`: only regular files are opened, and a .gz file is
decompressed within the size and ratio limits, so a gzip bomb stops after a few MB.
"""

from __future__ import annotations

from pathlib import Path
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from rag_oracle.errors import CorruptFileError, EmptyFileError, UnsafeXmlError
from rag_oracle.ingest.limits import Limits, open_maybe_gzip


def read_bytes(path: Path, limits: Limits | None = None) -> bytes:
    """File bytes, gunzipped for .gz within `limits`; raises EmptyFileError / CorruptFileError / TooLargeError."""
    with open_maybe_gzip(path, limits) as fh:
        raw = fh.read()
    if not raw.strip():
        raise EmptyFileError(path, "file is empty")
    return raw


def parse_xml(path: Path, raw: bytes | None = None, limits: Limits | None = None) -> Element:
    raw = read_bytes(path, limits) if raw is None else raw
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
    except (ValueError, LookupError) as exc:  # expat on an unknown or impossible encoding declaration
        raise CorruptFileError(path, f"malformed XML ({type(exc).__name__}: {exc})") from None


def sniff_root(path: Path, limits: Limits | None = None) -> str:
    """Local name of the root element, read from the first few KB (for format detection).

    '' when the file cannot be read as XML (the loader then says why); a special file raises
    SpecialFileError rather than being read.
    """
    try:
        with open_maybe_gzip(path, limits) as fh:
            head = fh.read(4096)
    except (CorruptFileError, OSError, EOFError):
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
