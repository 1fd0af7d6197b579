"""Which files an ingest reads (`walk`), and which loader reads each (`loader_for`).

`walk` takes the files as found on disk, where not everything named like a document is one:
it yields every path it meets as a `Found`, with a reason when the path is not read, so the
caller can report it instead of dropping it silently. It never opens a file (it only stats),
so a FIFO or a device cannot make it hang. Each path given is a root; a symlink whose target
lies outside every root is not followed unless `follow_symlinks` (a link to /etc/passwd in a
corpus folder is not a document). Hidden files and folders are skipped silently, as before.

`loader_for` picks by extension, and for XML by its root element, read through
`ingest/limits.py` so a special file is refused rather than read.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from rag_oracle.errors import UnsupportedFormatError
from rag_oracle.ingest.base import Loader
from rag_oracle.ingest.jats import JatsXmlLoader
from rag_oracle.ingest.jsonl import JsonlLoader
from rag_oracle.ingest.limits import Limits, special_kind
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


def loader_for(path: Path, limits: Limits | None = None) -> Loader:
    """The loader for `path`, or UnsupportedFormatError naming the supported formats.

    Only XML is opened (to read its root element), and only if it is a regular file.
    """
    suffix = _suffix(path)
    if suffix in _BY_SUFFIX:
        return _BY_SUFFIX[suffix]
    if suffix in {".xml", ".xml.gz", ".nxml"}:
        root = sniff_root(path, limits)
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


OUTSIDE_FILE = "symlink to a file outside the given folders (use --follow-symlinks to read it)"
OUTSIDE_FOLDER = "symlink to a folder outside the given folders (use --follow-symlinks to read it)"
LOOP = "symlink loop"
DANGLING = "dangling symlink"


@dataclass(frozen=True)
class Found:
    """A path met by `walk`: a file to read (`skipped` empty), or the reason it is not read.

    A path that does not exist is yielded with no reason: reading it reports it missing.
    """

    path: Path
    skipped: str = ""


def walk(paths: Iterable[str | Path], *, follow_symlinks: bool = False) -> Iterator[Found]:
    """Every file named in `paths`, folders walked recursively in sorted order, with what is skipped.

    >>> [f.skipped for f in walk(["/dev/zero"])]  # doctest: +SKIP
    ['not a regular file: a device']
    """
    given = [Path(p) for p in paths]
    roots = [Path(os.path.realpath(p)) for p in given]
    for path in given:
        try:
            info = os.stat(path)
        except OSError as exc:
            if exc.errno in (errno.ENOENT, errno.ENOTDIR) and not os.path.islink(path):
                yield Found(path)  # missing: the caller reports "no such file or directory"
            else:
                yield Found(path, _stat_failure(exc))
            continue
        if stat.S_ISDIR(info.st_mode):
            yield from _walk_folder(path, info, roots, follow_symlinks)
        else:
            yield _file(path, info.st_mode)


def _stat_failure(exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return LOOP
    if exc.errno in (errno.ENOENT, errno.ENOTDIR):
        return DANGLING
    return f"cannot read: {exc.strerror or exc}"


def _file(path: Path, mode: int) -> Found:
    kind = special_kind(mode)
    return Found(path, f"not a regular file: {kind}" if kind else "")


def _listing(folder: Path) -> list[os.DirEntry[str]] | str:
    """The folder's entries sorted by name (the order `sorted(rglob())` gave), or why it cannot be read."""
    try:
        with os.scandir(folder) as entries:
            return sorted(entries, key=lambda e: e.name)
    except OSError as exc:
        return f"unreadable folder: {exc.strerror or exc}"


def _walk_folder(top: Path, info: os.stat_result, roots: list[Path], follow: bool) -> Iterator[Found]:
    # Iterative, not recursive: a tree thousands of folders deep must not hit the recursion limit.
    listing = _listing(top)
    if isinstance(listing, str):
        yield Found(top, listing)
        return
    visited = {(info.st_dev, info.st_ino)}  # every folder walked: a link to one is not walked twice
    stack = [(iter(listing), frozenset(visited))]  # entries left, and the folders above them
    while stack:
        entries, ancestors = stack[-1]
        entry = next(entries, None)
        if entry is None:
            stack.pop()
            continue
        if entry.name.startswith("."):
            continue
        path = Path(entry.path)
        try:
            is_link = entry.is_symlink()
            entry_info = os.stat(path) if is_link else entry.stat(follow_symlinks=False)
        except OSError as exc:
            yield Found(path, _stat_failure(exc))
            continue
        is_dir = stat.S_ISDIR(entry_info.st_mode)
        if is_link and not follow and not _inside(Path(os.path.realpath(path)), roots):
            yield Found(path, OUTSIDE_FOLDER if is_dir else OUTSIDE_FILE)
            continue
        if not is_dir:
            yield _file(path, entry_info.st_mode)
            continue
        key = (entry_info.st_dev, entry_info.st_ino)
        if key in ancestors:
            yield Found(path, LOOP)
            continue
        if key in visited:
            yield Found(path, "symlink to a folder that is read already")
            continue
        visited.add(key)
        sub = _listing(path)
        if isinstance(sub, str):
            yield Found(path, sub)
            continue
        stack.append((iter(sub), ancestors | {key}))


def _inside(target: Path, roots: list[Path]) -> bool:
    return any(target.is_relative_to(root) for root in roots)


def iter_files(paths: Iterable[str | Path]) -> Iterator[Path]:
    """The files of `walk(paths)` to read (skipped ones left out), symlinks out of the tree not followed."""
    for found in walk(paths):
        if not found.skipped:
            yield found.path
