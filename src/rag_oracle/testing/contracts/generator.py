"""The generator contract (rag_oracle/generate/base.py), as a pytest suite. Needs pytest."""

from __future__ import annotations

import json

import pytest

from rag_oracle.answer.builder import AnswerBuilder, Selection
from rag_oracle.generate.base import Generator
from rag_oracle.settings import AnswerSettings
from rag_oracle.text.analyzer import UniformStatistics
from rag_oracle.types import Chunk, DocumentInfo, Draft, DraftSentence, Hit

CONTRACT_QUESTION = "How many days before surgery should warfarin be stopped?"

# (doc id, title, year, offset of the chunk in its document, chunk text): what the generator is
# shown, numbered [1]..[3] in this order. Chunks start inside their documents, so a generator
# that confuses chunk and document offsets in its quoted spans is caught.
CONTRACT_PASSAGES = [
    (
        "guide-warfarin",
        "Holding warfarin before surgery",
        2022,
        120,
        "Stop warfarin 5 days before elective surgery. Check the INR on the day before surgery.",
    ),
    (
        "trial-bridging",
        "Bridging anticoagulation in patients who need warfarin interruption",
        2015,
        40,
        "Resume warfarin 12 to 24 hours after surgery when bleeding is controlled. "
        "Bridging with heparin increased major bleeding without preventing thromboembolism.",
    ),
    (
        "monograph-amoxicillin",
        "Amoxicillin",
        2019,
        0,
        "Amoxicillin 500 mg three times daily for 5 to 7 days is first line for bacterial sinusitis in adults.",
    ),
]


def contract_hits() -> list[Hit]:
    """`CONTRACT_PASSAGES` as the hits a generator is given."""
    hits = []
    for rank, (doc_id, title, year, start, text) in enumerate(CONTRACT_PASSAGES, 1):
        chunk = Chunk(
            id=f"{doc_id}#0",
            doc_id=doc_id,
            ordinal=0,
            text=text,
            section="Recommendations",
            char_start=start,
            char_end=start + len(text),
            token_count=len(text.split()),
        )
        info = DocumentInfo(id=doc_id, title=title, year=year, format="jsonl")
        hits.append(Hit(chunk=chunk, document=info, rank=rank, score=1.0 / rank))
    return hits


class GeneratorContract:
    """Every generator: a name, version, label and a JSON-serialisable identity; `draft` returns a
    `Draft` labelled with the generator, citing the passages by their 1-based number, that the
    answer builder verifies into a cited answer; `on_token` receives the draft's text exactly when
    the generator writes token by token, and changes nothing in the draft.

    Provide a `generator` fixture (it may use `contract_passages`, the hits of
    `CONTRACT_PASSAGES`, and `contract_question`) and a `streams_tokens` fixture (True when the
    generator calls `on_token`). A test calls `draft` at most twice, both times with
    `contract_question` and `contract_passages`: script an LLM's replies for that.
    """

    @pytest.fixture
    def generator(self) -> Generator:
        raise NotImplementedError("a subclass of GeneratorContract provides the `generator` fixture")

    @pytest.fixture
    def streams_tokens(self) -> bool:
        raise NotImplementedError("a subclass of GeneratorContract says whether the generator streams tokens")

    @pytest.fixture
    def contract_passages(self) -> list[Hit]:
        return contract_hits()

    @pytest.fixture
    def contract_question(self) -> str:
        return CONTRACT_QUESTION

    def test_identity(self, generator: Generator) -> None:
        assert isinstance(generator, Generator)
        for value in (generator.name, generator.version, generator.label):
            assert isinstance(value, str) and value
        identity = generator.identity
        assert identity["name"] == generator.name and identity["version"] == generator.version
        json.dumps(identity)  # recorded with every evaluation run

    def test_draft_cites_passages_by_number(
        self, generator: Generator, contract_question: str, contract_passages: list[Hit]
    ) -> None:
        draft = generator.draft(contract_question, contract_passages)
        assert isinstance(draft, Draft)
        assert draft.generator == generator.label
        assert not draft.declined, f"the generator declined relevant passages: {draft.declined}"
        sentences = [s for section in draft.sections for s in section.sentences]
        assert sentences, "the draft has no sentences"
        for sentence in sentences:
            for number in sentence.citations:
                assert isinstance(number, int) and 1 <= number <= len(contract_passages), (
                    f"{sentence.text!r} cites [{number}]; passages are numbered 1..{len(contract_passages)}"
                )
            self.check_spans(sentence, contract_passages)
        assert any(s.citations for s in sentences), "no sentence cites a passage"

    def test_builder_verifies_the_draft(
        self, generator: Generator, contract_question: str, contract_passages: list[Hit]
    ) -> None:
        draft = generator.draft(contract_question, contract_passages)
        builder = AnswerBuilder(AnswerSettings(), statistics=UniformStatistics())
        selection = Selection(contract_passages, contract_passages, contract_passages, None)
        answer = builder.finish(contract_question, draft, selection)
        assert not answer.abstained, answer.abstention_reason
        assert answer.generator == generator.label
        assert any(check.status == "supported" for check in answer.verification)
        shown = {h.chunk.id for h in contract_passages}
        assert answer.references and all(r.chunk_id in shown for r in answer.references)
        # the warfarin guideline is what answers the question
        assert "guide-warfarin#0" in {r.chunk_id for r in answer.references}

    def test_on_token(
        self, generator: Generator, contract_question: str, contract_passages: list[Hit], streams_tokens: bool
    ) -> None:
        pieces: list[str] = []
        streamed = generator.draft(contract_question, contract_passages, on_token=pieces.append)
        if streams_tokens:
            assert len(pieces) > 1, "a streaming generator sends its text in pieces"
            assert "".join(pieces) == streamed.raw_text
        else:
            assert pieces == [], "a generator that does not write token by token never calls on_token"
        plain = generator.draft(contract_question, contract_passages)
        assert streamed == plain, "the draft must not depend on whether tokens were streamed"

    @staticmethod
    def check_spans(sentence: DraftSentence, passages: list[Hit]) -> None:
        """A quoted span lies in one of the passages its sentence cites, at document offsets."""
        for span in sentence.spans:
            located = False
            for number in sentence.citations:
                chunk = passages[number - 1].chunk
                if chunk.char_start <= span.char_start and span.char_end <= chunk.char_end:
                    a, b = span.char_start - chunk.char_start, span.char_end - chunk.char_start
                    located = located or chunk.text[a:b] == span.text
            assert located, f"span {span.text!r} is not at its offsets in any passage {sentence.citations} cites"
