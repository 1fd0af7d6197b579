"""Export a sentence-transformers model to ONNX, once, for the ONNX Runtime embedder (embed/onnx.py).

Run as a separate process (`python -m rag_oracle.embed.onnx_export MODEL_DIR OUT_DIR [--int8]`), so the
process that answers questions never imports torch: the export needs torch and transformers (they come
with sentence-transformers), the embedder afterwards needs only onnxruntime, tokenizers and numpy.

What it writes into OUT_DIR (a temporary directory the caller renames into the cache):

    model.onnx        the transformer, inputs input_ids / attention_mask (/ token_type_ids), output the
                      token embeddings; for BERT models, fused by ONNX Runtime's transformer optimizer
    model-int8.onnx   with --int8: the same graph with int8 weights (dynamic quantisation), except the
                      feed-forward output projections, kept in float (see _ffn_output_matmuls)
    export.json       what was exported and the check below (export-int8.json with --int8)

Before it reports success the export checks itself: the ONNX vectors of a fixed set of probe texts
(mean pooling, normalised, as the embedder computes them) must have cosine >= 0.9999 with
sentence-transformers' own vectors, so a model whose ONNX graph differs is refused instead of
giving different vectors silently. The int8 model is checked more loosely (>= 0.95) and the measured
minimum is recorded: quantisation changes vectors; its retrieval cost is measured in benchmarks/.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

FP32 = "model.onnx"
INT8 = "model-int8.onnx"
REPORT = "export.json"
FP32_MIN_COSINE = 0.9999
INT8_MIN_COSINE = 0.95
PROBES = [
    "What is the maximum dose of sertraline for depression?",
    "Apixaban should be held for 48 hours before a procedure with a high bleeding risk.",
    "clonazepam",
    "In adults aged 65 years and older, a systolic blood pressure target below 130 mm Hg reduced "
    "cardiovascular events in the randomised trial, with more episodes of hypotension and acute kidney injury. " * 6,
    "Taper benzodiazepines gradually: reduce the dose by 5% to 25% every 2 to 4 weeks.",
    "",
]


def _ort_optimise(source: Path, target: Path) -> None:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    options.optimized_model_filepath = str(target)
    options.log_severity_level = 3
    ort.InferenceSession(str(source), options, providers=["CPUExecutionProvider"])


def _ffn_output_matmuls(model_file: Path, config) -> list[str]:
    """The MatMul nodes that project each layer's feed-forward activations back to the hidden size
    (weight shape intermediate_size x hidden_size), which the int8 model keeps in float.

    Their inputs (after GELU) carry the transformer's large activation outliers, which dynamic int8
    quantisation of the activations handles worst (Bondarenko et al., "Understanding and Overcoming
    the Challenges of Efficient Transformer Quantization", EMNLP 2021). On SciFact (first 1,500
    documents, 327 claims) quantising every MatMul cost 0.0067 nDCG@10 and mean cosine 0.9947 to the
    float vectors; keeping these 6 of MiniLM's 36 weight MatMuls in float: +0.0034 (noise) and 0.9975.
    """
    import onnx

    graph = onnx.load(str(model_file), load_external_data=False).graph
    wanted = [getattr(config, "intermediate_size", None), getattr(config, "hidden_size", None)]
    shapes = {init.name: list(init.dims) for init in graph.initializer}
    return [n.name for n in graph.node if n.op_type == "MatMul" and any(shapes.get(i) == wanted for i in n.input)]


def export(model_dir: str, out_dir: str, *, int8: bool = False) -> dict:
    import numpy as np
    import onnxruntime as ort
    import torch
    from sentence_transformers import SentenceTransformer

    st = SentenceTransformer(model_dir, device="cpu", local_files_only=True)
    transformer = st[0].auto_model
    transformer.eval()
    config = transformer.config
    names = ["input_ids", "attention_mask"]
    sample = st.tokenizer(["a probe", "another probe text"], padding=True, return_tensors="pt")
    if "token_type_ids" in sample:
        names.append("token_type_ids")

    class TokenEmbeddings(torch.nn.Module):
        def __init__(self, model) -> None:
            super().__init__()
            self.model = model

        def forward(self, *inputs):
            return self.model(**dict(zip(names, inputs, strict=True))).last_hidden_state

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    raw = out / "raw.onnx"
    axes = {n: {0: "batch", 1: "sequence"} for n in [*names, "token_embeddings"]}
    with torch.no_grad():
        torch.onnx.export(
            TokenEmbeddings(transformer),
            tuple(sample[n] for n in names),
            str(raw),
            input_names=names,
            output_names=["token_embeddings"],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,  # the TorchScript exporter needs no onnxscript and handles BERT's masks
        )
    fp32 = out / FP32
    fused = False
    if config.model_type == "bert":
        from onnxruntime.transformers import optimizer

        optimized = optimizer.optimize_model(
            str(raw), model_type="bert", num_heads=config.num_attention_heads, hidden_size=config.hidden_size
        )
        fused_file = out / "fused.onnx"
        optimized.save_model_to_file(str(fused_file))
        fused = True
    else:
        fused_file = raw
    # ONNX Runtime's own graph optimisations, applied once here and saved, so a session opens in about
    # half the time (EXTENDED: the portable level; higher levels may bake in this CPU's layouts).
    _ort_optimise(fused_file, fp32)
    if fused_file != raw:
        fused_file.unlink()
    report = {
        "model_dir": str(model_dir),
        "model_type": config.model_type,
        "inputs": names,
        "max_seq_length": int(st.max_seq_length),
        "fused": fused,
        "torch": torch.__version__,
        "onnxruntime": ort.__version__,
    }
    expected = st.encode(PROBES, normalize_embeddings=True, convert_to_numpy=True)

    def cosine(path: Path) -> float:
        from rag_oracle.embed.onnx import OnnxSession

        session = OnnxSession(path, Path(model_dir), threads=1, spinning=False)
        got = session.encode(PROBES)
        return float(np.min(np.sum(got * expected, axis=1)))

    report["fp32_min_cosine"] = cosine(fp32)
    if report["fp32_min_cosine"] < FP32_MIN_COSINE:
        raise SystemExit(
            f"the ONNX export of {model_dir} does not reproduce sentence-transformers' vectors "
            f"(min cosine {report['fp32_min_cosine']:.5f} < {FP32_MIN_COSINE}); use embed.backend = "
            "'sentence-transformers' for this model"
        )
    if int8:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        quantized = out / "int8-raw.onnx"
        keep = _ffn_output_matmuls(raw, config)
        quantize_dynamic(str(raw), str(quantized), weight_type=QuantType.QInt8, per_channel=True, nodes_to_exclude=keep)
        report["int8_fp32_matmuls"] = len(keep)
        _ort_optimise(quantized, out / INT8)
        quantized.unlink()
        report["int8_min_cosine"] = cosine(out / INT8)
        if report["int8_min_cosine"] < INT8_MIN_COSINE:
            raise SystemExit(
                f"the int8 model of {model_dir} is too far from the original "
                f"(min cosine {report['int8_min_cosine']:.4f} < {INT8_MIN_COSINE}); use embed.quantize = false"
            )
    raw.unlink(missing_ok=True)
    (out / (REPORT.replace(".json", "-int8.json") if int8 else REPORT)).write_text(
        json.dumps(report, indent=2) + "\n", encoding="utf-8"
    )
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_dir")
    parser.add_argument("out_dir")
    parser.add_argument("--int8", action="store_true")
    args = parser.parse_args(argv)
    import logging
    import warnings

    warnings.filterwarnings("ignore")  # the exporter's deprecation and tracer warnings are not the user's business
    logging.disable(logging.WARNING)
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()
    except ImportError:
        pass
    report = export(args.model_dir, args.out_dir, int8=args.int8)
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
