"""Chunk provenance: text equals the document slice, sections are never crossed, sizes hold."""

from __future__ import annotations

import itertools
from pathlib import Path

from rag_oracle.ingest.base import TextBuilder, make_document
from rag_oracle.ingest.chunking import chunk_document
from rag_oracle.ingest.detect import loader_for
from rag_oracle.settings import ChunkSettings
from rag_oracle.types import DocumentMetadata


def words(texts):
    return [len(t.split()) for t in texts]


def doc_with(sections: dict[str, list[str]]):
    builder = TextBuilder()
    for title, paragraphs in sections.items():
        builder.add_section(title, paragraphs)
    return make_document(
        text=builder.text, title="T", sections=builder.sections, metadata=DocumentMetadata(), doc_id="d"
    )


def test_provenance_and_section_boundaries() -> None:
    sentences = [f"Sentence number {i} talks about warfarin dosing." for i in range(30)]
    doc = doc_with({"METHODS": [" ".join(sentences[:12])], "RESULTS": [" ".join(sentences[12:])]})
    chunks = chunk_document(doc, ChunkSettings(max_tokens=30, overlap_tokens=8, min_tokens=0), words)
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))
    for chunk in chunks:
        assert chunk.id == f"d#{chunk.ordinal}"
        assert doc.text[chunk.char_start : chunk.char_end] == chunk.text
        assert chunk.token_count <= 30
        section = next(s for s in doc.sections if s.title == chunk.section)
        assert section.start <= chunk.char_start and chunk.char_end <= section.end
        assert chunk.text[0].isupper() and chunk.text.endswith(".")  # whole sentences
    assert {c.section for c in chunks} == {"METHODS", "RESULTS"}


def test_overlap_repeats_trailing_sentences() -> None:
    doc = doc_with({"": [" ".join(f"Fact {i} is stated here." for i in range(20))]})
    chunks = chunk_document(doc, ChunkSettings(max_tokens=20, overlap_tokens=5, min_tokens=0), words)
    assert len(chunks) > 2
    for a, b in itertools.pairwise(chunks):
        assert b.char_start < a.char_end, "consecutive chunks should overlap"
        assert b.char_start > a.char_start, "chunking must move forward"


def test_no_overlap_setting() -> None:
    doc = doc_with({"": [" ".join(f"Fact {i} is stated here." for i in range(20))]})
    chunks = chunk_document(doc, ChunkSettings(max_tokens=20, overlap_tokens=0, min_tokens=0), words)
    for a, b in itertools.pairwise(chunks):
        assert b.char_start >= a.char_end


def test_overlong_sentence_is_cut_at_words() -> None:
    long_sentence = " ".join(f"word{i}" for i in range(100)) + "."
    doc = doc_with({"": [long_sentence]})
    chunks = chunk_document(doc, ChunkSettings(max_tokens=30, overlap_tokens=0, min_tokens=0), words)
    assert len(chunks) == 4
    assert all(c.token_count <= 30 for c in chunks)
    assert " ".join(c.text for c in chunks) == long_sentence


def test_pdf_chunks_carry_pages(corpus_dir: Path) -> None:
    [doc] = loader_for(corpus_dir / "clonazepam.pdf").load(corpus_dir / "clonazepam.pdf").documents
    chunks = chunk_document(doc, ChunkSettings(max_tokens=20, overlap_tokens=0, min_tokens=0), words)
    pages = {(c.section, c.page_start, c.page_end) for c in chunks}
    assert ("Clonazepam Dosing", 1, 1) in pages and ("Tapering", 2, 2) in pages


def test_unpaged_documents_have_no_pages(corpus_dir: Path) -> None:
    [doc] = loader_for(corpus_dir / "guide.md").load(corpus_dir / "guide.md").documents
    chunks = chunk_document(doc, ChunkSettings(), words)
    assert all(c.page_start is None for c in chunks)
