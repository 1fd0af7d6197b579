"""Exact drug-name lookup in the `drug-named-entity-recognition` dictionary, without its start-up cost.

Importing the package takes 2 to 7 s: it decompresses its dictionary (107k names) and builds a
trigram table for fuzzy matching, which rag-oracle never uses. On a CLI question that was most of the
wall time. This module reads the same dictionary file once, writes the part exact matching needs
(name variant -> canonical name and MeSH tree numbers) into an SQLite table in the cache directory,
and afterwards looks names up there: opening it costs about a millisecond, a lookup microseconds.

`find_drugs(tokens)` matches exactly as the package's `find_drugs(tokens, is_ignore_case=True)`
does (every adjacent pair of tokens first, then single tokens not inside a matched pair; case
ignored), which a test checks against the package on real text.

    $XDG_CACHE_HOME/rag-oracle/drugs/<package version>-<dictionary file hash>.sqlite
"""

from __future__ import annotations

import bz2
import hashlib
import importlib.metadata
import importlib.util
import itertools
import json
import os
import pickle
import re
import sqlite3
import tempfile
import threading
from pathlib import Path

PACKAGE = "drug_named_entity_recognition"
DICTIONARY_FILE = "drug_ner_dictionary.pkl.bz2"
_FORMAT = 1
_local = threading.local()
_path_lock = threading.Lock()
_db_path: Path | None = None


def _cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "rag-oracle" / "drugs"


def dictionary_file() -> Path:
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        from rag_oracle.errors import MissingDependencyError

        raise MissingDependencyError("drug-named-entity-recognition", None, "Drug names in questions and passages")
    return Path(next(iter(spec.submodule_search_locations))) / DICTIONARY_FILE


def _tree(data: dict) -> list[str]:
    tree = data.get("mesh_tree") or []
    if isinstance(tree, str):
        tree = re.findall(r"[A-Z]\d{2}(?:\.\d{3})*", tree)
    return list(tree)


def build_table(source: Path, target: Path) -> None:
    """Write the exact-match table from the package's dictionary file (the package's own pickle,
    shipped inside it; nothing from outside the installed package is unpickled)."""
    with bz2.open(source, "rb") as fh:
        data = pickle.load(fh)  # the installed package's own data file
    variants = data["drug_variant_to_canonical"]
    canonical = data["drug_canonical_to_data"]
    variant_data = data["drug_variant_to_variant_data"]
    rows = []
    for variant, names in variants.items():
        entries = []
        for m in names:
            merged = dict(canonical.get(m, {})) | variant_data.get(variant, {})
            entries.append([str(merged.get("name", "")).lower(), _tree(merged)])
        rows.append((variant, json.dumps(entries, separators=(",", ":"))))
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".drugs-", suffix=".sqlite", dir=target.parent)
    os.close(fd)
    try:
        con = sqlite3.connect(tmp)
        con.execute("PRAGMA journal_mode=OFF")
        con.execute("CREATE TABLE variants (variant TEXT PRIMARY KEY, entries TEXT NOT NULL) WITHOUT ROWID")
        con.executemany("INSERT OR REPLACE INTO variants VALUES (?, ?)", rows)
        con.commit()
        con.close()
        os.replace(tmp, target)  # a reader sees the whole table or none
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def table_path() -> Path:
    """The lookup table for the installed dictionary, built on first use."""
    global _db_path
    with _path_lock:
        if _db_path is not None and _db_path.is_file():
            return _db_path
        source = dictionary_file()
        stat = source.stat()
        try:
            version = importlib.metadata.version("drug-named-entity-recognition")
        except importlib.metadata.PackageNotFoundError:
            version = "unknown"
        stamp = hashlib.sha256(f"{_FORMAT}|{source}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()[:16]
        target = _cache_root() / f"{version}-{stamp}.sqlite"
        if not target.is_file():
            build_table(source, target)
        _db_path = target
        return target


def _connection() -> sqlite3.Connection:
    con = getattr(_local, "con", None)
    if con is not None and _db_path is not None and getattr(_local, "path", None) is _db_path:
        return con  # this thread's connection to the table in use: no need to look for the file again
    path = table_path()
    if con is None or getattr(_local, "path", None) != path:
        con = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True, check_same_thread=False)
        _local.con, _local.path = con, path
    return con


# Entries already read, by variant (an empty tuple: not in the dictionary). Every table is built from
# the installed package's one dictionary file, so they hold in this process whatever table was read;
# texts share most of their words, so a new text usually needs only a few variants from the table.
_known: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {}
_KNOWN_LIMIT = 50_000  # variants kept (a few MB); past it the memo starts over


def lookup(variants: list[str]) -> dict[str, list[tuple[str, tuple[str, ...]]]]:
    """Dictionary entries (canonical name lower-cased, MeSH tree numbers) of the lower-cased `variants`."""
    out: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
    missing = []
    for variant in sorted(set(variants)):
        entries = _known.get(variant)
        if entries is None:
            missing.append(variant)
        elif entries:
            out[variant] = list(entries)
    if not missing:
        return out
    read: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = dict.fromkeys(missing, ())
    con = _connection()
    for start in range(0, len(missing), 500):
        chunk = missing[start : start + 500]
        marks = ",".join("?" * len(chunk))
        for variant, entries in con.execute(f"SELECT variant, entries FROM variants WHERE variant IN ({marks})", chunk):
            read[variant] = tuple((name, tuple(tree)) for name, tree in json.loads(entries))
    if len(_known) + len(read) > _KNOWN_LIMIT:
        _known.clear()
    _known.update(read)
    out.update((variant, list(entries)) for variant, entries in read.items() if entries)
    return out


def find_drugs(tokens: list[str]) -> list[tuple[str, tuple[str, ...], int, int]]:
    """(canonical name, MeSH tree, first token, end token) of each match, in the package's order."""
    if not tokens:
        return []
    lowered = [t.lower() for t in tokens]
    pairs = [f"{a} {b}" for a, b in itertools.pairwise(lowered)]
    found = lookup([*pairs, *lowered])
    matches: list[tuple[str, tuple[str, ...], int, int]] = []
    excluded: set[int] = set()
    for i, pair in enumerate(pairs):
        entries = found.get(pair)
        if entries:
            matches.extend((name, tree, i, i + 2) for name, tree in entries)
            excluded.update((i, i + 1))
    for i, token in enumerate(lowered):
        if i in excluded:
            continue
        entries = found.get(token)
        if entries:
            matches.extend((name, tree, i, i + 1) for name, tree in entries)
            excluded.add(i)
    return matches
