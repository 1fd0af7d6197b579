"""--engine ray builds the index --engine local builds (ingest/distributed.py), in Ray local mode."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

ray = pytest.importorskip("ray", reason="the ray extra is not installed (pip install 'rag-oracle[ray]')")

from rag_oracle.errors import EmbedderError  # noqa: E402
from rag_oracle.index.store import Index  # noqa: E402
from rag_oracle.ingest.distributed import ShardVectors, ingest_with_ray, shard_keys, work_folder  # noqa: E402
from rag_oracle.ingest.pipeline import ingest  # noqa: E402


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def test_the_ray_index_is_the_local_index(local_ray, corpus_dir: Path, settings, tmp_path: Path) -> None:
    local_path, ray_path = tmp_path / "indexes" / "local", tmp_path / "indexes" / "ray"
    ingest([corpus_dir], local_path, settings)
    report, ray_report = ingest_with_ray([corpus_dir], ray_path, settings, batch_size=64, concurrency=2)
    assert ray_report.texts_embedded > 0 and ray_report.shards_written > 0 and not report.count("failed")
    local, remote = Index.open(local_path), Index.open(ray_path)
    assert list(local.documents) == list(remote.documents)
    assert [(c.id, c.text) for c in local.chunks] == [(c.id, c.text) for c in remote.chunks]
    ids = [c.id for c in local.chunks]
    assert np.allclose(local.vectors(ids), remote.vectors(ids), atol=1e-6)
    assert remote.verify() == []
    assert remote.manifest.fingerprint == local.manifest.fingerprint

    # a second run embeds nothing: every text is in a shard named by its content
    before = shard_keys(work_folder(ray_path))
    report, again = ingest_with_ray([corpus_dir], ray_path, settings)
    assert again.texts_embedded == 0 and again.texts_in_shards == len(before) > 0
    assert report.chunks_added == 0  # and the index already holds every file


def test_a_text_missing_from_the_shards_is_an_error_not_a_live_embedding(settings, tmp_path: Path) -> None:
    from rag_oracle.embed import make_embedder

    vectors = ShardVectors(make_embedder(settings.embed), tmp_path / "nothing")
    assert len(vectors) == 0
    with pytest.raises(EmbedderError, match="no vector in the Ray shards"):
        vectors.embed_documents(["a chunk"])


def test_shard_keys_survive_trailing_zero_bytes(tmp_path: Path) -> None:
    from rag_oracle.ingest.distributed import write_shard

    keys = [b"\x01" * 31 + b"\x00", b"\x00" * 32, bytes(range(32))]  # numpy's S32 would strip the zeros
    write_shard(tmp_path, keys, np.eye(3, dtype=np.float32))
    assert shard_keys(tmp_path) == set(keys)
