"""The answer builder finishes every draft: a generator cannot skip verification, the relevance
gate reads the index's stored vectors, and every answer (abstentions too) carries provenance."""

from __future__ import annotations

import numpy as np
import pytest

from rag_oracle import RagOracle
from rag_oracle.embed.hashing import HashEmbedder
from rag_oracle.types import Draft, DraftSection, DraftSentence, Hit


class CarelessGenerator:
    """Writes one quoted sentence, one it made up, and one with an invented dose: it never checks."""

    name = "careless"
    version = "1"
    label = "careless@1"

    def __init__(self) -> None:
        self.identity = {"name": "careless", "version": "1"}
        self.calls: list[list[Hit]] = []

    def draft(self, question, passages, on_token=None):
        self.calls.append(passages)
        first = passages[0].chunk.text.split(". ")[0].rstrip(".") + "."
        sentences = [
            DraftSentence(text=first, citations=[1]),
            DraftSentence(text="Aspirin prevents migraines in marathon runners.", citations=[1]),
            DraftSentence(text=f"{first[:-1]} at 40 mg/day.", citations=[1, 99]),
        ]
        return Draft(sections=[DraftSection(kind="direct", title="Answer", sentences=sentences)], generator=self.label)


class CountingEmbedder(HashEmbedder):
    def __init__(self) -> None:
        super().__init__(512)
        self.documents_embedded = 0

    def embed_documents(self, texts):
        self.documents_embedded += len(texts)
        return super().embed_documents(texts)


def test_no_generator_can_skip_verification(built_index, settings):
    generator = CarelessGenerator()
    oracle = RagOracle(built_index, settings, generator=generator)
    answer = oracle.ask("How many days before surgery should warfarin be stopped?")
    assert generator.calls, "the generator was asked"
    kept = [s.text for section in answer.sections for s in section.sentences]
    assert len(kept) == 1 and "Aspirin" not in kept[0] and "40 mg/day" not in kept[0]
    statuses = [c.status for c in answer.verification]
    assert statuses == ["supported", "removed", "removed"]
    assert answer.verification[2].invalid_markers == [99]
    assert answer.generator == "careless@1" and answer.provenance.generator == "careless@1"


def test_relevance_gate_reads_stored_vectors(built_index, settings):
    embedder = CountingEmbedder()
    generator = CarelessGenerator()
    oracle = RagOracle(built_index, settings, embedder=embedder, generator=generator)
    oracle.ask("How many days before surgery should warfarin be stopped?")
    assert embedder.documents_embedded == 0, "passages were embedded again instead of read from the index"


def test_stored_vectors_are_the_indexed_ones(built_index, settings):
    from rag_oracle.text.passage import embedding_text

    oracle = RagOracle(built_index, settings)
    chunks = oracle.index.chunks[:5]
    stored = oracle.index.vectors([c.id for c in chunks])
    again = oracle.embedder.embed_documents(
        [embedding_text(oracle.index.documents[c.doc_id].title, c.text) for c in chunks]
    )
    np.testing.assert_allclose(stored, again, atol=1e-6)


def test_abstention_skips_the_generator_and_carries_provenance(built_index, settings):
    generator = CarelessGenerator()
    oracle = RagOracle(
        built_index, settings.with_overrides({"answer": {"min_passage_similarity": 0.99}}), generator=generator
    )
    answer = oracle.ask("How many days before surgery should warfarin be stopped?")
    assert answer.abstained and "relevant enough" in answer.abstention_reason
    assert generator.calls == []
    assert answer.provenance is not None
    assert answer.provenance.index_fingerprint == oracle.index.manifest.fingerprint
    assert answer.provenance.index_checksum == oracle.index.manifest.chunks_checksum != ""


def test_provenance_names_settings_prompt_and_version(built_index, settings):
    from rag_oracle import __version__

    oracle = RagOracle(built_index, settings)
    a = oracle.ask("What dose of sertraline is used for depression?")
    b = oracle.ask("What dose of sertraline is used for depression?", overrides={"answer": {"audience": "patient"}})
    assert a.provenance.package_version == __version__
    assert a.provenance.generator == "extractive@2" and a.provenance.prompt_id is None
    assert a.provenance.settings_hash != b.provenance.settings_hash
    assert a.provenance.embedder == oracle.embedder.model_id


def test_index_with_another_embedder_is_refused_even_when_opened_already(built_index, settings):
    from rag_oracle.errors import EmbedderMismatchError
    from rag_oracle.index.store import Index

    index = Index.open(built_index)
    with pytest.raises(EmbedderMismatchError, match="hash:v1:dim=64"):
        RagOracle(index, settings, embedder=HashEmbedder(64))


def test_lossy_faiss_codes_fall_back_to_embedding(built_index, settings):
    """PQ codes give approximate vectors; the gate then embeds the passages again instead."""
    import faiss

    from rag_oracle.answer.relevance import passage_similarities
    from rag_oracle.index import dense

    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(200, 16)).astype(np.float32)
    pq = faiss.index_factory(16, "PQ4x4", faiss.METRIC_INNER_PRODUCT)
    pq.train(vectors)
    pq.add(vectors)
    assert dense.reconstruct(pq, np.array([0, 1])) is None
    flat = faiss.index_factory(16, "Flat", faiss.METRIC_INNER_PRODUCT)
    flat.add(vectors)
    np.testing.assert_array_equal(dense.reconstruct(flat, np.array([3])), vectors[3:4])

    oracle = RagOracle(built_index, settings)
    hits = oracle.search("warfarin surgery", k=3)

    class NoVectors:
        def vectors(self, chunk_ids):
            return None

    embedded = passage_similarities(oracle.embedder, NoVectors(), "warfarin surgery", hits)
    stored = passage_similarities(oracle.embedder, oracle.index, "warfarin surgery", hits)
    np.testing.assert_allclose(embedded, stored, atol=1e-6)
