"""The data that crosses stages. Nothing else is passed between ingest, index, retrieve and generate.

All models are frozen pydantic v2 models, so they validate on construction, serialise to JSON
without custom code, and cannot be mutated behind a stage's back.

Ids are stable: a document id is `pmid:…`, `pmcid:…`, `doi:…`, the id given in a JSONL record,
or `sha256:<16 hex>` of the document's normalised text. A chunk id is `<doc_id>#<ordinal>`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Section(_Frozen):
    """A titled span of a document's text (a structured-abstract label, a body section, a page)."""

    title: str = Field("", description="Section heading, e.g. 'METHODS'; empty when untitled.")
    start: int = Field(description="Character offset in Document.text where the section starts.")
    end: int = Field(description="Character offset in Document.text where the section ends (exclusive).")


class DocumentMetadata(_Frozen):
    """Bibliographic facts about a document; every field is optional."""

    format: str = Field("", description="Loader that produced it: pdf, pubmed, jats, markdown, text, jsonl.")
    source_path: str = Field("", description="File the document came from, as given to ingest.")
    year: int | None = Field(None, description="Publication year.")
    authors: list[str] = Field(default_factory=list, description="Author names, 'Last F' style where known.")
    journal: str = Field("", description="Journal title.")
    pmid: str = Field("", description="PubMed id, digits only.")
    pmcid: str = Field("", description="PubMed Central id, e.g. PMC1234567.")
    doi: str = Field("", description="DOI without the https://doi.org/ prefix.")
    url: str = Field("", description="Canonical URL, when known.")
    mesh_terms: list[str] = Field(default_factory=list, description="MeSH descriptor names.")
    publication_types: list[str] = Field(
        default_factory=list, description="e.g. 'Randomized Controlled Trial', 'Review', 'Practice Guideline'."
    )
    source: str = Field("", description="Free-text collection label, e.g. 'Sample guideline summary'.")
    extra: dict[str, object] = Field(default_factory=dict, description="Any other metadata from the input.")


class Document(_Frozen):
    """One ingested document: its full text, where its sections and pages begin, and its metadata."""

    id: str = Field(description="Stable document id (pmid:…, doi:…, a JSONL id, or sha256:…).")
    title: str = Field("", description="Title; may be empty.")
    text: str = Field(description="Full text that chunks are cut from; chunk offsets index into it.")
    sections: list[Section] = Field(
        default_factory=list, description="Titled spans of `text`; chunks never cross a section boundary."
    )
    page_starts: list[int] = Field(
        default_factory=list,
        description="For paged sources (PDF): offset in `text` where page i+1 begins. Empty otherwise.",
    )
    metadata: DocumentMetadata = Field(default_factory=DocumentMetadata)
    content_hash: str = Field(description="sha256 of the normalised title and text; identical documents share it.")

    def page_of(self, offset: int) -> int | None:
        """1-based page number containing character `offset`, or None for unpaged documents."""
        if not self.page_starts:
            return None
        page = 1
        for i, start in enumerate(self.page_starts):
            if start <= offset:
                page = i + 1
            else:
                break
        return page


class Chunk(_Frozen):
    """A passage cut from a document, with the provenance needed to show it in place."""

    id: str = Field(description="`<doc_id>#<ordinal>`.")
    doc_id: str = Field(description="Id of the document it was cut from.")
    ordinal: int = Field(description="Position of the chunk within its document, from 0.")
    text: str = Field(description="Exactly Document.text[char_start:char_end].")
    section: str = Field("", description="Title of the section the chunk lies in.")
    char_start: int = Field(description="Start offset in the document text.")
    char_end: int = Field(description="End offset in the document text (exclusive).")
    page_start: int | None = Field(None, description="First page (1-based) for paged sources.")
    page_end: int | None = Field(None, description="Last page (1-based) for paged sources.")
    token_count: int = Field(description="Length in the embedder's tokens (without special tokens).")


class DocumentInfo(_Frozen):
    """The part of a document a hit or a reference needs to show its source."""

    id: str
    title: str = ""
    year: int | None = None
    pmid: str = ""
    pmcid: str = ""
    doi: str = ""
    source_path: str = ""
    format: str = ""
    publication_types: list[str] = Field(default_factory=list)
    source: str = ""


class Hit(_Frozen):
    """One retrieved chunk with the score of each retriever that found it."""

    chunk: Chunk
    document: DocumentInfo
    rank: int = Field(description="1-based rank in the final list.")
    score: float = Field(description="Final score (RRF score for hybrid, else the retriever's score).")
    dense_score: float | None = Field(None, description="Cosine similarity from the dense index, if it found it.")
    dense_rank: int | None = Field(None, description="1-based rank in the dense list.")
    bm25_score: float | None = Field(None, description="BM25 score, if BM25 found it.")
    bm25_rank: int | None = Field(None, description="1-based rank in the BM25 list.")


class CitedSpan(_Frozen):
    """The exact sentence an answer quotes or paraphrases, located in its document."""

    text: str
    char_start: int = Field(description="Offset in the document text.")
    char_end: int


class Reference(_Frozen):
    """An entry in the numbered reference list. `number` is what [n] markers point at."""

    number: int
    chunk_id: str
    doc_id: str
    title: str = ""
    year: int | None = None
    identifiers: dict[str, str] = Field(
        default_factory=dict, description="pmid, pmcid, doi, file, page: whatever locates the source."
    )
    passage: str = Field(description="The full chunk shown to the generator.")
    cited_spans: list[CitedSpan] = Field(default_factory=list, description="Sentences of the passage the answer used.")
    page_start: int | None = None
    page_end: int | None = None


SectionKind = Literal["direct", "dosing", "safety", "key_points", "conflicts", "evidence_note"]


class AnswerSentence(_Frozen):
    text: str = Field(description="The sentence without its markers.")
    citations: list[int] = Field(description="Reference numbers supporting it.")
    supported: bool = Field(True, description="False when verification flagged it (policy 'flag').")


class SentenceCheck(_Frozen):
    """What citation verification found for one sentence of the draft answer."""

    text: str
    section: str
    status: Literal["supported", "unsupported", "removed"]
    coverage: float = Field(description="Share of the sentence's content words found in its cited passages.")
    unsupported_numbers: list[str] = Field(
        default_factory=list, description="Doses etc. absent from the cited passages."
    )
    invalid_markers: list[int] = Field(default_factory=list, description="Markers naming no passage shown; removed.")
    reasons: list[str] = Field(default_factory=list)


class Conflict(_Frozen):
    """Cited passages that give different values for the same quantity."""

    quantity: str = Field(description="What differs, e.g. 'clonazepam dose (mg/day)'.")
    values: list[str] = Field(description="The differing values as written, one per source.")
    references: list[int] = Field(description="Reference numbers, aligned with `values`.")


class AnswerSection(_Frozen):
    kind: SectionKind
    title: str
    sentences: list[AnswerSentence]


class Answer(_Frozen):
    """A cited answer, or an abstention that says the indexed literature does not answer."""

    question: str
    abstained: bool = Field(description="True when no passage was relevant enough to answer.")
    abstention_reason: str = ""
    sections: list[AnswerSection] = Field(default_factory=list)
    references: list[Reference] = Field(default_factory=list, description="Numbered in order of first citation.")
    hits: list[Hit] = Field(
        default_factory=list,
        description="The retrieved passages the generator was shown (cited or not), in rank order.",
    )
    notes: list[str] = Field(default_factory=list, description="Caveats, e.g. thin evidence.")
    related_questions: list[str] = Field(default_factory=list, description="Follow-up questions the index can answer.")
    conflicts: list[Conflict] = Field(default_factory=list, description="Disagreements between cited sources.")
    verification: list[SentenceCheck] = Field(default_factory=list, description="One entry per draft sentence.")
    decision: Literal["yes", "no", "maybe"] | None = Field(
        None, description="For yes/no questions: the answer's verdict (see generate/decision.py)."
    )
    disclaimer: str = ""
    generator: str = Field("", description="Which generator wrote the answer, with its version.")
    timings_ms: dict[str, float] = Field(default_factory=dict, description="Milliseconds per stage and in total.")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def text(self) -> str:
        """The answer body as plain text with [n] markers (no references)."""
        from rag_oracle.generate.render import answer_body

        return answer_body(self)
