"""Request and response bodies of the HTTP API (the OpenAPI schema is generated from these).

Answers, hits, documents and sessions are the library's own models (`rag_oracle.types`,
`rag_oracle.chat`), so the API returns exactly what the Python API returns.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from rag_oracle.chat import MAX_QUESTION_CHARS, SessionInfo
from rag_oracle.retrieve import Filters
from rag_oracle.types import Document, Hit, PatientContext, ReviewStatus


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AnswerOverrides(_Request):
    audience: Literal["clinician", "patient", "researcher"] | None = Field(None, description="Who the answer is for.")
    unsupported_policy: Literal["remove", "flag"] | None = Field(
        None, description="Remove sentences their citations do not support, or keep them flagged."
    )


class RetrieveOverrides(_Request):
    mode: Literal["hybrid", "dense", "bm25"] | None = None


class SettingsOverrides(_Request):
    """The settings a request may change; everything else is the server's."""

    answer: AnswerOverrides | None = None
    retrieve: RetrieveOverrides | None = None

    def as_dict(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class AskRequest(_Request):
    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS, description="The clinical question.")
    filters: Filters | None = Field(None, description="Year range, publication types, sources.")
    settings: SettingsOverrides | None = None
    context: PatientContext | None = Field(
        None, description="The patient the question is about; it becomes the question's population."
    )
    stream: bool = Field(False, description="Answer as server-sent events (as do ?stream=true and Accept).")


class SessionCreate(_Request):
    title: str = Field("", max_length=200, description="Empty: the first question becomes the title.")
    settings: SettingsOverrides | None = Field(None, description="Applied to every turn of the session.")


class MessageCreate(_Request):
    content: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS, description="The question or follow-up.")
    filters: Filters | None = None
    settings: SettingsOverrides | None = Field(None, description="On top of the session's settings, this turn only.")
    context: PatientContext | None = Field(None, description="The patient the question is about.")
    standalone_question: str | None = Field(
        None,
        min_length=1,
        max_length=MAX_QUESTION_CHARS,
        description="The question to search for instead of the follow-up's rewrite (an edited 'Searched as').",
    )
    stream: bool = False


class ReviewRequest(_Request):
    """A reviewer's change of an answer's review status."""

    status: ReviewStatus = Field(description="submitted, under_review, approved or flagged.")
    reviewer: str = Field(min_length=1, max_length=120, description="Who reviews (a name or initials).")
    note: str = Field("", max_length=2000, description="Why: what was checked, or what is wrong.")


class RegenerateRequest(_Request):
    """Answer a stored turn again, in its place (its review goes back to submitted if the answer changed)."""

    standalone_question: str | None = Field(
        None,
        min_length=1,
        max_length=MAX_QUESTION_CHARS,
        description="The question to search for; omitted: the turn's stored standalone question.",
    )
    context: PatientContext | None = Field(
        None, description="The patient; omitted: the one the stored answer was about ({} drops it)."
    )
    settings: SettingsOverrides | None = Field(None, description="On top of the session's settings.")
    filters: Filters | None = None
    stream: bool = False


class SessionList(BaseModel):
    sessions: list[SessionInfo]


class SearchResponse(BaseModel):
    query: str
    hits: list[Hit]


class DocumentResponse(BaseModel):
    requested_id: str = Field(description="The id asked for (may be an alias of a duplicate).")
    id: str = Field(description="The id the document is stored under.")
    document: Document


class Health(BaseModel):
    """What /healthz answers: 200 and `ok` when every check passes; 503 and `starting` while the
    model loads at startup (questions sent meanwhile wait); 503 and `unhealthy` when a check failed.

    Paths and failure details (which may name files) are shown only to callers allowed to see
    them: with an API key, those that send it; without one, clients on this machine.
    """

    status: Literal["ok", "starting", "unhealthy"] = Field(
        description="'starting' (HTTP 503) while the model loads; 'unhealthy' (HTTP 503) when a check failed."
    )
    ready: bool = Field(
        description="The model is loaded and a first question answered: questions are answered without waiting."
    )
    checks: dict[str, Literal["ok", "loading", "failed"]] = Field(
        description="Each check: 'index' (the opened index is whole), 'sessions' (the sessions file answers a "
        "read and takes a write lock), 'model' (loaded at startup: 'loading' until it has, 'failed' if it could "
        "not be; only when the server warms up, as `rag-oracle serve` does)."
    )
    version: str = Field(description="rag-oracle's version.")
    documents: int = Field(description="Documents in the index.")
    chunks: int = Field(description="Passages (chunks) in the index.")
    generator: str = Field(description="Who drafts answers: 'extractive' or 'llm'.")
    auth: bool = Field(description="Whether /v1 routes want an API key.")
    index: str | None = Field(None, description="The index's path (authorised callers only, else null).")
    sessions_db: str | None = Field(None, description="The sessions file's path (authorised callers only).")
    problems: dict[str, str] | None = Field(
        None, description="What each failed check found (authorised callers only; it may name files)."
    )
    workers: int = Field(
        1,
        description="Server processes started (`rag-oracle serve --workers`). With more than one, each answers "
        "/healthz for itself: `ready` is the state of the worker that answered.",
    )
    worker: int | None = Field(
        None, description="The process id of the worker that answered (authorised callers only)."
    )


class ErrorDetail(BaseModel):
    code: str = Field(description="Machine-readable, e.g. invalid_request, session_not_found, rate_limited.")
    message: str = Field(description="What went wrong and what to do.")


class ErrorResponse(BaseModel):
    error: ErrorDetail


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse, "description": description}
    for status, description in {
        400: "Invalid input (empty question, bad filter or setting), or a Host the server does not answer to.",
        401: "API key missing or wrong.",
        403: "A web page of another origin may not change anything here (Origin, Sec-Fetch-Site); "
        "reviewing from another machine needs the server to have an API key.",
        404: "No such session, answer (turn) or document.",
        413: "Request body too large.",
        422: "Request body does not match the schema.",
        429: "Rate limit exceeded; see Retry-After.",
        503: "The index or the sessions file is unavailable.",
    }.items()
}
