"""`rag-oracle ingest … --engine ray`: embed on a Ray cluster, assemble the same index on the driver.

Embedding is nearly all of an ingest's time (MiniLM: ~9 chunks/s a core against thousands read and
chunked), so that is what Ray spreads:

1. Ray Data reads the file list and, in parallel tasks (`flat_map` over a pool of chunker actors),
   loads and chunks each file with the library's own loaders and chunker, emitting every text the
   index will embed: each chunk's `embedding_text(title, chunk)` and, with the sentence store on,
   each document's statement texts (generate/extractive.candidate_texts).
2. `map_batches` over an actor pool (one model per actor; `--ray-batch-size`, `--ray-concurrency`,
   and `--ray-gpus` per actor when the cluster has them) embeds them.
3. The driver streams the results into vector shards, `<index>.ray/shards/<sha256 of the keys>.npz`
   (keys are the sha256 of each text, vectors float32), each written atomically. The content hash names
   a shard, so a rerun after a failure skips every text a shard already holds: nothing written is
   computed again, and no embedding cache is needed on the cluster.
4. The standard single-process ingest then runs on the driver with `ShardVectors` as its embedder:
   reading, deduplication, chunk ids, FAISS (trained on a sample for IVF), BM25, the stores and the
   manifest are the ones `ask`, `serve` and `eval` open, written atomically as always; every vector
   comes from a shard (a text missing from them is an error, never a silent live embedding).

The index is therefore the one `--engine local` builds, with vectors equal to floating-point tolerance
(a model's batch padding can move the last bits); tests/ingest/test_distributed.py asserts it in Ray
local mode with 2 CPUs. Ray is the optional extra `ray` (`pip install 'rag-oracle[ray]'`).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rag_oracle.errors import ConfigError, EmbedderError
from rag_oracle.settings import Settings

SHARDS = "shards"


def _key(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()


def work_folder(index_path: str | Path) -> Path:
    index = Path(index_path)
    return index.parent / f"{index.name}.ray"


def _require_ray():
    from rag_oracle.optional import require

    require("ray.data", extra="ray", purpose="--engine ray", package="ray[data]")
    import ray

    return ray


# --- the shards ---------------------------------------------------------------------------------


def shard_keys(folder: Path) -> set[bytes]:
    """Every text key the shards in `folder` hold."""
    keys: set[bytes] = set()
    for file in sorted((folder / SHARDS).glob("*.npz")):
        with np.load(file) as data:
            keys.update(row.tobytes() for row in data["keys"])
    return keys


def write_shard(folder: Path, keys: Sequence[bytes], vectors: np.ndarray) -> Path:
    """One shard, named by the sha256 of its keys, written atomically (an existing one is kept)."""
    shards = folder / SHARDS
    shards.mkdir(parents=True, exist_ok=True)
    name = hashlib.sha256(b"".join(keys)).hexdigest()[:32]
    path = shards / f"{name}.npz"
    if not path.exists():
        tmp = shards / f".{name}.{os.getpid()}.tmp.npz"
        # keys as a (n, 32) uint8 matrix: numpy's fixed bytes type would drop a digest's trailing zero bytes
        matrix = np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(len(keys), 32)
        np.savez(tmp, keys=matrix, vectors=np.asarray(vectors, dtype=np.float32))
        os.replace(tmp, path)
    return path


class ShardVectors:
    """The Embedder the driver's ingest uses: document vectors come from the shards; everything else
    (token counts, query embedding, model id) is the real embedder's."""

    def __init__(self, inner, folder: Path) -> None:
        self.inner = inner
        self._vectors: dict[bytes, np.ndarray] = {}
        for file in sorted((folder / SHARDS).glob("*.npz")):
            with np.load(file) as data:
                self._vectors.update(zip((row.tobytes() for row in data["keys"]), data["vectors"], strict=True))

    def __len__(self) -> int:
        return len(self._vectors)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        missing = [t for t in texts if _key(t) not in self._vectors]
        if missing:
            raise EmbedderError(
                f"{len(missing)} texts have no vector in the Ray shards (first: {missing[0][:80]!r}); run the same "
                "command again to embed them, or ingest with --engine local"
            )
        if not texts:
            return np.zeros((0, self.inner.dimension), dtype=np.float32)
        return np.stack([self._vectors[_key(t)] for t in texts])

    def __getattr__(self, name: str):
        return getattr(self.inner, name)


# --- the Ray stages -----------------------------------------------------------------------------


class _Chunker:
    """A Ray actor: loads and chunks files with the library's loaders; emits the texts to embed."""

    def __init__(self, settings: Settings, done: frozenset[bytes]) -> None:
        from rag_oracle.embed import make_embedder
        from rag_oracle.ingest.limits import Limits

        self.settings = settings
        self.embedder = make_embedder(settings.embed.model_copy(update={"cache_dir": "off"}), settings.compute)
        self.limits = Limits.from_settings(settings.ingest)
        self.done = done

    def __call__(self, row: dict) -> list[dict]:
        from rag_oracle.errors import LoaderError
        from rag_oracle.generate.extractive import candidate_texts
        from rag_oracle.ingest.chunking import chunk_document
        from rag_oracle.ingest.detect import loader_for
        from rag_oracle.text.passage import embedding_text

        path = Path(row["path"])
        try:
            result = loader_for(path, self.limits).load(path, limits=self.limits)
        except (LoaderError, OSError):
            return []  # the driver's ingest reads it again and reports why
        out: dict[bytes, str] = {}
        for doc in result.documents:
            texts = [
                embedding_text(doc.title, c.text)
                for c in chunk_document(doc, self.settings.chunk, self.embedder.count_tokens)
            ]
            if self.settings.index.sentence_vectors:
                texts += candidate_texts(doc)
            for text in texts:
                key = _key(text)
                if key not in self.done:
                    out.setdefault(key, text)
        return [{"key": k.hex(), "text": t} for k, t in out.items()]  # hex: no bytes through Arrow


class _Embed:
    """A Ray actor holding one model: embeds a batch of texts."""

    def __init__(self, settings: Settings) -> None:
        from rag_oracle.embed import make_embedder

        self.embedder = make_embedder(settings.embed.model_copy(update={"cache_dir": "off"}), settings.compute)

    def __call__(self, batch: dict) -> dict:
        vectors = np.asarray(self.embedder.embed_documents(list(batch["text"])), dtype=np.float32)
        return {"key": batch["key"], "vector": vectors}


@dataclass
class RayReport:
    files: int
    texts_embedded: int  # this run
    texts_in_shards: int  # before this run
    shards_written: int
    seconds: float
    shard_files: list[Path] = field(default_factory=list)


def embed_on_ray(
    paths: list[str | Path],
    index_path: str | Path,
    settings: Settings,
    *,
    address: str | None = None,
    batch_size: int = 256,
    concurrency: int = 1,
    gpus: float = 0.0,
    progress=None,
) -> RayReport:
    """Steps 1-3 of the module docstring: every text the index will embed, embedded on Ray into shards."""
    from time import perf_counter

    from rag_oracle.ingest.detect import walk

    ray = _require_ray()
    if batch_size < 1 or concurrency < 1:
        raise ConfigError("--ray-batch-size and --ray-concurrency must be at least 1")
    t0 = perf_counter()
    folder = work_folder(index_path)
    files = [str(f.path) for f in walk(paths, follow_symlinks=settings.ingest.follow_symlinks) if not f.skipped]
    done = frozenset(shard_keys(folder))
    started = not ray.is_initialized()
    if started:
        ray.init(address=address, include_dashboard=False, log_to_driver=False, ignore_reinit_error=True)
    try:
        texts = ray.data.from_items([{"path": f} for f in files]).flat_map(
            _Chunker, fn_constructor_args=(settings, done), compute=ray.data.ActorPoolStrategy(size=concurrency)
        )
        vectors = texts.map_batches(
            _Embed,
            fn_constructor_args=(settings,),
            batch_size=batch_size,
            compute=ray.data.ActorPoolStrategy(size=concurrency),
            num_gpus=gpus or None,
            batch_format="numpy",
        )
        written, embedded = [], 0
        if progress is not None:
            progress.start("embed (ray)", 0, "texts")
        for batch in _batches(vectors, batch_size):
            keys = [bytes.fromhex(str(k)) for k in batch["key"]]
            written.append(write_shard(folder, keys, batch["vector"]))
            embedded += len(keys)
            if progress is not None:
                progress.advance(len(keys))
        if progress is not None:
            progress.finish()
    finally:
        if started:
            ray.shutdown()
    return RayReport(len(files), embedded, len(done), len(written), perf_counter() - t0, written)


def _batches(dataset, batch_size: int) -> Iterator[dict]:
    for batch in dataset.iter_batches(batch_size=batch_size, batch_format="numpy"):
        if len(batch["key"]):
            yield batch


def ingest_with_ray(
    paths: list[str | Path],
    index_path: str | Path,
    settings: Settings,
    *,
    progress=None,
    command: str = "",
    wait: bool = False,
    **options,
):
    """`ingest` with the embedding done on Ray (module docstring); `options` are `embed_on_ray`'s
    (address, batch_size, concurrency, gpus). Returns (IngestReport, RayReport)."""
    from rag_oracle.embed import make_embedder
    from rag_oracle.ingest.pipeline import ingest

    ray_report = embed_on_ray(paths, index_path, settings, progress=progress, **options)
    embedder = ShardVectors(make_embedder(settings.embed, settings.compute), work_folder(index_path))
    report = ingest(paths, index_path, settings, embedder=embedder, progress=progress, command=command, wait=wait)
    return report, ray_report


__all__ = ["RayReport", "ShardVectors", "embed_on_ray", "ingest_with_ray", "shard_keys", "work_folder", "write_shard"]
