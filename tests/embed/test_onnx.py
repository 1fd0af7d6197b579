"""The ONNX Runtime embedder: the default model's vectors without torch, equal to sentence-transformers'."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rag_oracle.embed import make_embedder
from rag_oracle.embed.onnx import OnnxEmbedder, model_directory, supports, unsupported_reason
from rag_oracle.errors import ConfigError, EmbedderError
from rag_oracle.settings import ComputeSettings, EmbedSettings
from rag_oracle.testing.contracts.embedder import EmbedderContract

REPO = Path(__file__).resolve().parents[2]


def _sample_texts() -> list[str]:
    """Real clinical prose of varied length: the sample corpus's JSONL records, split into paragraphs."""
    texts = []
    for line in (REPO / "corpus" / "jsonl" / "sample.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        texts.append(record["title"])
        texts.extend(p for p in record["text"].split("\n\n") if p.strip())
    return texts


@pytest.fixture(scope="module")
def onnx_embedder() -> OnnxEmbedder:
    return OnnxEmbedder(threads=1)


@pytest.mark.slow
class TestOnnxContract(EmbedderContract):
    @pytest.fixture
    def embedder(self, onnx_embedder):
        return onnx_embedder


@pytest.mark.slow
def test_vectors_and_token_counts_equal_sentence_transformers(onnx_embedder) -> None:
    from rag_oracle.embed.sentence_transformer import SentenceTransformerEmbedder

    st = SentenceTransformerEmbedder(torch_threads=1)
    texts = [*_sample_texts(), "", "a", "clonazepam " * 400]  # empty, one letter, past the 256-token window
    got, want = onnx_embedder.embed_documents(texts), st.embed_documents(texts)
    cosines = np.sum(got * want, axis=1)
    assert cosines.min() >= 0.9999, (cosines.min(), texts[int(cosines.argmin())][:80])
    query = "What is the maximum dose of sertraline for depression?"
    assert float(onnx_embedder.embed_query(query) @ st.embed_query(query)) >= 0.9999
    # chunking counts tokens with the embedder: the same counts give the same chunks, hence the same index
    assert onnx_embedder.count_tokens(texts) == st.count_tokens(texts)
    # the same vectors, so the same id: an index built with one opens with the other
    assert onnx_embedder.model_id == st.model_id
    assert (onnx_embedder.dimension, onnx_embedder.max_tokens) == (st.dimension, st.max_tokens)


@pytest.mark.slow
def test_query_process_imports_no_torch(tmp_path: Path) -> None:
    code = (
        "import sys; from rag_oracle.embed.onnx import OnnxEmbedder; "
        "v = OnnxEmbedder(threads=1).embed_query('apixaban before surgery'); "
        "print(v.shape[0], 'torch' in sys.modules, 'sentence_transformers' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300)
    assert out.stdout.split() == ["384", "False", "False"]


@pytest.mark.slow
def test_int8_model_is_close_but_has_its_own_id(tmp_path: Path, onnx_embedder) -> None:
    int8 = OnnxEmbedder(threads=1, quantize=True)
    texts = _sample_texts()[:20]
    cosines = np.sum(int8.embed_documents(texts) * onnx_embedder.embed_documents(texts), axis=1)
    assert 0.95 <= cosines.min() < 0.99999  # close, and not the fp32 model by another name
    assert int8.model_id == onnx_embedder.model_id + "|onnx-int8-ffn32"


def test_config_is_read_without_loading_a_model() -> None:
    emb = OnnxEmbedder(threads=1)
    assert (emb.dimension, emb.max_tokens) == (384, 256)
    assert emb.count_tokens(["one two three", ""]) == [3, 0]
    assert not emb.loaded


def test_unsupported_models_are_named_with_the_fix(tmp_path: Path) -> None:
    with pytest.raises(EmbedderError, match=r"not a local directory.*sentence-transformers"):
        OnnxEmbedder(str(tmp_path / "no-such-model"))
    model = tmp_path / "model"
    model.mkdir()
    (model / "tokenizer.json").write_text("{}")
    (model / "config.json").write_text("{}")
    (model / "modules.json").write_text(
        json.dumps(
            [
                {"type": "sentence_transformers.models.Transformer", "path": ""},
                {"type": "sentence_transformers.models.Pooling", "path": "1_Pooling"},
                {"type": "sentence_transformers.models.Dense", "path": "2_Dense"},
            ]
        )
    )
    assert "Dense" in (unsupported_reason(model) or "")
    assert not supports(str(model))
    assert supports("sentence-transformers/all-MiniLM-L6-v2")


def test_backend_choice(tmp_path: Path) -> None:
    from rag_oracle.embed.sentence_transformer import SentenceTransformerEmbedder

    off = {"cache_dir": "off"}
    assert isinstance(make_embedder(EmbedSettings(**off)), OnnxEmbedder)  # auto: the default model runs on ONNX
    forced = make_embedder(EmbedSettings(backend="sentence-transformers", **off))
    assert isinstance(forced, SentenceTransformerEmbedder)
    # a model ONNX cannot run falls back to sentence-transformers under auto
    assert isinstance(make_embedder(EmbedSettings(model=str(tmp_path), **off)), SentenceTransformerEmbedder)
    with pytest.raises(ConfigError, match="quantize"):
        make_embedder(EmbedSettings(model=str(tmp_path), quantize=True, **off))
    threads = make_embedder(EmbedSettings(**off), ComputeSettings(threads=1))
    assert threads._threads == 1


def test_a_failed_export_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from rag_oracle.embed import onnx

    model = model_directory("sentence-transformers/all-MiniLM-L6-v2")
    monkeypatch.setattr(onnx.sys, "executable", str(tmp_path / "no-python"))  # the export process cannot start
    with pytest.raises(EmbedderError, match=r"could not prepare the ONNX model.*backend = 'sentence-transformers'"):
        onnx.ensure_exported(model, cache_root=tmp_path / "onnx")
    # nothing half-made is left where a later run would take it for the model
    assert not list((tmp_path / "onnx").glob("*/model.onnx"))
    assert not list((tmp_path / "onnx").glob(".export-*"))
