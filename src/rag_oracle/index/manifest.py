"""manifest.json: what an index is, what built it, and checksums of every file in it.

A directory is an index only if its manifest exists and parses; the manifest is written last,
so a build that died midway leaves a directory that is never opened.

Schema versions: 1 kept documents and chunks in documents.jsonl and chunks.jsonl; 2 keeps them in
store.sqlite (index/docstore.py) and records `chunks_sha256`. This version reads both and writes
2; a version that reads only schema 1 refuses a schema-2 index with SchemaVersionError before it
looks for any file.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from rag_oracle.errors import IncompleteIndexError, IndexCorruptError, IndexNotFoundError, SchemaVersionError

SCHEMA_VERSION = 2  # what the writer writes
READABLE_SCHEMAS = (1, 2)  # what readers open
MANIFEST = "manifest.json"


class FileEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sha256: str
    bytes: int


class Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schema_version: int = Field(SCHEMA_VERSION, description="On-disk layout version.")
    package_version: str = Field(description="rag-oracle version that wrote the index.")
    library_versions: dict[str, str] = Field(default_factory=dict, description="faiss, bm25s, torch, … versions.")
    created_at: str = Field(description="UTC ISO time of the first build.")
    updated_at: str = Field(description="UTC ISO time of the latest write.")
    build_commands: list[str] = Field(default_factory=list, description="Command lines that wrote it, oldest first.")
    fingerprint: str = Field(description="Hash of the settings that shape the index (Settings.index_fingerprint).")
    embedder: dict[str, object] = Field(description="id, dimension, max_tokens.")
    chunking: dict[str, object] = Field(description="ChunkSettings used.")
    faiss: dict[str, object] = Field(description="factory spec, metric, ntotal.")
    bm25: dict[str, object] = Field(description="bm25s parameters and tokenisation.")
    counts: dict[str, int] = Field(description="documents, chunks, tokens, source_files.")
    files: dict[str, FileEntry] = Field(description="Relative path -> checksum and size.")
    literature: list[dict[str, object]] = Field(
        default_factory=list,
        description="Literature fetched into the index, oldest first (`rag-oracle pubmed fetch`: the query, date "
        "range, server, time and PMIDs), so the corpus can be rebuilt.",
    )
    chunks_sha256: str = Field(
        "",
        description="sha256 of the chunks as JSON lines in position order (the bytes schema 1's chunks.jsonl "
        "held): identifies the indexed passages whatever file holds them. Empty in schema 1.",
    )

    @property
    def chunks_checksum(self) -> str:
        """What identifies the indexed passages (answer provenance, evaluation runs): `chunks_sha256`,
        or for schema 1 the checksum of chunks.jsonl, which is the same value for the same chunks."""
        if self.chunks_sha256:
            return self.chunks_sha256
        entry = self.files.get("chunks.jsonl")
        return entry.sha256 if entry else ""


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_entries(directory: Path) -> dict[str, FileEntry]:
    entries = {}
    for path in sorted(directory.rglob("*")):
        if path.is_file() and path.name != MANIFEST:
            entries[path.relative_to(directory).as_posix()] = FileEntry(
                sha256=sha256_file(path), bytes=path.stat().st_size
            )
    return entries


def write_manifest(directory: Path, manifest: Manifest) -> None:
    path = directory / MANIFEST
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(manifest.model_dump_json(indent=2))
        fh.flush()
        os.fsync(fh.fileno())


def read_manifest(directory: Path) -> Manifest:
    """The manifest of the index at `directory` (its current generation) or of one generation directory."""
    from rag_oracle.index.atomic import snapshot_dir

    given = Path(directory)
    if not str(directory).strip():
        raise IndexNotFoundError("the index path is empty; give a directory such as indexes/mine")
    directory = snapshot_dir(given)
    if not directory.exists() and directory != given:
        raise IndexCorruptError(
            f"{given}: its current generation {directory.name} is missing; the index is damaged. "
            f"Run 'rag-oracle index verify {given}', then rebuild it."
        )
    if not directory.exists():
        raise IndexNotFoundError(
            f"no index at {directory}; build one with: rag-oracle ingest PATH... --index {directory}"
        )
    path = directory / MANIFEST
    if not path.is_file():
        raise IncompleteIndexError(
            f"{directory} has no {MANIFEST}: it is not an index, or a build that never finished. "
            f"It will not be opened; delete it and ingest again."
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IncompleteIndexError(f"{path} is unreadable ({exc}); delete {directory} and ingest again") from None
    if not isinstance(data, dict):
        raise IndexCorruptError(
            f"{path} is not a JSON object ({type(data).__name__}); the index is damaged: rebuild it with rag-oracle ingest"
        )
    version = data.get("schema_version")
    if version not in READABLE_SCHEMAS:
        raise SchemaVersionError(
            f"{directory} uses index schema {version}, this rag-oracle reads schemas "
            f"{', '.join(map(str, READABLE_SCHEMAS))}; rebuild the index with this version (rag-oracle ingest)"
        )
    try:
        return Manifest.model_validate(data)
    except ValidationError as exc:
        raise IncompleteIndexError(f"{path} does not describe an index ({exc.errors()[0]['msg']})") from None
