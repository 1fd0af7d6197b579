"""The data that crosses stages. Nothing else is passed between ingest, index, retrieve, generate,
the answer builder, chat, the server and the evaluation.

All models are frozen pydantic v2 models, so they validate on construction, serialise to JSON
without custom code, cannot be mutated behind a stage's back, and survive a JSON round trip
(`Model.model_validate_json(m.model_dump_json()) == m`, tested for every model here).

Ids are stable: a document id is `pmid:…`, `pmcid:…`, `doi:…`, the id given in a JSONL record,
or `sha256:<16 hex>` of the document's normalised text. A chunk id is `<doc_id>#<ordinal>`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field, model_validator

from rag_oracle.errors import QueryError


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
    authors: list[str] = Field(default_factory=list, description="Author names as the source gives them.")
    journal: str = ""


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


StudyType = Literal[
    "guideline",
    "systematic_review",
    "meta_analysis",
    "rct",
    "cohort",
    "case_control",
    "case_report",
    "drug_label",
    "review",
]


class Reference(_Frozen):
    """An entry in the numbered reference list. `number` is what [n] markers point at."""

    number: int
    chunk_id: str = Field(description="The first cited passage of the document.")
    chunk_ids: list[str] = Field(default_factory=list, description="Every cited passage of the document, in order.")
    doc_id: str
    title: str = ""
    year: int | None = None
    identifiers: dict[str, str] = Field(
        default_factory=dict, description="pmid, pmcid, doi, file, page: whatever locates the source."
    )
    passage: str = Field(
        description="The cited passages of the document, in document order (apart ones joined by an ellipsis line)."
    )
    cited_spans: list[CitedSpan] = Field(default_factory=list, description="Sentences of the passage the answer used.")
    page_start: int | None = None
    page_end: int | None = None
    authors: list[str] = Field(default_factory=list, description="Author names as the source gives them.")
    journal: str = ""
    study_type: StudyType | None = Field(
        None, description="What kind of study, from the publication types (answer/evidence.py); None when unknown."
    )
    links: dict[str, str] = Field(
        default_factory=dict, description="pmid, pmcid, doi -> the URL that opens the source (PubMed, PMC, doi.org)."
    )


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
    citations: list[int] = Field(
        default_factory=list, description="Every marker of the draft sentence, as drafted (valid or not)."
    )
    reasons: list[str] = Field(default_factory=list)


class Conflict(_Frozen):
    """Cited passages that give different values for the same quantity."""

    quantity: str = Field(description="What differs, e.g. 'clonazepam dose range (mg/day)'.")
    values: list[str] = Field(description="The differing values as written, one per source.")
    references: list[int] = Field(description="Reference numbers, aligned with `values`.")
    contexts: list[str] = Field(
        default_factory=list, description="One line of context per side (the statement with its scope), aligned."
    )
    kind: str = Field("", description="starting, usual, range, maximum, duration, threshold, step or interval.")
    outlier: bool = Field(False, description="The first side is one source far outside all the others.")


class AnswerSection(_Frozen):
    kind: SectionKind
    title: str
    sentences: list[AnswerSentence]


class Provenance(_Frozen):
    """What produced an answer, so it can be reproduced: every answer carries one."""

    package_version: str = Field(description="rag-oracle version.")
    settings_hash: str = Field(description="sha256 (16 hex) of every setting that shapes the answer.")
    index_fingerprint: str = Field("", description="Hash of the settings the index was built with.")
    index_checksum: str = Field("", description="sha256 of the index's chunk store (which passages it holds).")
    embedder: str = Field("", description="Embedding model id.")
    generator: str = Field("", description="Generator name@version.")
    prompt_id: str | None = Field(None, description="Prompt id (LLM generator), e.g. 'answer'.")
    prompt_version: int | None = Field(None, description="Prompt version (LLM generator).")
    prompt_sha256: str | None = Field(None, description="sha256 of the prompt file (LLM generator).")
    model: str | None = Field(None, description="LLM model name or GGUF file (LLM generator).")


Intent = Literal[
    "start_dose",
    "max_dose",
    "dose",
    "taper",
    "hold",
    "duration",
    "threshold",
    "choice",
    "monitoring",
    "interactions",
    "adverse_effects",
    "yes_no",
    "general",
]


class QuestionAnalysis(_Frozen):
    """What a question is about, read offline (answer/question.py): recorded in every answer."""

    drugs: list[str] = Field(default_factory=list, description="Drugs (or classes) named, canonical, lower case.")
    subject: list[str] = Field(
        default_factory=list, description="The subject as written: drug names, else the most specific topic words."
    )
    topic_terms: list[str] = Field(
        default_factory=list, description="Analysed content words that are neither intent nor population words."
    )
    question_terms: list[str] = Field(default_factory=list, description="Every analysed content word of the question.")
    clearance: tuple[float, float] | None = Field(
        None, description="The creatinine clearance range the question names, [low, high) in mL/min."
    )
    population: list[str] = Field(
        default_factory=list,
        description="children, adults, older adults, pregnancy, renal, hepatic (empty: adults in general).",
    )
    intent: Intent = Field("general", description="What kind of fact the question asks for.")
    yes_no: bool = Field(False, description="Whether it asks yes or no.")
    compares: bool = Field(False, description="Whether it asks about more than one subject side by side.")
    missing: list[str] = Field(
        default_factory=list, description="What the question names that the index never mentions, as written."
    )


class AnswerDates(_Frozen):
    """How current an answer is: the index it was read from and the newest source it cites."""

    index_updated: str = Field("", description="UTC ISO time the index was last written (its manifest).")
    newest_evidence_year: int | None = Field(None, description="Publication year of the newest cited source.")
    oldest_evidence_year: int | None = Field(None, description="Publication year of the oldest cited source.")
    undated_sources: int = Field(0, description="Cited sources with no publication year (the years above omit them).")
    answered_at: str = Field("", description="UTC ISO time the answer was composed.")


AgeGroup = Literal["child", "adult", "older_adult"]
Pregnancy = Literal["pregnant", "breastfeeding"]
RenalFunction = Literal["normal", "mild", "moderate", "severe", "dialysis"]
_RENAL_CLEARANCE = {"mild": (60.0, 89.0), "moderate": (30.0, 59.0), "severe": (15.0, 29.0), "dialysis": (0.0, 14.0)}


class PatientContext(_Frozen):
    """Who the question is about, given beside it (the page's and the API's patient fields).

    It becomes the question's population for retrieval and for the agreement checks: "What is the
    starting dose of clonazepam?" for an older adult is answered as "... in older adults"
    (answer/context.py). Every field is optional; an empty context changes nothing.
    """

    age_group: AgeGroup | None = Field(None, description="child (under 18), adult, or older_adult (65 and over).")
    pregnancy: Pregnancy | None = Field(None, description="pregnant or breastfeeding; None when neither applies.")
    renal_function: RenalFunction | None = Field(
        None,
        description="normal, or impairment by creatinine clearance: mild 60-89, moderate 30-59, severe 15-29 "
        "mL/min, dialysis (below 15).",
    )
    creatinine_clearance: float | None = Field(
        None, ge=0, le=250, description="Measured creatinine clearance in mL/min (more precise than renal_function)."
    )

    @property
    def empty(self) -> bool:
        return not (self.age_group or self.pregnancy or self.renal_function or self.creatinine_clearance is not None)

    def clearance(self) -> tuple[float, float] | None:
        """The creatinine clearance range in mL/min this context gives, if any."""
        if self.creatinine_clearance is not None:
            return (self.creatinine_clearance, self.creatinine_clearance)
        return _RENAL_CLEARANCE.get(self.renal_function or "")

    def labels(self) -> list[str]:
        """Readable parts for an answer header: ['Older adult', 'Pregnant', 'CrCl 40 mL/min']."""
        out = []
        if self.age_group:
            out.append({"child": "Child", "adult": "Adult", "older_adult": "Older adult (65+)"}[self.age_group])
        if self.pregnancy:
            out.append(self.pregnancy.capitalize())
        if self.creatinine_clearance is not None:
            out.append(f"CrCl {self.creatinine_clearance:g} mL/min")
        elif self.renal_function == "normal":
            out.append("Normal renal function")
        elif self.renal_function:
            low, high = _RENAL_CLEARANCE[self.renal_function]
            out.append(f"{self.renal_function.capitalize()} renal impairment (CrCl {low:g}-{high:g} mL/min)")
        return out


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
    coverage: str = Field(
        "", description="What part of the question the index does not cover, shown above the answer; empty if none."
    )
    analysis: QuestionAnalysis | None = Field(None, description="The question's subject, population and intent.")
    related_questions: list[str] = Field(default_factory=list, description="Follow-up questions the index can answer.")
    conflicts: list[Conflict] = Field(default_factory=list, description="Disagreements between cited sources.")
    verification: list[SentenceCheck] = Field(default_factory=list, description="One entry per draft sentence.")
    decision: Literal["yes", "no", "maybe"] | None = Field(
        None, description="For yes/no questions: the answer's verdict (see answer/decision.py)."
    )
    disclaimer: str = ""
    generator: str = Field("", description="Which generator wrote the answer, with its version.")
    provenance: Provenance | None = Field(None, description="What produced the answer (settings, index, prompt).")
    timings_ms: dict[str, float] = Field(default_factory=dict, description="Milliseconds per stage and in total.")
    verdict: str = Field(
        "",
        description="The badge for a yes/no question the answer decides, worded as the question asks "
        "('Not recommended', 'Safe'); empty when the answer does not decide (answer/decision.py).",
    )
    dates: AnswerDates | None = Field(
        None, description="When the index was built and how recent the cited evidence is."
    )
    patient_context: PatientContext | None = Field(
        None, description="The patient the question was asked about; it became the question's population."
    )
    audience: Literal["clinician", "patient", "researcher"] = Field(
        "clinician", description="Who the answer was written for (the patient audience has plain headings)."
    )

    @model_validator(mode="before")
    @classmethod
    def _drop_computed(cls, data: object) -> object:
        # `text` is computed from the sections; a dump carries it, and reading the dump back must work.
        if isinstance(data, dict) and "text" in data:
            data = {k: v for k, v in data.items() if k != "text"}
        return data

    @computed_field  # type: ignore[prop-decorator]
    @property
    def text(self) -> str:
        """The answer body as plain text with [n] markers (no references)."""
        return self.body()

    def body(self, escape: Callable[[str], str] = str) -> str:
        """The answer body with [n] markers, every piece of text taken from documents (sentences,
        titles, conflicting values and their contexts) passed through `escape` (e.g.
        `text.untrusted.plain_markdown` for Markdown output); `text` is `body()`."""
        if self.abstained:
            return escape(self.abstention_reason)
        blocks = []
        for section in self.sections:
            if section.kind == "direct":
                blocks.append(" ".join(f"{escape(s.text)} {_markers(s.citations)}" for s in section.sentences))
                if self.conflicts:
                    blocks.append(conflicts_block(self.conflicts, escape))
            else:
                lines = "\n".join(f"- {escape(s.text)} {_markers(s.citations)}" for s in section.sentences)
                blocks.append(f"{escape(section.title)}\n{lines}")
        return "\n\n".join(blocks)


def _markers(numbers: list[int]) -> str:
    return "".join(f"[{n}]" for n in numbers)


def conflicts_block(conflicts: list[Conflict], escape: Callable[[str], str] = str) -> str:
    """The "Conflicting evidence" block of an answer body (document text through `escape`)."""
    lines = ["Conflicting evidence"]
    for c in conflicts:
        sides = "; ".join(f"{escape(v)} {_markers([n])}" for v, n in zip(c.values, c.references, strict=True))
        quantity = escape(c.quantity)
        if c.outlier:
            lines.append(f"- {quantity}: {sides}. The far-out value is not stated in this answer.")
        else:
            lines.append(f"- The sources give different values for {quantity}: {sides}.")
        for context, n in zip(c.contexts, c.references, strict=False):
            lines.append(f"  {_markers([n])} \u201c{escape(context)}\u201d")
    return "\n".join(lines)


# --- what a generator returns: a draft, finished by the answer builder ------------------------------


class DraftSentence(_Frozen):
    """A sentence of a draft with the passages it cites, numbered as the generator saw them (1-based)."""

    text: str = Field(description="The sentence without its markers.")
    citations: list[int] = Field(default_factory=list, description="Passage numbers as shown, 1-based.")
    spans: list[CitedSpan] = Field(
        default_factory=list, description="Where in the cited passages it was quoted from, when known."
    )


class DraftSection(_Frozen):
    kind: SectionKind
    title: str
    sentences: list[DraftSentence]


class Draft(_Frozen):
    """What a generator writes: sections of cited sentences. Nothing in it has been checked yet;
    the answer builder verifies every sentence before anyone reads it."""

    sections: list[DraftSection] = Field(default_factory=list)
    related_questions: list[str] = Field(default_factory=list, description="The generator's own follow-ups.")
    raw_text: str = Field("", description="The model's output as written (LLM generators); empty otherwise.")
    generator: str = Field(description="name@version of the generator that wrote it.")
    declined: str = Field("", description="Non-empty when the generator found nothing to say from the passages: why.")


# --- retrieval filters ------------------------------------------------------------------------------


class Filters(_Frozen):
    """Metadata filters: year range, publication type, source. Applied inside the search, not after
    it, so a filtered search still returns k results when k exist."""

    year_min: int | None = Field(None, description="Keep documents published in or after this year.")
    year_max: int | None = Field(None, description="Keep documents published in or before this year.")
    publication_types: list[str] = Field(
        default_factory=list, description="Keep documents with any of these types (case-insensitive)."
    )
    sources: list[str] = Field(
        default_factory=list,
        description="Keep documents whose format (pdf, pubmed, jats, markdown, text, jsonl), source label "
        "or file path contains any of these (case-insensitive).",
    )
    grades: list[str] = Field(
        default_factory=list,
        description="Keep documents of any of these evidence grades (text/publication.GRADES: guideline, "
        "systematic_review, rct, observational, case_report, drug_label, review, other), read from their "
        "publication types.",
    )

    @model_validator(mode="after")
    def _check(self) -> Filters:
        if self.grades:
            from rag_oracle.text.publication import check_grades

            object.__setattr__(self, "grades", check_grades(self.grades))
        if self.year_min is not None and self.year_max is not None and self.year_min > self.year_max:
            raise QueryError(f"year range is empty: year_min {self.year_min} > year_max {self.year_max}")
        return self

    @property
    def active(self) -> bool:
        return bool(self.year_min or self.year_max or self.publication_types or self.sources or self.grades)

    def accepts(self, doc: Document) -> bool:
        meta = doc.metadata
        if self.year_min is not None and (meta.year is None or meta.year < self.year_min):
            return False
        if self.year_max is not None and (meta.year is None or meta.year > self.year_max):
            return False
        if self.publication_types:
            wanted = {t.lower() for t in self.publication_types}
            if not wanted & {t.lower() for t in meta.publication_types}:
                return False
        if self.sources:
            haystack = " ".join((meta.format, meta.source, meta.source_path)).lower()
            if not any(s.lower() in haystack for s in self.sources):
                return False
        if self.grades:
            from rag_oracle.text.publication import evidence_grade

            if evidence_grade(meta.publication_types) not in self.grades:
                return False
        return True


# --- conversations ----------------------------------------------------------------------------------


class Exchange(_Frozen):
    """One earlier turn of a conversation, as a follow-up rewriter sees it.

    `standalone` is the question retrieval actually ran for that turn (None when unknown, e.g.
    for a conversation replayed by an OpenAI-compatible client); `answer` is the answer body.
    """

    question: str
    standalone: str | None = None
    answer: str = ""

    @property
    def resolved(self) -> str:
        """The standalone question when known, else the question as asked."""
        return self.standalone or self.question


ReviewStatus = Literal["submitted", "under_review", "approved", "flagged"]


class ReviewEvent(_Frozen):
    """One change of an answer's review status: who, when, why."""

    status: ReviewStatus
    reviewer: str = Field("", description="Who changed it; empty for a change the system made.")
    note: str = ""
    at: str = Field(description="ISO 8601 UTC timestamp.")


class Review(_Frozen):
    """Where a stored answer stands: submitted (every new answer), under review, approved or flagged.

    `history` holds every change, oldest first; the other fields repeat the latest. An approved
    answer regenerated after the index changed goes back to submitted (a system event says why).
    """

    status: ReviewStatus = "submitted"
    reviewer: str = ""
    note: str = ""
    reviewed_at: str | None = Field(None, description="When a reviewer last changed it; None if never.")
    history: list[ReviewEvent] = Field(default_factory=list)


class Turn(_Frozen):
    """One answered question: the message as typed, the question retrieval ran for, the answer."""

    session_id: str | None = Field(None, description="The session the turn was stored in; None for one-off asks.")
    seq: int | None = Field(None, description="The stored answer's position in its session.")
    question: str = Field(description="The message as typed.")
    standalone_question: str = Field(description="The question retrieval ran for (a follow-up rewritten).")
    answer: Answer
    review: Review | None = Field(None, description="A stored answer's review status; None for one-off asks.")


class ChatMessage(_Frozen):
    """One message of a session: the user's question or the assistant's answer."""

    seq: int = Field(description="Position in the session, from 1.")
    role: Literal["user", "assistant"]
    content: str = Field(description="The question as typed, or the answer body with [n] markers.")
    standalone_question: str | None = Field(
        None, description="User messages: the question retrieval ran for (the follow-up rewritten)."
    )
    answer: Answer | None = Field(None, description="Assistant messages: the full cited answer.")
    created_at: str = Field(description="ISO 8601 UTC timestamp.")
    review: Review | None = Field(None, description="Assistant messages: the answer's review status.")


class SessionInfo(_Frozen):
    """A session without its messages (what a list of sessions shows)."""

    id: str
    created_at: str = Field(description="ISO 8601 UTC timestamp.")
    updated_at: str = Field(description="Time of the last message, or of creation.")
    title: str = Field("", description="The first question unless given.")
    index_path: str = Field("", description="The index the session was started against.")
    settings: dict[str, Any] = Field(
        default_factory=dict, description="Settings overrides applied to every turn, e.g. the audience."
    )
    message_count: int = 0


class Session(SessionInfo):
    """A session with every message, in order."""

    messages: list[ChatMessage] = Field(default_factory=list)


# --- ingestion reports ------------------------------------------------------------------------------

IngestStatus = Literal["ingested", "skipped", "failed"]


class FileReport(_Frozen):
    """What ingest did with one input file."""

    path: str = Field(description="The file, as found under the paths given to ingest.")
    status: IngestStatus = Field(
        description="ingested: documents were added or replaced; skipped: nothing to add (unchanged file, "
        "duplicates, unsupported format); failed: missing, unreadable, empty, corrupt or encrypted."
    )
    reason: str = Field("", description="Why it was skipped or failed, e.g. 'corrupt: not a readable PDF'.")
    documents: int = Field(0, description="Documents written from this file, new or replacing an earlier version.")
    chunks: int = Field(0, description="Chunks cut from those documents.")
    duplicates: int = Field(0, description="Documents whose exact text was already indexed (stored once).")
    warnings: list[str] = Field(
        default_factory=list, description="Things a user should know, e.g. a document replaced by a new version."
    )
    sha256: str = Field("", description="sha256 of the file's bytes; a file already ingested is skipped next time.")


class IngestReport(_Frozen):
    """What one ingest run did to an index: per file, in total, and how long each phase took."""

    index_path: str = Field(description="The index directory written to.")
    files: list[FileReport] = Field(default_factory=list, description="One entry per input file, in reading order.")
    documents_added: int = Field(0, description="Documents new to the index.")
    documents_replaced: int = Field(
        0, description="Documents already indexed under the same id with other text, replaced by the new version."
    )
    documents_removed: int = Field(
        0, description="Documents whose new text equals another stored document's; now stored once, as an alias."
    )
    chunks_added: int = Field(0, description="Chunks written (of new and of replacing documents).")
    chunks_removed: int = Field(0, description="Chunks of replaced or removed documents dropped from the index.")
    tokens_added: int = Field(0, description="Embedder tokens in the chunks written.")
    duplicates: int = Field(0, description="Documents not added because their exact text was already indexed.")
    total_documents: int = Field(0, description="Documents in the index after the run.")
    total_chunks: int = Field(0, description="Chunks in the index after the run.")
    seconds: dict[str, float] = Field(
        default_factory=dict, description="Wall time per phase: read_chunk, embed, write (phases that ran)."
    )
    embed_cache: dict[str, int] = Field(
        default_factory=dict, description="Embedding cache hits and misses, when the embedder has a cache."
    )

    def count(self, status: IngestStatus) -> int:
        """How many files ended with this status."""
        return sum(1 for f in self.files if f.status == status)

    @property
    def exit_code(self) -> int:
        """0 when no file failed; 1 when at least one file failed (the rest was still ingested)."""
        return 1 if self.count("failed") else 0

    def summary(self) -> str:
        """One line for a terminal: files by status, what was added, what the index holds now."""
        changed = f", {self.documents_replaced} replaced" if self.documents_replaced else ""
        changed += f", {self.documents_removed} removed" if self.documents_removed else ""
        return (
            f"files: {self.count('ingested')} ingested, {self.count('skipped')} skipped, "
            f"{self.count('failed')} failed | added {self.documents_added} documents, {self.chunks_added} chunks "
            f"({self.duplicates} duplicate documents not added{changed}) | index {self.index_path}: "
            f"{self.total_documents} documents, {self.total_chunks} chunks"
        )


class RemoveReport(_Frozen):
    """What `rag-oracle index remove` (`rag_oracle.ingest.pipeline.remove`) took out of an index."""

    index_path: str = Field(description="The index directory written to.")
    documents_removed: list[str] = Field(default_factory=list, description="Ids of the documents removed.")
    aliases_removed: list[str] = Field(
        default_factory=list, description="Ids that named a duplicate stored under another id, no longer resolvable."
    )
    chunks_removed: int = Field(0, description="Chunks dropped with those documents.")
    sources_forgotten: list[str] = Field(
        default_factory=list,
        description="Source files no longer recorded as ingested, so ingesting one again reads it.",
    )
    total_documents: int = Field(0, description="Documents in the index after the removal.")
    total_chunks: int = Field(0, description="Chunks in the index after the removal.")

    def summary(self) -> str:
        aliases = f" and {len(self.aliases_removed)} aliases" if self.aliases_removed else ""
        return (
            f"removed {len(self.documents_removed)} documents{aliases} ({self.chunks_removed} chunks) | "
            f"index {self.index_path}: {self.total_documents} documents, {self.total_chunks} chunks"
        )
