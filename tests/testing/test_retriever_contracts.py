"""Every retriever passes the retriever contract over the contract's small index."""

from __future__ import annotations

import pytest

from rag_oracle.retrieve import Bm25Retriever, DenseRetriever, HybridRetriever
from rag_oracle.testing.contracts import RetrieverContract


class TestDenseRetriever(RetrieverContract):
    @pytest.fixture
    def retriever(self, contract_index, contract_embedder) -> DenseRetriever:
        return DenseRetriever(contract_index, contract_embedder)


class TestBm25Retriever(RetrieverContract):
    @pytest.fixture
    def retriever(self, contract_index) -> Bm25Retriever:
        return Bm25Retriever(contract_index)


class TestHybridRetriever(RetrieverContract):
    @pytest.fixture
    def retriever(self, contract_index, contract_embedder) -> HybridRetriever:
        return HybridRetriever(DenseRetriever(contract_index, contract_embedder), Bm25Retriever(contract_index))
