"""A LangChain `BaseRetriever` over a rag-oracle index, for use inside LangChain chains.

Example::

    from rag_oracle import RagOracle
    from rag_oracle.retrieve.langchain import RagOracleRetriever

    retriever = RagOracleRetriever(oracle=RagOracle("indexes/sample"), k=5)
    docs = retriever.invoke("warfarin before surgery")
    docs[0].metadata["chunk_id"], docs[0].page_content
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document as LcDocument
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from rag_oracle.retrieve.filters import Filters
from rag_oracle.types import Hit


def hit_to_langchain(hit: Hit) -> LcDocument:
    doc = hit.document
    metadata: dict[str, Any] = {
        "chunk_id": hit.chunk.id,
        "doc_id": hit.chunk.doc_id,
        "title": doc.title,
        "year": doc.year,
        "section": hit.chunk.section,
        "page_start": hit.chunk.page_start,
        "page_end": hit.chunk.page_end,
        "char_start": hit.chunk.char_start,
        "char_end": hit.chunk.char_end,
        "rank": hit.rank,
        "score": hit.score,
        "dense_score": hit.dense_score,
        "bm25_score": hit.bm25_score,
        "pmid": doc.pmid,
        "doi": doc.doi,
        "source_path": doc.source_path,
    }
    return LcDocument(page_content=hit.chunk.text, metadata=metadata, id=hit.chunk.id)


class RagOracleRetriever(BaseRetriever):
    """Hybrid (or dense / BM25, per the oracle's settings) retrieval as LangChain Documents."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    oracle: Any
    k: int = 10
    filters: Filters | None = None

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[LcDocument]:
        return [hit_to_langchain(h) for h in self.oracle.search(query, self.k, self.filters)]
