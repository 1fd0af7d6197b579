"""Issue 11, loaders: each bad input the campaign found, reproduced, with what a user now gets.

Gzip bombs run in a subprocess whose address space is capped, so a loader that expands the
bomb fails fast with MemoryError (instead of taking the test machine's memory), and whose peak
RSS is measured. The missing-`cryptography` case also runs in a subprocess, where importing
it is made to fail.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import textwrap
import zlib
from pathlib import Path

import pytest

from rag_oracle.errors import CorruptFileError, EncryptedFileError
from rag_oracle.ingest.detect import loader_for
from rag_oracle.ingest.textfile import MarkdownLoader

MIB = 1 << 20


def load(path: Path):
    return loader_for(path).load(path)


def write_jsonl(path: Path, *records: object) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


# --- gzip bombs ------------------------------------------------------------------------


def gzip_bomb(prefix: bytes, mib_of_zeros: int = 2000) -> bytes:
    """A valid single-stream gzip file: `prefix`, then `mib_of_zeros` MiB of NUL bytes (~1 KB per MiB).

    Built from one compressed MiB repeated: after a full flush deflate starts afresh, so the
    same input compresses to the same self-contained block.
    """
    zeros = bytes(MIB)
    head = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = head.compress(prefix) + head.flush(zlib.Z_FULL_FLUSH)
    body = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = body.compress(zeros) + body.flush(zlib.Z_FULL_FLUSH)
    last = body.flush()  # the final, empty block
    crc = zlib.crc32(prefix)
    for _ in range(mib_of_zeros):
        crc = zlib.crc32(zeros, crc)
    size = (len(prefix) + mib_of_zeros * MIB) & 0xFFFFFFFF
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    return header + first + block * mib_of_zeros + last + struct.pack("<II", crc, size)


_MEASURE = textwrap.dedent(
    """
    import json, resource, sys
    from pathlib import Path

    cap = 1536 * 1024 * 1024  # an expanded 2 GB bomb cannot fit: MemoryError, fast
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    from rag_oracle.ingest.detect import loader_for

    path = Path(sys.argv[1])
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        loader_for(path).load(path)
        outcome = "loaded"
    except BaseException as exc:
        outcome = f"{type(exc).__name__}: {exc}"
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"outcome": outcome, "growth_mib": (after - before) / 1024}))
    """
)


@pytest.fixture(scope="module")
def bombs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("bombs")
    jsonl = root / "records.jsonl.gz"
    jsonl.write_bytes(gzip_bomb(b'{"id": "a", "text": "'))
    xml = root / "pubmed24n0001.xml.gz"
    xml.write_bytes(gzip_bomb(b'<?xml version="1.0"?>\n<PubmedArticleSet><PubmedArticle>'))
    return {"jsonl": jsonl, "xml": xml}


@pytest.mark.skipif(sys.platform != "linux", reason="ru_maxrss in KiB and RLIMIT_AS as on Linux")
@pytest.mark.parametrize("kind", ["jsonl", "xml"])
def test_gzip_bomb_is_refused_without_expanding(bombs: dict[str, Path], kind: str) -> None:
    path = bombs[kind]
    assert path.stat().st_size < 2.5 * MIB
    run = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(path)], capture_output=True, text=True, timeout=120, check=False
    )
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["outcome"].startswith("TooLargeError: "), result["outcome"]
    assert str(path) in result["outcome"] and "gzip bomb" in result["outcome"]
    assert result["growth_mib"] < 200, f"peak RSS grew by {result['growth_mib']:.0f} MiB"


# --- wrongly typed metadata ------------------------------------------------------------


def test_jsonl_number_authors_are_coerced(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "r.jsonl",
        {"id": "a", "text": "Warfarin is held 5 days before surgery.", "authors": [1, 2], "year": "2019"},
        {"id": "b", "text": "Heparin bridging is rarely needed.", "authors": "Okafor A", "pmid": 123},
    )
    a, b = load(path).documents
    assert a.metadata.authors == ["1", "2"] and a.metadata.year == 2019
    assert b.metadata.authors == ["Okafor A"] and b.metadata.pmid == "123"


def test_jsonl_object_authors_skip_the_line_with_the_field_named(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "r.jsonl",
        {"id": "a", "text": "Warfarin is held 5 days before surgery."},
        {"id": "b", "text": "Heparin bridging is rarely needed.", "authors": {"name": "x"}},
    )
    result = load(path)
    assert [d.id for d in result.documents] == ["a"]
    assert result.warnings == [f"{path}:2: field 'authors': expected a list of names, got an object; line skipped"]


def test_front_matter_object_authors_fail_the_file_naming_the_field(tmp_path: Path) -> None:
    path = tmp_path / "guide.md"
    path.write_text("---\nauthors: {name: x}\n---\n# Warfarin\n\nHold warfarin 5 days before surgery.\n")
    with pytest.raises(CorruptFileError, match="field 'authors': expected a list of names, got an object") as caught:
        MarkdownLoader().load(path)
    assert caught.value.path == str(path)


def test_front_matter_coerces_what_a_user_would_expect(tmp_path: Path) -> None:
    path = tmp_path / "guide.md"
    path.write_text(
        "---\nid: 42\nauthors: Okafor A\nyear: 2019-05-01\npmid: 123\nmesh: Warfarin\n---\n"
        "# Warfarin\n\nHold warfarin 5 days before surgery.\n"
    )
    [doc] = MarkdownLoader().load(path).documents
    assert doc.id == "42"
    assert doc.metadata.authors == ["Okafor A"] and doc.metadata.year == 2019
    assert doc.metadata.pmid == "123" and doc.metadata.mesh_terms == ["Warfarin"]


# --- ids -------------------------------------------------------------------------------


def test_jsonl_null_ids_get_derived_ids_and_do_not_collide(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "r.jsonl",
        {"id": None, "text": "Warfarin is held 5 days before surgery.", "pmid": "31000001"},
        {"id": None, "text": "Heparin bridging is rarely needed.", "doi": "10.5555/X.1"},
        {"id": None, "text": "Vitamin K reverses warfarin."},
        {"text": "Check the INR the day before surgery."},
        {"id": 7, "text": "Resume warfarin the evening after surgery."},
    )
    docs = load(path).documents
    ids = [d.id for d in docs]
    assert ids[:2] == ["pmid:31000001", "doi:10.5555/x.1"]
    assert ids[2].startswith("sha256:") and ids[3].startswith("sha256:") and ids[2] != ids[3]
    assert ids[4] == "7"


@pytest.mark.parametrize(("value", "kind"), [({"v": 1}, "an object"), ([1], "a list"), (True, "true")])
def test_jsonl_object_id_is_refused_with_field_and_line(tmp_path: Path, value: object, kind: str) -> None:
    path = write_jsonl(
        tmp_path / "r.jsonl",
        {"id": "a", "text": "Warfarin is held 5 days before surgery."},
        {"id": value, "text": "Heparin bridging is rarely needed."},
    )
    result = load(path)
    assert [d.id for d in result.documents] == ["a"]
    assert result.warnings == [f"{path}:2: field 'id': expected a text or a number, got {kind}; line skipped"]


# --- encodings -------------------------------------------------------------------------


def test_jsonl_invalid_utf8_costs_one_line(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    good = json.dumps({"id": "a", "text": "Warfarin is held 5 days before surgery."}).encode()
    bad = b'{"id": "b", "text": "Caf\xe9 au lait"}'
    also_good = json.dumps({"id": "c", "text": "Vitamin K reverses warfarin."}).encode()
    path.write_bytes(good + b"\n" + bad + b"\n" + also_good + b"\n")
    result = load(path)
    assert [d.id for d in result.documents] == ["a", "c"]
    assert result.warnings == [f"{path}:2: not UTF-8 (byte {bad.index(0xE9) + 1}); line skipped"]


def test_jsonl_bom_does_not_cost_the_first_record(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "r.jsonl",
        {"id": "a", "text": "Warfarin is held 5 days before surgery."},
        {"id": "b", "text": "Vitamin K reverses warfarin."},
    )
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    result = load(path)
    assert [d.id for d in result.documents] == ["a", "b"]
    assert result.warnings == []


# --- encrypted PDFs --------------------------------------------------------------------


def encrypted_pdf(path: Path, *, user_password: str, algorithm: str) -> Path:
    from fpdf import FPDF
    from pypdf import PdfReader, PdfWriter

    pdf = FPDF()
    pdf.set_title("Heparin handout")
    pdf.set_font("Helvetica", size=11)
    pdf.add_page()
    pdf.multi_cell(0, 6, "Heparin can cause thrombocytopenia.\n\nCheck the platelet count on day 5.")
    plain = path.with_name(path.stem + "-plain.pdf")
    pdf.output(str(plain))
    writer = PdfWriter(clone_from=PdfReader(plain))
    writer.encrypt(user_password=user_password, owner_password="owner-secret", algorithm=algorithm)
    with open(path, "wb") as fh:
        writer.write(fh)
    plain.unlink()
    return path


@pytest.mark.parametrize("algorithm", ["AES-128", "AES-256"])
def test_owner_password_only_pdf_is_read(tmp_path: Path, algorithm: str) -> None:
    path = encrypted_pdf(tmp_path / "handout.pdf", user_password="", algorithm=algorithm)
    [doc] = load(path).documents
    assert doc.title == "Heparin handout"
    assert "platelet count on day 5" in doc.text


@pytest.mark.parametrize("algorithm", ["AES-128", "AES-256"])
def test_pdf_needing_a_password_says_so(tmp_path: Path, algorithm: str) -> None:
    path = encrypted_pdf(tmp_path / "locked.pdf", user_password="s3cret", algorithm=algorithm)
    with pytest.raises(EncryptedFileError) as caught:
        load(path)
    assert caught.value.reason == "encrypted"
    assert str(caught.value).startswith(f"{path}: needs a password")


_WITHOUT_CRYPTOGRAPHY = textwrap.dedent(
    """
    import sys
    from pathlib import Path

    sys.modules["cryptography"] = None  # import cryptography now raises ImportError
    from rag_oracle.errors import LoaderError
    from rag_oracle.ingest.pdf import PdfLoader

    try:
        PdfLoader().load(Path(sys.argv[1]))
        print("loaded")
    except LoaderError as exc:
        print(f"{type(exc).__name__} {exc.reason}: {exc}")
    """
)


@pytest.mark.parametrize("algorithm", ["AES-128", "AES-256"])
def test_aes_pdf_without_cryptography_names_the_install(tmp_path: Path, algorithm: str) -> None:
    path = encrypted_pdf(tmp_path / "handout.pdf", user_password="", algorithm=algorithm)
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    run = subprocess.run(
        [sys.executable, "-c", _WITHOUT_CRYPTOGRAPHY, str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("EncryptedFileError encrypted: "), run.stdout
    assert "pip install 'pypdf[crypto]'" in run.stdout


def test_a_yaml_alias_bomb_in_front_matter_is_refused_at_once(tmp_path) -> None:
    """Before: nine levels of nine aliases each hung the ingest (expanded while made JSON-safe)."""
    import time

    from rag_oracle.errors import CorruptFileError
    from rag_oracle.ingest.textfile import MarkdownLoader

    levels = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        levels.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    path = tmp_path / "bomb.md"
    path.write_text("---\n" + "\n".join(levels) + "\n---\n# T\n\nHold apixaban.\n")
    started = time.perf_counter()
    with pytest.raises(CorruptFileError, match=r"aliases .* not allowed in front matter \(line 2"):
        MarkdownLoader().load(path)
    assert time.perf_counter() - started < 5
