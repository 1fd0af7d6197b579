"""An opened index: documents, chunks, the FAISS and BM25 indexes, and the manifest.

Layout of `indexes/<name>/`::

    manifest.json      written last; without it the directory is never opened
    documents.jsonl    one Document per line
    chunks.jsonl       one Chunk per line; line i is FAISS vector i and BM25 document i
    sources.jsonl      files ingested (path, sha256, documents), so unchanged files are skipped
    aliases.jsonl      ids of duplicate documents -> the id under which their text is stored
    dense.faiss        FAISS index (native format)
    bm25/              bm25s index (.npy arrays + JSON)

`Index` reads this layout; `IndexWriter` (index/writer.py) is the only code that writes it.

Example::

    index = Index.open("indexes/sample", embedder=make_embedder(settings.embed))
    index.chunks[0].text
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rag_oracle.errors import EmbedderMismatchError, IndexCorruptError
from rag_oracle.index import dense, lexical
from rag_oracle.index.atomic import recover_interrupted_swap
from rag_oracle.index.manifest import Manifest, read_manifest, sha256_file
from rag_oracle.types import Chunk, Document, DocumentInfo

DOCUMENTS = "documents.jsonl"
CHUNKS = "chunks.jsonl"
SOURCES = "sources.jsonl"
ALIASES = "aliases.jsonl"


def read_jsonl(path: Path, model):
    with open(path, encoding="utf-8") as fh:
        return [model.model_validate_json(line) for line in fh if line.strip()]


def document_info(doc: Document) -> DocumentInfo:
    m = doc.metadata
    return DocumentInfo(
        id=doc.id,
        title=doc.title,
        year=m.year,
        pmid=m.pmid,
        pmcid=m.pmcid,
        doi=m.doi,
        source_path=m.source_path,
        format=m.format,
        publication_types=list(m.publication_types),
        source=m.source,
    )


@dataclass
class Index:
    path: Path
    manifest: Manifest
    documents: dict[str, Document]
    chunks: list[Chunk]
    sources: list[dict]
    aliases: dict[str, str]
    faiss_index: object
    bm25: object
    _doc_positions: np.ndarray | None = field(default=None, repr=False)
    _infos: dict[str, DocumentInfo] = field(default_factory=dict, repr=False)
    _positions: dict[str, int] | None = field(default=None, repr=False)

    @classmethod
    def open(cls, path: str | Path, embedder=None, *, mmap: bool = False) -> Index:
        """Open a complete index. With `embedder`, refuse one built by a different model."""
        path = Path(path)
        recover_interrupted_swap(path)
        manifest = read_manifest(path)
        if embedder is not None:
            check_embedder(manifest, embedder, path)
        for name, entry in manifest.files.items():
            file = path / name
            if not file.is_file() or file.stat().st_size != entry.bytes:
                raise IndexCorruptError(
                    f"{file} is missing or has the wrong size; the index is damaged. "
                    f"Run 'rag-oracle index verify {path}', then rebuild it."
                )
        documents = {d.id: d for d in read_jsonl(path / DOCUMENTS, Document)}
        chunks = read_jsonl(path / CHUNKS, Chunk)
        sources = [json.loads(line) for line in (path / SOURCES).read_text(encoding="utf-8").splitlines() if line]
        aliases_file = path / ALIASES
        aliases = {}
        if aliases_file.is_file():
            for line in aliases_file.read_text(encoding="utf-8").splitlines():
                if line:
                    record = json.loads(line)
                    aliases[record["alias"]] = record["canonical"]
        faiss_index = dense.read(path, mmap=mmap)
        bm25 = lexical.load(path)
        if faiss_index.ntotal != len(chunks):
            raise IndexCorruptError(
                f"{path}: FAISS holds {faiss_index.ntotal} vectors but there are {len(chunks)} chunks; rebuild the index"
            )
        return cls(path, manifest, documents, chunks, sources, aliases, faiss_index, bm25)

    def canonical_id(self, doc_id: str) -> str:
        """The id a document is stored under (resolves ids of duplicates that were stored once)."""
        return self.aliases.get(doc_id, doc_id)

    def info(self, doc_id: str) -> DocumentInfo:
        if doc_id not in self._infos:
            self._infos[doc_id] = document_info(self.documents[doc_id])
        return self._infos[doc_id]

    def document_frequency(self, term: str) -> int:
        """How many chunks contain `term` (an analysed token): the `TermStatistics` protocol."""
        return lexical.document_frequency(self.bm25, term)

    def position(self, chunk_id: str) -> int:
        """Where a chunk is stored (its FAISS vector and BM25 row); KeyError for an unknown id."""
        if self._positions is None:
            self._positions = {c.id: i for i, c in enumerate(self.chunks)}
        return self._positions[chunk_id]

    def vectors(self, chunk_ids: list[str]) -> np.ndarray | None:
        """The stored embeddings of these chunks, (n, dimension) float32; None when the FAISS index
        type keeps no reconstructible vectors (PQ and other lossy codes: then embed again)."""
        if not chunk_ids:
            return None
        positions = np.array([self.position(c) for c in chunk_ids], dtype=np.int64)
        return dense.reconstruct(self.faiss_index, positions)

    @property
    def chunk_doc_positions(self) -> np.ndarray:
        """For each chunk, the position of its document in `document_ids` (for filter masks)."""
        if self._doc_positions is None:
            order = {doc_id: i for i, doc_id in enumerate(self.documents)}
            self._doc_positions = np.fromiter(
                (order[c.doc_id] for c in self.chunks), dtype=np.int64, count=len(self.chunks)
            )
        return self._doc_positions

    def verify(self) -> list[str]:
        """Problems found by re-hashing every file against the manifest (empty list: all good)."""
        problems = []
        for name, entry in self.manifest.files.items():
            file = self.path / name
            if not file.is_file():
                problems.append(f"{name}: missing")
            elif sha256_file(file) != entry.sha256:
                problems.append(f"{name}: checksum differs from the manifest")
        counts = self.manifest.counts
        if counts.get("chunks") != len(self.chunks):
            problems.append(f"chunks.jsonl has {len(self.chunks)} chunks, manifest says {counts.get('chunks')}")
        if counts.get("documents") != len(self.documents):
            problems.append(f"documents.jsonl has {len(self.documents)}, manifest says {counts.get('documents')}")
        for chunk in self.chunks:
            doc = self.documents.get(chunk.doc_id)
            if doc is None:
                problems.append(f"chunk {chunk.id} points at missing document {chunk.doc_id}")
            elif doc.text[chunk.char_start : chunk.char_end] != chunk.text:
                problems.append(f"chunk {chunk.id}: text does not match its document offsets")
        return problems


def check_embedder(manifest: Manifest, embedder, path: Path) -> None:
    built_with = manifest.embedder.get("id")
    if built_with != embedder.model_id:
        raise EmbedderMismatchError(
            f"{path} was built with embedder '{built_with}' but '{embedder.model_id}' was asked for; "
            f"use the same embed.model (--embed-model) or build a new index"
        )
