"""JSONL in the interchange format: one `{"id", "title", "text", ...metadata}` object per line.

`id` becomes the document id unchanged, so relevance judgements written against it can be
scored; a number id becomes its digits, and a null or absent id gets the id any document gets
(pmid:, doi:, or a content hash). A bad line is reported as a warning with its line number and
the rest of the file is kept: invalid JSON, a line that is not UTF-8, a field of the wrong type
(see `metadata_from_mapping` for what is coerced rather than refused).

The file is read as bytes and each line decoded on its own, so one bad byte costs one line; a
UTF-8 byte order mark before the first line is dropped. A .gz file is read through the bounded
stream of `ingest/limits.py`, so a gzip bomb stops with TooLargeError after a few MB.
"""

from __future__ import annotations

import json
from pathlib import Path

from rag_oracle.errors import CorruptFileError, EmptyFileError
from rag_oracle.ingest.base import LoadResult, TextBuilder, make_document
from rag_oracle.ingest.limits import Deadline, Limits, budget, open_maybe_gzip
from rag_oracle.ingest.textfile import FieldError, coerce_id, coerce_text, metadata_from_mapping

_BOM = b"\xef\xbb\xbf"


class JsonlLoader:
    """One document per JSON object line.

    >>> JsonlLoader().load(Path("records.jsonl")).documents[0].id  # doctest: +SKIP
    'doc-amox'
    """

    name = "jsonl"
    suffixes = (".jsonl", ".jsonl.gz")

    def load(self, path: Path, *, limits: Limits | None = None, deadline: Deadline | None = None) -> LoadResult:
        limits, deadline = budget(path, limits, deadline)
        result = LoadResult()
        lines = 0
        try:
            with open_maybe_gzip(path, limits) as fh:
                for lineno, raw in enumerate(fh, 1):
                    deadline.check()
                    if lineno == 1 and raw.startswith(_BOM):
                        raw = raw[len(_BOM) :]
                    if not raw.strip():
                        continue
                    lines += 1
                    problem = self._record(raw, path, result)
                    if problem:
                        result.warnings.append(f"{path}:{lineno}: {problem}; line skipped")
        except (OSError, EOFError) as exc:
            raise CorruptFileError(path, f"cannot read ({exc})") from None
        if lines == 0:
            raise EmptyFileError(path, "file holds no records")
        if not result.documents:
            raise CorruptFileError(path, f"none of its {lines} lines is a usable record: {result.warnings[0]}")
        return result

    def _record(self, raw: bytes, path: Path, result: LoadResult) -> str:
        """Add the line's document to `result`; return what is wrong with the line, or ''."""
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            return f"not UTF-8 (byte {exc.start + 1})"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            return f"invalid JSON ({exc.msg} at column {exc.colno})"
        except RecursionError:
            return "invalid JSON (nested too deeply)"
        if not isinstance(record, dict):
            return "a record must be a JSON object"
        try:
            text = coerce_text("text", record.pop("text", None))
            if not text.strip():
                return "missing or empty 'text'"
            doc_id = coerce_id(record.pop("id", None))
            title = coerce_text("title", record.pop("title", None))
            meta = metadata_from_mapping(record, fmt=self.name, path=path)
        except FieldError as exc:
            return str(exc)
        builder = TextBuilder()
        builder.add_section("", text.split("\n\n"))
        result.documents.append(
            make_document(text=builder.text, title=title, sections=builder.sections, metadata=meta, doc_id=doc_id)
        )
        return ""
