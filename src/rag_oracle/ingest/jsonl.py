"""JSONL in the interchange format: one `{"id", "title", "text", ...metadata}` object per line.

`id` becomes the document id unchanged, so relevance judgements written against it can be
scored. A bad line is reported as a warning with its line number and the rest of the file is kept.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from rag_oracle.errors import CorruptFileError, EmptyFileError
from rag_oracle.ingest.base import LoadResult, TextBuilder, make_document
from rag_oracle.ingest.textfile import metadata_from_mapping


class JsonlLoader:
    name = "jsonl"
    suffixes = (".jsonl", ".jsonl.gz")

    def load(self, path: Path) -> LoadResult:
        opener = gzip.open if path.suffix == ".gz" else open
        result = LoadResult()
        lines = 0
        try:
            with opener(path, "rt", encoding="utf-8") as fh:
                for lineno, line in enumerate(fh, 1):
                    if not line.strip():
                        continue
                    lines += 1
                    problem = self._record(line, lineno, path, result)
                    if problem:
                        result.warnings.append(f"{path}:{lineno}: {problem}; line skipped")
        except UnicodeDecodeError as exc:
            raise CorruptFileError(path, f"not UTF-8 text ({exc.reason}); convert it with iconv -t UTF-8") from None
        except (OSError, EOFError) as exc:
            raise CorruptFileError(path, f"cannot read ({exc})") from None
        if lines == 0:
            raise EmptyFileError(path, "file holds no records")
        if not result.documents:
            raise CorruptFileError(path, f"none of its {lines} lines is a usable record: {result.warnings[0]}")
        return result

    def _record(self, line: str, lineno: int, path: Path, result: LoadResult) -> str:
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            return f"invalid JSON ({exc.msg} at column {exc.colno})"
        if not isinstance(record, dict):
            return "a record must be a JSON object"
        text = record.pop("text", None)
        if not isinstance(text, str) or not text.strip():
            return "missing or empty 'text'"
        doc_id = record.pop("id", "")
        title = record.pop("title", "") or ""
        builder = TextBuilder()
        builder.add_section("", [p for p in text.split("\n\n")])
        meta = metadata_from_mapping(record, fmt=self.name, path=path)
        result.documents.append(
            make_document(
                text=builder.text, title=str(title), sections=builder.sections, metadata=meta, doc_id=str(doc_id)
            )
        )
        return ""
