"""Every error rag-oracle raises on purpose, under one root, with how each front end reports it.

Each class carries three attributes that the front ends read instead of matching classes:

- `exit_code`: what the CLI exits with (2 for bad input or a stop; see cli/__init__.py);
- `http_status`: what the HTTP server answers with (4xx: the request is wrong; 5xx: the server
  or something behind it is);
- `code`: a short stable machine-readable name for API clients (`{"error": {"code": ...}}`).

Every message names the thing that is wrong (a file, a value) and what to do about it.
"""

from __future__ import annotations


class RagOracleError(Exception):
    """Root of every error rag-oracle raises on purpose."""

    exit_code: int = 2
    http_status: int = 500
    code: str = "internal_error"


class ConfigError(RagOracleError):
    """A setting has an invalid value, or the project file cannot be read."""

    http_status = 400
    code = "invalid_request"


class MissingDependencyError(RagOracleError):
    """An optional dependency is not installed; the message carries the install hint.

    `extra` names the rag-oracle extra that brings it (see `pyproject.toml`); None means a core
    dependency is missing, so the hint is to reinstall rag-oracle itself.
    """

    code = "missing_dependency"

    def __init__(self, package: str, extra: str | None, purpose: str) -> None:
        self.package = package
        self.extra = extra
        target = f"rag-oracle[{extra}]" if extra else "rag-oracle"
        super().__init__(
            f"{purpose} needs the Python package '{package}', which is not installed. "
            f"Install it with: pip install '{target}'"
        )


# --- ingestion -------------------------------------------------------------------------


class LoaderError(RagOracleError):
    """A file could not be turned into documents. `reason` is a short machine-friendly tag."""

    reason: str = "unreadable"
    http_status = 422
    code = "unreadable_file"

    def __init__(self, path: object, message: str) -> None:
        self.path = str(path)
        super().__init__(f"{self.path}: {message}")


class UnsupportedFormatError(LoaderError):
    reason = "unsupported"
    code = "unsupported_format"


class EmptyFileError(LoaderError):
    reason = "empty"
    code = "empty_file"


class CorruptFileError(LoaderError):
    reason = "corrupt"
    code = "corrupt_file"


class EncryptedFileError(LoaderError):
    reason = "encrypted"
    code = "encrypted_file"


class UnsafeXmlError(LoaderError):
    reason = "unsafe-xml"
    code = "unsafe_xml"


class TooLargeError(LoaderError):
    """A file over a size limit: its size, its decompressed size or its compression ratio."""

    reason = "too-large"
    code = "file_too_large"


class TimeBudgetError(LoaderError):
    """A file that took longer than ingest.file_seconds to read and chunk."""

    reason = "too-slow"
    code = "file_too_slow"


class SpecialFileError(LoaderError):
    """Not a regular file (a FIFO, a device, a socket), a symlink loop or one leading out of the tree."""

    reason = "not-a-file"
    code = "not_a_regular_file"


# --- embedding ---------------------------------------------------------------------------


class EmbedderError(RagOracleError):
    """The embedding model cannot be loaded or used."""

    http_status = 503
    code = "embedder_unavailable"


# --- index -------------------------------------------------------------------------------


class IndexError_(RagOracleError):
    """Base for problems with an on-disk index (named with a trailing _ to not shadow the builtin)."""

    http_status = 503
    code = "index_unavailable"


class IndexNotFoundError(IndexError_):
    pass


class IncompleteIndexError(IndexError_):
    """A directory without a manifest: a build that never finished. It is never opened."""


class IndexCorruptError(IndexError_):
    """Files are missing, or their checksums do not match the manifest."""


class EmbedderMismatchError(IndexError_):
    """The index was built with a different embedder than the one asked for."""


class IndexSettingsMismatchError(IndexError_):
    """Adding to an index with settings (chunking, FAISS spec) that differ from its own."""


class IndexLockedError(IndexError_):
    """Another ingest holds the index's writer lock."""

    http_status = 409
    code = "index_locked"


class IndexWriteError(IndexError_):
    """Writing the next version failed (a full disk, permissions); the index is left as it was."""

    code = "index_write_failed"


class SchemaVersionError(IndexError_):
    """The index was written by an incompatible version of rag-oracle."""


class DocumentNotFoundError(RagOracleError):
    """No document (nor alias of one) in the index has this id."""

    http_status = 404
    code = "document_not_found"


# --- retrieval / generation ----------------------------------------------------------------


class QueryError(RagOracleError):
    """The question or a search parameter is invalid (empty question, k < 1, bad filter)."""

    http_status = 400
    code = "invalid_request"


class PromptError(RagOracleError):
    """A prompt is missing, malformed, uses undeclared variables, or a released version changed."""

    code = "prompt_error"


class LlmError(RagOracleError):
    """The language model could not be reached or used."""

    http_status = 502
    code = "llm_unavailable"


# --- conversations -------------------------------------------------------------------------


class SessionNotFoundError(RagOracleError):
    """No session has this id (it never existed, or it was deleted)."""

    http_status = 404
    code = "session_not_found"


class TurnNotFoundError(RagOracleError):
    """The session has no answer at this seq (no message there, or the user's question)."""

    http_status = 404
    code = "turn_not_found"


class SessionStoreError(RagOracleError):
    """The sessions file cannot be opened, or was written by a newer rag-oracle."""

    http_status = 503
    code = "session_store_unavailable"


# --- evaluation ----------------------------------------------------------------------------


class QuestionFileError(RagOracleError):
    """The questions file is missing, empty or has invalid lines."""

    http_status = 400
    code = "invalid_questions"


class ImportFormatError(RagOracleError):
    """The input does not look like the format named."""

    http_status = 400
    code = "invalid_import"


class RunConfigMismatchError(RagOracleError):
    """Resuming into a run directory made with other settings, index or questions."""

    http_status = 409
    code = "run_mismatch"
