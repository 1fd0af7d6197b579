"""The FAISS part of an index: inner-product search over normalised vectors (cosine).

Vector i is chunk i of the chunk store. Adding documents appends vectors; replacing or removing
documents rebuilds the FAISS index from the kept vectors (index/writer.py), so positions stay ids.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rag_oracle.errors import ConfigError, IndexCorruptError

FAISS_FILE = "dense.faiss"


def _faiss():
    import faiss

    return faiss


def new_faiss_index(spec: str, dimension: int):
    faiss = _faiss()
    try:
        return faiss.index_factory(dimension, spec, faiss.METRIC_INNER_PRODUCT)
    except RuntimeError as exc:
        raise ConfigError(
            f"invalid FAISS spec {spec!r} ({str(exc).splitlines()[-1]}); use e.g. 'Flat', 'HNSW32' or 'IVF1024,PQ32'"
        ) from None


def add_vectors(index, vectors: np.ndarray, spec: str) -> None:
    if len(vectors) == 0:
        return
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if not index.is_trained:
        try:
            index.train(vectors)
        except RuntimeError as exc:
            raise ConfigError(
                f"FAISS spec {spec!r} could not be trained on {len(vectors)} vectors "
                f"({str(exc).splitlines()[-1]}); it needs more vectors than that: use 'Flat' or 'HNSW32' "
                "for a corpus this size"
            ) from None
    index.add(vectors)


def _search_parameters(index, selector):
    faiss = _faiss()
    base = faiss.downcast_index(index)
    if isinstance(base, faiss.IndexHNSW):
        return faiss.SearchParametersHNSW(sel=selector)
    if faiss.try_extract_index_ivf(base) is not None:
        return faiss.SearchParametersIVF(sel=selector)
    return faiss.SearchParameters(sel=selector)


def search(index, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(positions, scores) of the top k, restricted to `allowed` positions when given."""
    faiss = _faiss()
    k = min(k, index.ntotal)
    if k <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    query = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
    if allowed is None:
        scores, positions = index.search(query, k)
    else:
        if len(allowed) == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        selector = faiss.IDSelectorBatch(np.ascontiguousarray(allowed, dtype=np.int64))
        scores, positions = index.search(query, min(k, len(allowed)), params=_search_parameters(index, selector))
    keep = positions[0] >= 0
    return positions[0][keep], scores[0][keep]


def reconstruct(index, positions: np.ndarray) -> np.ndarray | None:
    """Stored vectors at `positions`, or None when the index type cannot give them back exactly.

    Flat and HNSW-Flat store the vectors as they were added; quantised codes (PQ, SQ) would give
    approximations, which a relevance threshold must not be compared against."""
    faiss = _faiss()
    base = faiss.downcast_index(index)
    storage = faiss.downcast_index(base.storage) if isinstance(base, faiss.IndexHNSW) else base
    if not isinstance(storage, faiss.IndexFlat):
        return None
    return np.asarray(index.reconstruct_batch(np.ascontiguousarray(positions, dtype=np.int64)), dtype=np.float32)


def empty_like(index):
    """A copy of `index` without its vectors but with its training (IVF centroids, PQ codebooks),
    so vectors added to it are encoded exactly as the original encoded them."""
    faiss = _faiss()
    copy = faiss.clone_index(index)
    copy.reset()
    return copy


def read(directory: Path, *, mmap: bool = False):
    faiss = _faiss()
    path = Path(directory) / FAISS_FILE
    try:
        flags = faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY if mmap else 0
        return faiss.read_index(str(path), flags)
    except RuntimeError as exc:
        raise IndexCorruptError(f"{path} is not a readable FAISS index ({str(exc).splitlines()[-1]})") from None


def write(index, directory: Path) -> None:
    _faiss().write_index(index, str(Path(directory) / FAISS_FILE))
