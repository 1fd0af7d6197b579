"""Bounds on what one file may cost: its size, its decompressed size and ratio, and its time.

A file over a limit raises a `LoaderError` subclass (`TooLargeError`, `TimeBudgetError`), which
the ingest pipeline reports for that file and skips; the rest of the run goes on.

- `Limits.check_size(path)`: the file's size on disk against `max_file_bytes`.
- `open_regular(path, limits)`: the only way a loader opens a file. It opens without blocking
  and checks the open descriptor (not the name, which could be swapped in between) is a
  regular file within `max_file_bytes`, so a FIFO, `/dev/zero` or a socket is refused at once
  (`SpecialFileError`) instead of hanging or reading forever.
- `open_gzip_text(path, limits)` / `open_gzip_binary`: a stream over a .gz file that raises once
  more than `max_decompressed_bytes` come out, or more than `max_ratio` times the compressed
  bytes read so far (checked as it streams, so a 2 MB bomb stops after a few MB, never expands
  in memory). A damaged gzip stream raises `CorruptFileError`.
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
import stat
import zlib
from dataclasses import dataclass
from pathlib import Path
from time import monotonic
from typing import IO, TYPE_CHECKING, Any

from rag_oracle.errors import CorruptFileError, SpecialFileError, TimeBudgetError, TooLargeError

if TYPE_CHECKING:
    from rag_oracle.settings import IngestSettings

MIB = 1024 * 1024
# The ratio is judged only past this much output: tiny files compress oddly well.
_RATIO_GRACE = 1 * MIB


def _mib(n: float) -> str:
    return f"{n / MIB:.1f} MiB" if n >= MIB else f"{int(n)} bytes"


@dataclass(frozen=True)
class Limits:
    """What one file may cost. `Limits()` is the defaults of `[ingest]`.

    >>> Limits(max_file_bytes=10 * MIB).max_ratio
    100.0
    """

    max_file_bytes: int = 64 * MIB
    max_decompressed_bytes: int = 256 * MIB
    max_ratio: float = 100.0
    seconds: float = 300.0

    @classmethod
    def from_settings(cls, ingest: IngestSettings) -> Limits:
        """From an `IngestSettings` section."""
        return cls(
            max_file_bytes=int(ingest.max_file_mib * MIB),
            max_decompressed_bytes=int(ingest.max_decompressed_mib * MIB),
            max_ratio=float(ingest.max_ratio),
            seconds=float(ingest.file_seconds),
        )

    def check_size(self, path: Path, size: int | None = None) -> None:
        """Raise TooLargeError when the file (or `size`) is over `max_file_bytes`."""
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


def budget(path: Path, limits: Limits | None, deadline: Deadline | None) -> tuple[Limits, Deadline]:
    """What a loader's `load(path, limits=, deadline=)` works within: defaults for what is None."""
    limits = limits or Limits()
    return limits, deadline or limits.deadline(path)


def special_kind(mode: int) -> str:
    """What a file that is not a regular file is, for a message: 'a FIFO', 'a device', ...; '' if regular."""
    if stat.S_ISREG(mode):
        return ""
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISDIR(mode):
        return "a folder"
    return "not a file"


def open_regular(path: Path, limits: Limits | None = None) -> IO[bytes]:
    """`path` opened for binary reading, refused unless it is a regular file within `max_file_bytes`.

    O_NONBLOCK makes opening a FIFO return at once (a blocking open waits for a writer forever);
    the check is on the open descriptor, so the file cannot be swapped for a FIFO in between.
    """
    limits = limits or Limits()
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(fd)
        kind = special_kind(info.st_mode)
        if kind:
            raise SpecialFileError(path, f"not a regular file: {kind}; only regular files are read")
        limits.check_size(path, info.st_size)
        _set_blocking(fd)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _set_blocking(fd: int) -> None:
    # Reads of a regular file never block, but a descriptor handed on should behave as opened plainly.
    if hasattr(os, "set_blocking"):
        os.set_blocking(fd, True)


def read_regular(path: Path, limits: Limits | None = None) -> bytes:
    """Every byte of a regular file within `max_file_bytes` (see `open_regular`)."""
    limits = limits or Limits()
    with open_regular(path, limits) as fh:
        # Read what the file holds (plus one byte, to see it grew): asking for the limit itself
        # would make the buffer the limit's size, whatever the file's.
        size = os.fstat(fh.fileno()).st_size
        data = fh.read(min(size, limits.max_file_bytes) + 1)
        if len(data) > size:
            data += fh.read(limits.max_file_bytes + 1 - len(data))
    limits.check_size(path, len(data))  # it grew while read
    return data


class _BoundedReader(io.RawIOBase):
    """Decompressed bytes of a gzip stream, refused past the size or ratio limit."""

    def __init__(self, path: Path, limits: Limits) -> None:
        self._path = path
        self._limits = limits
        self._raw = open_regular(path, limits)
        self._gzip = gzip.GzipFile(fileobj=self._raw)
        self._out = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        try:
            data = self._gzip.read(len(buffer))
        except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
            raise CorruptFileError(self._path, f"not a valid gzip file ({exc or type(exc).__name__})") from None
        self._out += len(data)
        limits = self._limits
        if self._out > limits.max_decompressed_bytes:
            raise TooLargeError(
                self._path,
                f"decompresses to more than {_mib(limits.max_decompressed_bytes)}; "
                "raise ingest.max_decompressed_mib if the file is expected",
            )
        # Against the compressed bytes read so far, not the whole file: a bomb is stopped
        # after a few MB of output whatever its size on disk.
        compressed = max(1, self._raw.tell())
        if self._out > _RATIO_GRACE and self._out / compressed > limits.max_ratio:
            raise TooLargeError(
                self._path,
                f"decompresses to more than {limits.max_ratio:g} times its size (a gzip bomb?); "
                "raise ingest.max_ratio if the file is expected",
            )
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        try:
            if hasattr(self, "_gzip"):
                self._gzip.close()
                self._raw.close()
        finally:
            super().close()


def open_gzip_binary(path: Path, limits: Limits | None = None) -> IO[bytes]:
    """A binary stream of the decompressed bytes of `path`, within `limits`."""
    return io.BufferedReader(_BoundedReader(Path(path), limits or Limits()), buffer_size=1 << 16)


def open_gzip_text(
    path: Path, limits: Limits | None = None, encoding: str = "utf-8", errors: str = "strict"
) -> IO[str]:
    """A text stream of the decompressed `path`, within `limits`."""
    return io.TextIOWrapper(open_gzip_binary(path, limits), encoding=encoding, errors=errors)


def open_maybe_gzip(path: Path, limits: Limits | None = None) -> IO[bytes]:
    """A binary stream of `path`'s bytes: decompressed within `limits` for a .gz name, else as stored."""
    if Path(path).suffix.lower() == ".gz":
        return open_gzip_binary(path, limits)
    return open_regular(path, limits)
