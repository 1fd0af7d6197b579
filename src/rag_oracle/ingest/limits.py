"""Bounds on what one file may cost: its size, its decompressed size and ratio, and its time.

A file over a limit raises a `LoaderError` subclass (`TooLargeError`, `TimeBudgetError`), which
the ingest pipeline reports for that file and skips; the rest of the run goes on.

- `Limits.check_size(path)`: the file's size on disk against `max_file_bytes`.
- `open_gzip_text(path, limits)`: a text stream over a .gz file that raises once more than
  `max_decompressed_bytes` come out, or more than `max_ratio` times the compressed size (read as
  it streams, so a 2 MB bomb never expands in memory).
- `limits.deadline(path)`: a `Deadline`; loaders and the chunker call `check()` between records,
  pages and chunks, so a file that takes longer than `seconds` stops at the next check.

Example::

    limits = Limits.from_settings(settings.ingest)
    limits.check_size(path)
    deadline = limits.deadline(path)
    with open_gzip_text(path, limits) as fh:
        for line in fh:
            deadline.check()
"""

from __future__ import annotations

import gzip
import io
import os
from dataclasses import dataclass
from pathlib import Path
from time import monotonic
from typing import IO

from rag_oracle.errors import TimeBudgetError, TooLargeError

MIB = 1024 * 1024


def _mib(n: float) -> str:
    return f"{n / MIB:.1f} MiB" if n >= MIB else f"{int(n)} bytes"


@dataclass(frozen=True)
class Limits:
    """What one file may cost. `Limits()` is the defaults of `[ingest]`."""

    max_file_bytes: int = 64 * MIB
    max_decompressed_bytes: int = 256 * MIB
    max_ratio: float = 100.0
    seconds: float = 300.0

    @classmethod
    def from_settings(cls, ingest) -> Limits:
        """From an `IngestSettings` section."""
        return cls(
            max_file_bytes=int(ingest.max_file_mib * MIB),
            max_decompressed_bytes=int(ingest.max_decompressed_mib * MIB),
            max_ratio=float(ingest.max_ratio),
            seconds=float(ingest.file_seconds),
        )

    def check_size(self, path: Path, size: int | None = None) -> None:
        size = os.stat(path).st_size if size is None else size
        if size > self.max_file_bytes:
            raise TooLargeError(
                path,
                f"{_mib(size)} is over the {_mib(self.max_file_bytes)} limit per file; "
                "raise it with --max-file-mib (ingest.max_file_mib) if the file is expected",
            )

    def deadline(self, path: Path) -> Deadline:
        return Deadline(path, self.seconds)


class Deadline:
    """Raises TimeBudgetError from `check()` once `seconds` have passed since it was made."""

    def __init__(self, path: Path, seconds: float) -> None:
        self.path = path
        self.seconds = seconds
        self._end = monotonic() + seconds

    def check(self) -> None:
        if monotonic() > self._end:
            raise TimeBudgetError(
                self.path,
                f"took more than {self.seconds:g} s to read; raise ingest.file_seconds if the file is expected",
            )


class _BoundedReader(io.RawIOBase):
    """Decompressed bytes of a gzip stream, refused past the size or ratio limit."""

    def __init__(self, path: Path, limits: Limits) -> None:
        self._path = path
        self._limits = limits
        self._compressed = max(1, os.stat(path).st_size)
        self._raw = open(path, "rb")  # noqa: SIM115 - closed in close()
        self._gzip = gzip.GzipFile(fileobj=self._raw)
        self._out = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._gzip.read(len(buffer))
        self._out += len(data)
        limits = self._limits
        if self._out > limits.max_decompressed_bytes:
            raise TooLargeError(
                self._path,
                f"decompresses to more than {_mib(limits.max_decompressed_bytes)}; "
                "raise ingest.max_decompressed_mib if the file is expected",
            )
        if self._out > 1 * MIB and self._out / self._compressed > limits.max_ratio:
            raise TooLargeError(
                self._path,
                f"decompresses more than {limits.max_ratio:g} times its size (a gzip bomb?); "
                "raise ingest.max_ratio if the file is expected",
            )
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        try:
            self._gzip.close()
            self._raw.close()
        finally:
            super().close()


def open_gzip_binary(path: Path, limits: Limits) -> IO[bytes]:
    """A binary stream of the decompressed bytes of `path`, within `limits`."""
    return io.BufferedReader(_BoundedReader(Path(path), limits), buffer_size=1 << 16)


def open_gzip_text(path: Path, limits: Limits, encoding: str = "utf-8", errors: str = "strict") -> IO[str]:
    """A text stream of the decompressed `path`, within `limits`."""
    return io.TextIOWrapper(open_gzip_binary(path, limits), encoding=encoding, errors=errors)
