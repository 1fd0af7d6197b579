"""One error root for the library; the CLI and the server map these to messages and codes.

Every message names the thing that is wrong (a file, a value) and what to do about it.
"""

from __future__ import annotations


class RagOracleError(Exception):
    """Root of every error rag-oracle raises on purpose."""

    exit_code: int = 2


class ConfigError(RagOracleError):
    """A setting has an invalid value, or the project file cannot be read."""


class MissingDependencyError(RagOracleError):
    """An optional dependency is not installed; the message carries the install hint."""

    def __init__(self, package: str, extra: str, purpose: str) -> None:
        super().__init__(
            f"{purpose} needs the Python package '{package}', which is not installed. "
            f"Install it with: pip install 'rag-oracle[{extra}]'"
        )


# --- ingestion -------------------------------------------------------------------------


class LoaderError(RagOracleError):
    """A file could not be turned into documents. `reason` is a short machine-friendly tag."""

    reason: str = "unreadable"

    def __init__(self, path: object, message: str) -> None:
        self.path = str(path)
        super().__init__(f"{self.path}: {message}")


class UnsupportedFormatError(LoaderError):
    reason = "unsupported"


class EmptyFileError(LoaderError):
    reason = "empty"


class CorruptFileError(LoaderError):
    reason = "corrupt"


class EncryptedFileError(LoaderError):
    reason = "encrypted"


class UnsafeXmlError(LoaderError):
    reason = "unsafe-xml"


# --- embedding ---------------------------------------------------------------------------


class EmbedderError(RagOracleError):
    """The embedding model cannot be loaded or used."""


# --- index -------------------------------------------------------------------------------


class IndexError_(RagOracleError):
    """Base for problems with an on-disk index (named with a trailing _ to not shadow the builtin)."""


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


class SchemaVersionError(IndexError_):
    """The index was written by an incompatible version of rag-oracle."""


# --- retrieval / generation ----------------------------------------------------------------


class QueryError(RagOracleError):
    """The question or a search parameter is invalid (empty question, k < 1, bad filter)."""
