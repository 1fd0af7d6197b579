"""The FAISS part of an index: inner-product search over normalised vectors (cosine).

Vector i is chunk i of the chunk store. Adding documents appends vectors; replacing or removing
documents rebuilds the FAISS index from the kept vectors (index/writer.py), so positions stay ids.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from rag_oracle.errors import ConfigError, IndexCorruptError
from rag_oracle.settings import RetrieveSettings

FAISS_FILE = "dense.faiss"
# The search-time defaults are the settings' ([retrieve] ef_search, nprobe), chosen from
# benchmarks/search_latency.py (benchmarks/README.md).
DEFAULT_EF_SEARCH: int = RetrieveSettings.model_fields["ef_search"].default
DEFAULT_NPROBE: int = RetrieveSettings.model_fields["nprobe"].default


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


# recommended_factory's rule; the measurements behind it are in benchmarks/README.md
# ("Approximate search"), from benchmarks/search_latency.py.
FLAT_MAX_WORK = 100_000 * 384  # floats one exact search scans (N x dimension): ~15 ms on 1 busy core
HNSW_MAX_VECTORS = 2_000_000  # HNSW32's index write took 2.1x Flat's at 100k, and it grows with N log N
MEMORY_BUDGET = 16 * 2**30  # bytes of vectors (HNSW: plus graph) held in RAM before PQ should compress them
HNSW_M = 32
# HNSW32 recall@10 >= 0.95 from 10k to 1M vectors at this efSearch (the default): 0.981 at 100k (bow
# vectors, benchmarks/search_latency.py), 0.959 (bow questions) / 0.968 (held-out documents) at 1M in ~2 ms
# (benchmarks/million.py). 128 was enough at 100k (0.956) but not at 1M (0.911 / 0.944).
MEASURED_EF_SEARCH = 256


def ivf_lists(n_vectors: int) -> int:
    """IVF nlist for n vectors: 4*sqrt(n) rounded to the nearest power of two (at least 16)."""
    target = 4 * math.sqrt(max(n_vectors, 1))
    return max(16, 2 ** round(math.log2(target)))


def _pq_subquantizers(dimension: int) -> int:
    """PQ sub-quantizers for 8-bit codes: the largest divisor of `dimension` up to dimension/4
    (a byte for every 4 dimensions: 16x smaller than float32)."""
    return max(m for m in range(1, max(1, dimension // 4) + 1) if dimension % m == 0)


def recommended_factory(n_chunks: int, dimension: int) -> tuple[str, str]:
    """(FAISS factory string, reason) for an index of `n_chunks` vectors of `dimension`.

    The rule rests on benchmarks/search_latency.py (benchmarks/README.md, "Approximate search":
    `--vectors bow` at 10k and 100k chunks and `--real-index` on 20k MiniLM chunks, 384-d, 2 busy
    cores); the thresholds are the constants above:

    - **Flat** (exact, nothing to tune) while a search scans at most FLAT_MAX_WORK floats, i.e. up
      to 100k chunks at 384-d (50k at 768-d): measured ~15 ms a query on 1 thread at 100k x 384
      (40-64 ms on 2 contended threads) and ~1-5 ms at 10k, small next to embedding the query and
      writing the answer.
    - **HNSW32** above that, up to HNSW_MAX_VECTORS (2M) vectors whose vectors plus graph (about
      4*dimension + 8*32 bytes each) fit MEMORY_BUDGET: ~1-3 ms a search at 100k, recall@10
      0.981 with `[retrieve] ef_search` 256, the default (0.67 at FAISS's own 16); at 1M, 0.96-0.97
      at 256 in ~2 ms (0.91-0.94 at 128). Its build is slower (the FAISS write took 2.1x Flat's at
      100k) and grows with N log N, hence the cap.
    - **IVF{nlist},Flat** beyond, nlist = `ivf_lists(N)` (~4*sqrt(N), a power of two), while the
      float32 vectors fit MEMORY_BUDGET; `[retrieve] nprobe` decides recall (on MiniLM vectors
      64 of 512 lists gave 0.958, 128 0.983; on the synthetic bow vectors it needs far more).
    - **IVF{nlist},PQ{m}** when they do not: 8-bit codes of m = dimension/4 bytes a vector (16x
      smaller), with approximate scores.
    """
    n = max(int(n_chunks), 0)
    d = max(int(dimension), 1)
    if n * d <= FLAT_MAX_WORK:
        return "Flat", (
            f"exact search, nothing to tune: {n:,} vectors x {d} dimensions is within the 100k x 384 an exact "
            "search scanned in ~15 ms on 1 thread"
        )
    hnsw_bytes = n * (4 * d + 8 * HNSW_M + 16)
    if n <= HNSW_MAX_VECTORS and hnsw_bytes <= MEMORY_BUDGET:
        recall = (
            f"recall@10 >= 0.95 up to 1M vectors at [retrieve] ef_search >= {MEASURED_EF_SEARCH} (the default; "
            "1M: 0.96 in ~2 ms, 0.91-0.94 at 128)"
        )
        return f"HNSW{HNSW_M}", (
            f"{n:,} vectors x {d} dimensions is beyond the 100k x 384 an exact search scans in ~15 ms; "
            f"HNSW{HNSW_M} searched 100k in ~1-3 ms; {recall}; it holds ~{hnsw_bytes / 2**30:.1f} GiB in RAM"
        )
    nlist = ivf_lists(n)
    flat_bytes = n * 4 * d
    if flat_bytes <= MEMORY_BUDGET:
        why = (
            f"more than the {HNSW_MAX_VECTORS:,} HNSW builds in reasonable time"
            if n > HNSW_MAX_VECTORS
            else f"HNSW's graph would take ~{hnsw_bytes / 2**30:.0f} GiB of RAM"
        )
        return f"IVF{nlist},Flat", (
            f"{n:,} vectors, {why}; {nlist} inverted lists (~4*sqrt(N)) over ~{flat_bytes / 2**30:.1f} GiB of "
            f"vectors; raise [retrieve] nprobe (default {DEFAULT_NPROBE}) until recall is high enough"
        )
    m = _pq_subquantizers(d)
    return f"IVF{nlist},PQ{m}", (
        f"{n:,} vectors: as float32 they would take ~{flat_bytes / 2**30:.0f} GiB of RAM, as PQ{m} codes "
        f"~{n * m / 2**30:.1f} GiB (approximate scores); {nlist} inverted lists (~4*sqrt(N)); raise [retrieve] "
        f"nprobe (default {DEFAULT_NPROBE}) until recall is high enough"
    )


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


def _search_parameters(index, selector, ef_search: int, nprobe: int):
    """The SearchParameters for `index`: efSearch for HNSW, nprobe for IVF, `selector` (may be None)
    on the index that scans the vectors; None when the index takes neither and there is no selector.

    Wrappers are looked through: IndexPreTransform (PCA, OPQ) and IndexIDMap/IDMap2 hand their
    parameters to the index they wrap; IndexRefine takes its own, holding the base index's.
    HNSW with PQ or SQ storage (IndexHNSWPQ, IndexHNSWSQ) is an IndexHNSW like HNSW-Flat. An IVF
    index with an HNSW coarse quantizer (IVF4096_HNSW32,Flat) gets efSearch for the quantizer
    too, at least nprobe (the quantizer returns nprobe lists)."""
    faiss = _faiss()
    index = faiss.downcast_index(index)
    if isinstance(index, faiss.IndexPreTransform | faiss.IndexIDMap | faiss.IndexIDMap2):
        return _search_parameters(index.index, selector, ef_search, nprobe)
    if isinstance(index, faiss.IndexRefine):
        base = _search_parameters(index.base_index, selector, ef_search, nprobe)
        if base is None:
            return None
        return faiss.IndexRefineSearchParameters(k_factor=index.k_factor, base_index_params=base)
    if isinstance(index, faiss.IndexHNSW):
        return faiss.SearchParametersHNSW(efSearch=ef_search, sel=selector)
    if isinstance(index, faiss.IndexIVF):
        params = faiss.SearchParametersIVF(nprobe=min(nprobe, index.nlist), sel=selector)
        quantizer = faiss.downcast_index(index.quantizer)
        if isinstance(quantizer, faiss.IndexHNSW):
            params.quantizer_params = faiss.SearchParametersHNSW(efSearch=max(ef_search, nprobe))
        return params
    return None if selector is None else faiss.SearchParameters(sel=selector)


def search(
    index,
    query: np.ndarray,
    k: int,
    allowed: np.ndarray | None = None,
    *,
    ef_search: int = DEFAULT_EF_SEARCH,
    nprobe: int = DEFAULT_NPROBE,
) -> tuple[np.ndarray, np.ndarray]:
    """(positions, scores) of the top k, restricted to `allowed` positions when given.

    `ef_search` is HNSW's efSearch (the candidate list a search keeps; at least k is used, since
    with fewer HNSW can return fewer than k results), `nprobe` the IVF lists a search visits (at
    most nlist). Both are search-time knobs: an index of any other type ignores them, and they
    are passed on every search (never set on the index, which may be shared or memory-mapped)."""
    faiss = _faiss()
    k = min(k, index.ntotal)
    if k <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    if ef_search < 1 or nprobe < 1:
        raise ValueError(f"ef_search and nprobe must be >= 1 (got {ef_search}, {nprobe})")
    query = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
    selector = None
    if allowed is not None:
        if len(allowed) == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        selector = faiss.IDSelectorBatch(np.ascontiguousarray(allowed, dtype=np.int64))
        k = min(k, len(allowed))
    params = _search_parameters(index, selector, max(ef_search, k), nprobe)
    scores, positions = index.search(query, k) if params is None else index.search(query, k, params=params)
    keep = positions[0] >= 0
    return positions[0][keep], scores[0][keep]


def stores_exact_vectors(index) -> bool:
    """Whether `index` gives back the vectors as they were added (Flat, HNSW-Flat); quantised codes
    (PQ, SQ) would give approximations, which a relevance threshold must not be compared against."""
    faiss = _faiss()
    base = faiss.downcast_index(index)
    storage = faiss.downcast_index(base.storage) if isinstance(base, faiss.IndexHNSW) else base
    return isinstance(storage, faiss.IndexFlat)


def reconstruct(index, positions: np.ndarray) -> np.ndarray | None:
    """Stored vectors at `positions`, or None when the index type cannot give them back exactly
    (`stores_exact_vectors`)."""
    if not stores_exact_vectors(index):
        return None
    return np.asarray(index.reconstruct_batch(np.ascontiguousarray(positions, dtype=np.int64)), dtype=np.float32)


def empty_like(index):
    """A copy of `index` without its vectors but with its training (IVF centroids, PQ codebooks),
    so vectors added to it are encoded exactly as the original encoded them."""
    faiss = _faiss()
    copy = faiss.clone_index(index)
    copy.reset()
    return copy


def read(directory: Path, *, mmap: bool = True):
    """The FAISS index saved in `directory`.

    With `mmap` (the default) the vectors or codes of Flat-coded indexes (Flat, HNSW's storage, PQ,
    SQ) are memory-mapped from the file instead of read (faiss IO_FLAG_MMAP_IFC): opening a million
    384-d vectors costs the HNSW graph's read, not 1.5 GB's, and processes that open the same index
    share the page cache. Such an index is read-only: adding to it, or to a `faiss.clone_index` of
    it, aborts the process inside FAISS, so a writer reads with `mmap=False`. Types without flat
    codes (IVF lists) are read into memory either way, as is everything on a FAISS without the flag."""
    faiss = _faiss()
    path = Path(directory) / FAISS_FILE
    flags = 0
    if mmap and hasattr(faiss, "IO_FLAG_MMAP_IFC"):
        flags = faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY
    try:
        return faiss.read_index(str(path), flags)
    except RuntimeError as exc:
        raise IndexCorruptError(f"{path} is not a readable FAISS index ({str(exc).splitlines()[-1]})") from None


def write(index, directory: Path) -> None:
    _faiss().write_index(index, str(Path(directory) / FAISS_FILE))
