"""The one question path: what a question costs, as well as what it answers."""

from __future__ import annotations

from rag_oracle import RagOracle
from rag_oracle.embed.hashing import HashEmbedder


class QueryRecorder(HashEmbedder):
    def __init__(self) -> None:
        super().__init__(512)
        self.queries: list[str] = []

    def embed_query(self, text: str):
        self.queries.append(text)
        return super().embed_query(text)


def test_a_question_embeds_each_query_text_once(built_index, settings) -> None:
    # Retrieval, the relevance gate and the extractive generator all need the question's vector, and
    # each related question is retrieved and gated: every text is embedded once per question.
    embedder = QueryRecorder()
    oracle = RagOracle(built_index, settings, embedder=embedder)
    question = "What is the starting dose of clonazepam for panic disorder?"
    answer = oracle.ask(question)
    assert not answer.abstained and answer.related_questions
    assert embedder.queries.count(question) == 1
    assert len(embedder.queries) == len(set(embedder.queries)) > 1
    # Nothing is kept after the question: asked again, it is embedded again, with the same answer.
    assert oracle.ask(question).text == answer.text
    assert embedder.queries.count(question) == 2
    # Outside a question (a plain search) every call reaches the embedder.
    oracle.search(question)
    oracle.search(question)
    assert embedder.queries.count(question) == 4
