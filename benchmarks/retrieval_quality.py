"""Document-level retrieval quality of every retrieval variant on the development sets, side by side.

Run from the repository root (prints figures, asserts nothing)::

    python benchmarks/retrieval_quality.py --data ../shared/data                     # scifact bioasq medquad
    python benchmarks/retrieval_quality.py --data ../shared/data --limit 200         # a quick look
    python benchmarks/retrieval_quality.py ... --out evals/baselines/retrieval_quality.json --plot /tmp/rq.png
    python benchmarks/retrieval_quality.py --data ../shared/data --fields                # + BM25 title weights
    python benchmarks/retrieval_quality.py --data ../shared/data --rerank --limit 300    # + the second stage

For each data set (interchange format: corpus.jsonl + questions*.jsonl under --data; a missing
folder is skipped with a message) the script builds an index once (indexes/bench-<name>-<fingerprint>,
reused after) with the configured embedder, then, per question, asks the library's own dense and
BM25 retrievers once for their `--depth` best chunks (positions and scores). Every variant is then
computed from those two lists with the library's fusion functions (rag_oracle.retrieve.fusion):
reciprocal rank fusion with several k, min-max and z-score fusion with several dense weights, and
document scores from the best chunk ("max") or the sum of the best two or three. So a variant
costs milliseconds, not a retrieval pass, and nothing is tuned on anything but development data.
`--fields` adds BM25 lists over other chunk texts (the title 0, 2 or 3 times: [index]
bm25_title_weight), built in a temporary folder with the library's BM25 builder. `--rerank` adds the
second stage (retrieve/rerank.py: best statement and subject field match over the 50 best chunks)
on four first stages, with the library's feature functions; the statements it reads are embedded
into the index's sentence store on first use (minutes per set the first time; use --limit).

Printed per data set: nDCG@10, recall@10, recall@100 and MRR@10 for every variant, with the
settings' default marked `*`; then nDCG@10 of every variant on every set, its change against the
default, and `+` where it helps on every set: only such a variant may become the default (issue 14).
`--check` re-runs the default and the best all-round variant through the real pipeline
(`RagOracle.search_documents` with the variant's settings) to show the offline figures are the
library's (ties within a list are ranked by chunk id there, by position here: tiny differences).

Data sets (../shared/data/README.md): SciFact train claims, BioASQ 2019-2022 dev questions and the
MedQuAD sample (consumer questions, known-item: one relevant answer each); and `clinical`, the project's
own clinician regression set (evals/clinical/questions.jsonl) over the sample corpus it ships (the sample
index, built on first use), so a change that helps the public sets but not the questions this project is
for shows.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from _synthetic import bench_index, questions_with_relevant  # benchmarks/ is on sys.path when a script runs
from tqdm import tqdm

from rag_oracle import RagOracle, load_settings
from rag_oracle.embed import make_embedder
from rag_oracle.evaluation.retrieval_metrics import mrr_at_k, ndcg_at_k, recall_at_k
from rag_oracle.generate.extractive import statement_texts
from rag_oracle.index import lexical
from rag_oracle.index.sentences import SentenceStore
from rag_oracle.index.store import Index
from rag_oracle.retrieve.dense import DenseRetriever
from rag_oracle.retrieve.fusion import adaptive_weight, document_scores, fuse_scores, rrf_scores
from rag_oracle.retrieve.lexical import Bm25Retriever
from rag_oracle.retrieve.rerank import RerankingRetriever, below, rerank_scores
from rag_oracle.text.analyzer import expand_query, tokenize_one
from rag_oracle.text.passage import lexical_text

QUESTION_FILES = {
    "scifact": "questions.train.jsonl",
    "bioasq": "questions.dev.jsonl",
    "pubmedqa": "questions.dev.jsonl",
    "medquad": "questions.sample.jsonl",
}
METRICS = ("ndcg@10", "recall@10", "recall@100", "mrr@10")
REPO = Path(__file__).resolve().parents[1]


# the feedback settings measured (retrieve/prf.py): Anserini's RM3 defaults, and a light Rocchio step
RM3 = {"rm3_docs": 10, "rm3_terms": 10, "rm3_weight": 0.5}
PRF = {"dense_prf_chunks": 3, "dense_prf_weight": 0.5}
# the second stage measured (retrieve/rerank.py): (sentence weight, subject weight) over the best 50 chunks
RERANK_DEPTH = 50
# BM25 over other texts of each chunk (--fields): the title (cut to 32 words) 0, 2 or 3 times instead of once
FIELD_LISTS = {"bm25_title0": 0, "bm25_title2": 2, "bm25_title3": 3}
RERANKS = ((0.5, 0.0), (1.0, 0.0), (2.0, 0.0), (0.0, 0.1), (0.0, 0.3), (1.0, 0.1), (1.0, 0.3))


@dataclass
class Lists:
    """One question's candidate lists from the library's retrievers, and its relevant documents."""

    lists: dict[str, tuple[np.ndarray, np.ndarray]]  # "dense", "bm25", "dense_prf", "bm25_rm3"
    relevant: list[int]  # document positions
    coverage: float  # of the question's words by BM25's best hit (index/lexical.py coverage)
    question: str = ""
    features: dict[int, tuple[float, float]] = field(default_factory=dict)  # position -> (sentence, subject)


class Features:
    """The second stage's features (retrieve/rerank.py) of a question's chunks, computed once per
    chunk with the library's functions. Statement vectors come from the index's sentence store; what
    it lacks is embedded and added to it (a bench index is built without them, to build faster), so
    a second run embeds nothing."""

    def __init__(self, index: Index, embedder) -> None:
        self.index = index
        self.embedder = embedder
        self.store = SentenceStore(index.path, embedder.model_id)
        self.reranker = RerankingRetriever(None, index, embedder, sentence_weight=1.0, subject_weight=1.0)
        self.doc_of = np.asarray(index.chunk_doc_positions)
        self.ids = list(index.documents)

    def of(self, lists: Lists, positions: list[int]) -> tuple[np.ndarray, np.ndarray]:
        missing = [p for p in positions if p not in lists.features]
        if missing:
            documents = self.index.documents
            pairs = [(self.index.chunks[p], documents[self.ids[self.doc_of[p]]]) for p in missing]
            texts = [t for chunk, doc in pairs for t in statement_texts(doc, chunk.char_start, chunk.char_end)]
            self.store.add(texts, self.embedder.embed_documents)
            sentence, subject = self.reranker.features(lists.question, pairs)
            lists.features.update(zip(missing, zip(sentence.tolist(), subject.tolist(), strict=True), strict=True))
        rows = [lists.features[p] for p in positions]
        return np.array([r[0] for r in rows], dtype=np.float64), np.array([r[1] for r in rows], dtype=np.float64)


@dataclass(frozen=True)
class Variant:
    """A retrieval configuration: how chunks are fused, how documents are scored, and the settings
    ([retrieve]) that give it in the library."""

    name: str
    fusion: str  # "dense", "bm25", "rrf", "minmax", "zscore"
    weight: float = 0.5  # dense weight (score fusion) or rrf k
    document: str = "max"
    chunks: int = 1
    settings: dict = field(default_factory=dict, hash=False, compare=False)
    dense: str = "dense"  # which dense list: "dense" or "dense_prf"
    bm25: str = "bm25"  # which BM25 list: "bm25" or "bm25_rm3"
    adaptive: float = 0.0  # score fusion: [retrieve] adaptive_weight
    rerank: tuple[float, float] = (0.0, 0.0)  # second stage: [retrieve] rerank_sentence, rerank_subject

    def chunk_ranking(self, lists: Lists, features: Features | None = None) -> tuple[np.ndarray, np.ndarray]:
        positions, scores = self.first_stage(lists)
        if not any(self.rerank) or features is None or len(positions) < 2:
            return positions, scores
        # as RerankingRetriever: the RERANK_DEPTH best (ties by position here) rescored, the rest below them
        order = np.argsort(-scores, kind="stable")
        head, tail = order[:RERANK_DEPTH], order[RERANK_DEPTH:]  # head: as `top`
        sentence, subject = features.of(lists, positions[head].tolist())
        new = rerank_scores(scores[head], sentence, subject, *self.rerank)
        return np.concatenate([positions[head], positions[tail]]), np.concatenate([new, below(new.min(), len(tail))])

    @property
    def first_stage_key(self) -> tuple:
        return (self.fusion, self.weight, self.dense, self.bm25, self.adaptive)

    def first_stage(self, lists: Lists) -> tuple[np.ndarray, np.ndarray]:
        dense, bm25 = lists.lists[self.dense], lists.lists[self.bm25]
        if self.fusion == "dense":
            return dense
        if self.fusion == "bm25":
            return bm25
        if self.fusion == "rrf":
            return rrf_scores([dense, bm25], int(self.weight))
        weight = adaptive_weight(self.weight, lists.coverage, self.adaptive) if self.adaptive else self.weight
        return fuse_scores([dense, bm25], [weight, 1.0 - weight], self.fusion)

    def documents(self, lists: Lists, doc_of: np.ndarray, features: Features | None = None) -> list[int]:
        positions, scores = self.chunk_ranking(lists, features)
        docs, _ = document_scores(doc_of, positions, scores, self.document, self.chunks)
        return docs.tolist()


def top(positions: np.ndarray, scores: np.ndarray, n: int) -> list[int]:
    """The n best positions by score (ties by list order), as the second stage takes them."""
    return positions[np.argsort(-scores, kind="stable")[:n]].tolist()


def variants(rerank: bool = False, fields: bool = False) -> list[Variant]:
    off = {
        "rm3_docs": 0,
        "dense_prf_chunks": 0,
        "document_score": "max",
        "adaptive_weight": 0.0,
        "rerank_sentence": 0.0,
        "rerank_subject": 0.0,
    }
    out = [
        Variant("dense", "dense", settings={**off, "mode": "dense"}),
        Variant("dense+prf", "dense", settings={**off, **PRF, "mode": "dense"}, dense="dense_prf"),
        Variant("bm25", "bm25", settings={**off, "mode": "bm25"}),
        Variant("bm25+rm3", "bm25", settings={**off, **RM3, "mode": "bm25"}, bm25="bm25_rm3"),
    ]
    fused = []
    for k in (20, 60, 100):
        fused.append(Variant(f"rrf k={k}", "rrf", k, settings={**off, "mode": "hybrid", "fusion": "rrf", "rrf_k": k}))
    for method in ("minmax", "zscore"):
        for w in (0.3, 0.4, 0.5, 0.6, 0.7):
            fused.append(
                Variant(
                    f"{method} w={w}",
                    method,
                    w,
                    settings={**off, "mode": "hybrid", "fusion": method, "dense_weight": w},
                )
            )
    for method in ("minmax", "zscore"):
        for w in (0.3, 0.4, 0.5):
            for strength in (0.2, 0.4):
                fused.append(
                    Variant(
                        f"{method} w={w} adaptive {strength}",
                        method,
                        w,
                        settings={
                            **off,
                            "mode": "hybrid",
                            "fusion": method,
                            "dense_weight": w,
                            "adaptive_weight": strength,
                        },
                        adaptive=strength,
                    )
                )
    out += fused
    # feedback and document sums on top of the fusions (a subset, to keep the table readable)
    for base in fused:
        if base.adaptive:
            continue
        if base.fusion == "rrf" and base.weight != 60:
            continue
        if base.fusion != "rrf" and base.weight not in (0.4, 0.5, 0.6):
            continue
        extras = [
            (" +rm3", {**RM3}, "dense", "bm25_rm3"),
            (" +prf", {**PRF}, "dense_prf", "bm25"),
            (" +rm3+prf", {**RM3, **PRF}, "dense_prf", "bm25_rm3"),
        ]
        for suffix, extra, dense, bm25 in extras:
            out.append(
                Variant(
                    base.name + suffix,
                    base.fusion,
                    base.weight,
                    settings={**base.settings, **extra},
                    dense=dense,
                    bm25=bm25,
                )
            )
        for n in (2, 3):
            out.append(
                Variant(
                    f"{base.name}, doc sum{n}",
                    base.fusion,
                    base.weight,
                    "sum",
                    n,
                    settings={**base.settings, "document_score": "sum", "document_chunks": n},
                )
            )
    if fields:
        # BM25 with the title weighted 0, 2 or 3 times, alone and in the default and best fusion
        for key, weight in FIELD_LISTS.items():
            extra = {"bm25_title_weight": weight}
            bases = [v for v in out if v.name in ("bm25", "rrf k=60", "zscore w=0.5")]
            for base in bases:
                out.append(
                    Variant(
                        f"{base.name} title x{weight}",
                        base.fusion,
                        base.weight,
                        settings={**base.settings, **extra},
                        dense=base.dense,
                        bm25=key,
                    )
                )
    if rerank:
        # the second stage on the default, the best score fusion and dense alone
        bases = [v for v in out if v.name in ("dense", "rrf k=60", "zscore w=0.5", "zscore w=0.5 +prf")]
        for base in bases:
            for sentence, subject in RERANKS:
                name = (
                    base.name + (f" +sent{sentence:g}" if sentence else "") + (f" +subj{subject:g}" if subject else "")
                )
                extra = {"rerank_sentence": sentence, "rerank_subject": subject, "rerank_depth": RERANK_DEPTH}
                out.append(
                    Variant(
                        name,
                        base.fusion,
                        base.weight,
                        settings={**base.settings, **extra},
                        dense=base.dense,
                        bm25=base.bm25,
                        rerank=(sentence, subject),
                    )
                )
    return out


def is_default(variant: Variant, retrieve) -> bool:
    """The variant the settings give today: its settings are the [retrieve] settings' values."""
    return all(getattr(retrieve, key, None) == value for key, value in variant.settings.items())


def mean(values: list[float | None]) -> float:
    vals = [v for v in values if v is not None]
    return sum(vals) / len(vals) if vals else float("nan")


def metrics(ranked: list, relevant: list) -> dict[str, float | None]:
    return {
        "ndcg@10": ndcg_at_k(ranked, relevant, 10),
        "recall@10": recall_at_k(ranked, relevant, 10),
        "recall@100": recall_at_k(ranked, relevant, 100),
        "mrr@10": mrr_at_k(ranked, relevant, 10),
    }


class _WithBm25:
    """The index as a retriever sees it, with another BM25 index (title-weighted texts)."""

    def __init__(self, index: Index, bm25) -> None:
        self._index = index
        self.bm25 = bm25

    def __getattr__(self, name: str):
        return getattr(self._index, name)


def field_bm25(index: Index, title_weight: int, work: Path):
    """A BM25 index of the index's chunks with the title `title_weight` times (text/passage.py
    lexical_text), built with the library's builder into `work`."""
    folder = work / f"title{title_weight}"
    texts = (lexical_text(title, chunk.text, title_weight) for _, chunk, title in index.store.chunk_records())
    lexical.save(lexical.build(texts), folder)
    return lexical.load(folder)


def collect(
    index: Index, embedder, settings, questions: list[dict], depth: int, name: str, fields: Path | None = None
) -> tuple[list[Lists], float]:
    """Each question's dense and BM25 lists of `depth` chunks, with and without pseudo-relevance
    feedback, from the library's retrievers; with `fields` (a work folder) also BM25 lists over
    texts without the title and with it twice and three times (FIELD_LISTS)."""
    retrieve = settings.retrieve
    ann = {"ef_search": retrieve.ef_search, "nprobe": retrieve.nprobe}
    prf = {"prf_chunks": PRF["dense_prf_chunks"], "prf_weight": PRF["dense_prf_weight"]}
    rm3 = {"rm3_docs": RM3["rm3_docs"], "rm3_terms": RM3["rm3_terms"], "rm3_weight": RM3["rm3_weight"]}
    retrievers = {
        "dense": DenseRetriever(index, embedder, **ann),
        "dense_prf": DenseRetriever(index, embedder, **ann, **prf),
        "bm25": Bm25Retriever(index),
        "bm25_rm3": Bm25Retriever(index, **rm3),
    }
    if fields is not None:
        for key, weight in FIELD_LISTS.items():
            retrievers[key] = Bm25Retriever(_WithBm25(index, field_bm25(index, weight, fields)))
    ids = list(index.documents)
    position_of = {doc_id: i for i, doc_id in enumerate(ids)}
    out = []
    started = time.perf_counter()
    for q in tqdm(questions, desc=f"{name}: retrieving", unit=" q", file=sys.stderr):
        relevant = [
            position_of[index.canonical_id(d)] for d in q["relevant_ids"] if index.canonical_id(d) in position_of
        ]
        lists = {key: r.search_positions(q["question"], depth) for key, r in retrievers.items()}
        top = lists["bm25"][0]
        tokens = tokenize_one(expand_query(q["question"]))
        coverage = lexical.coverage(index.bm25, tokens, int(top[0])) if len(top) else 0.0
        out.append(Lists(lists, relevant, coverage, q["question"]))
    return out, (time.perf_counter() - started) * 1000 / max(1, len(questions))


def locate(name: str, args, settings, embedder) -> tuple[Path, Path] | None:
    """(index, questions file) of a data set, the index built on first use; None (with a message) when
    the data set is absent."""
    if name == "clinical":
        from rag_oracle.api import ensure_sample_index

        index_dir, _ = ensure_sample_index(settings, REPO / "corpus", embedder=embedder)
        return index_dir, REPO / "evals" / "clinical" / "questions.jsonl"
    folder = Path(args.data) / name
    qfile = folder / QUESTION_FILES.get(name, "questions.jsonl")
    if not (folder / "corpus.jsonl").is_file() or not qfile.is_file():
        print(f"skipped {name}: {folder} has no corpus.jsonl / {qfile.name}", file=sys.stderr)
        return None
    command = f"benchmarks/retrieval_quality.py ({name})"
    return bench_index(folder / "corpus.jsonl", name, args.index_root, settings, embedder, command), qfile


def check(index_dir: Path, settings, embedder, questions: list[dict], variant: Variant) -> dict[str, float]:
    """The variant through the real pipeline: `RagOracle.search_documents` with its settings."""
    oracle = RagOracle(index_dir, settings.with_overrides({"retrieve": variant.settings}), embedder=embedder)
    rows: dict[str, list] = {m: [] for m in METRICS}
    for q in tqdm(questions, desc=f"check {variant.name}", unit=" q", file=sys.stderr):
        ranked = oracle.search_documents(q["question"], k=100)
        for m, v in metrics(ranked, q["relevant_ids"]).items():
            rows[m].append(v)
    return {m: round(mean(v), 4) for m, v in rows.items()}


def plot(results: dict, names: list[str], default: str, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sets = list(results)
    fig, axes = plt.subplots(1, len(sets), figsize=(6 * len(sets), 0.28 * len(names) + 1.5), sharey=True)
    axes = np.atleast_1d(axes)
    for ax, name in zip(axes, sets, strict=True):
        values = [results[name]["variants"][v]["ndcg@10"] for v in names]
        colors = ["tab:red" if v == default else "tab:blue" for v in names]
        ax.barh(range(len(names)), values, color=colors)
        ax.axvline(results[name]["variants"][default]["ndcg@10"], color="tab:red", lw=0.8, ls="--")
        ax.set_yticks(range(len(names)), names, fontsize=7)
        low = min(values)
        ax.set_xlim(max(0.0, low - 0.05), max(values) + 0.01)
        ax.set_title(f"{name} ({results[name]['questions']} questions)")
        ax.set_xlabel("nDCG@10 (document level)")
    axes[0].invert_yaxis()  # shared: once for all, the first variant on top
    fig.suptitle("Retrieval variants; red: the settings' default")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    print(f"plot: {path}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="../shared/data", help="Folder holding one sub-folder per data set.")
    parser.add_argument("--datasets", nargs="+", default=["scifact", "bioasq", "medquad", "clinical"])
    parser.add_argument("--limit", type=int, help="Use only the first N questions of each set.")
    parser.add_argument(
        "--depth",
        type=int,
        default=500,
        help="Chunks each retriever lists per question (500: what search_documents(k=100) asks for).",
    )
    parser.add_argument("--index-root", default="indexes")
    parser.add_argument(
        "--check",
        action="store_true",
        help="Re-run the default and the best variant through RagOracle.search_documents.",
    )
    parser.add_argument(
        "--fields",
        action="store_true",
        help="Also measure BM25 with the title weighted 0, 2 and 3 times (BM25 indexes built in a temporary folder).",
    )
    parser.add_argument(
        "--rerank",
        action="store_true",
        help="Also measure the second stage (retrieve/rerank.py) on four first stages. Statements of the chunks it "
        "rescores are embedded into the index's sentence store on first use (slow the first time: use --limit).",
    )
    parser.add_argument("--out", help="Also write the results as JSON here (e.g. evals/baselines/...).")
    parser.add_argument("--plot", help="Also draw nDCG@10 per variant and data set into this PNG (matplotlib).")
    args = parser.parse_args()

    settings = load_settings()
    embedder = make_embedder(settings.embed, settings.compute)
    table = variants(args.rerank, args.fields)
    default = next((v.name for v in table if is_default(v, settings.retrieve)), None)
    width = max(len(v.name) for v in table) + 1
    results: dict[str, dict] = {}
    for name in args.datasets:
        located = locate(name, args, settings, embedder)
        if located is None:
            continue
        index_dir, qfile = located
        questions = questions_with_relevant(qfile, args.limit)
        index = Index.open(index_dir, embedder)
        with tempfile.TemporaryDirectory(prefix="rq-fields-") as work:
            fields = Path(work) if args.fields else None
            lists, ms = collect(index, embedder, settings, questions, args.depth, name, fields)
        doc_of = np.asarray(index.chunk_doc_positions)
        ids = list(index.documents)
        res = {
            "questions": len(questions),
            "index": str(index_dir),
            "chunks": len(index.chunks),
            "ms_per_question_four_lists": round(ms, 1),
            "variants": {},
        }
        features = Features(index, embedder) if args.rerank else None
        if features is not None:
            # every reranked chunk's features, once, with progress (statements embedded on first use)
            firsts = {v.first_stage_key: v for v in table if any(v.rerank)}
            for item in tqdm(lists, desc=f"{name}: rerank features", unit=" q", file=sys.stderr):
                heads = [v.first_stage(item) for v in firsts.values()]
                features.of(item, list(dict.fromkeys(p for ps, sc in heads for p in top(ps, sc, RERANK_DEPTH))))
        for variant in tqdm(table, desc=f"{name}: variants", unit=" variant", file=sys.stderr, leave=False):
            rows: dict[str, list] = {m: [] for m in METRICS}
            for item in lists:
                ranked = [ids[d] for d in variant.documents(item, doc_of, features)]
                for m, v in metrics(ranked, [ids[d] for d in item.relevant]).items():
                    rows[m].append(v)
            res["variants"][variant.name] = {m: round(mean(v), 4) for m, v in rows.items()}
        results[name] = res
        print(f"\n== {name}: {len(questions)} questions, {len(index.chunks)} chunks, {index_dir} ==")
        print(f"{'variant':<{width + 1}} {'nDCG@10':>8} {'R@10':>7} {'R@100':>7} {'MRR@10':>7}")
        for v in table:
            r = res["variants"][v.name]
            mark = "*" if v.name == default else " "
            print(
                f"{mark}{v.name:<{width}} {r['ndcg@10']:>8.4f} {r['recall@10']:>7.4f} {r['recall@100']:>7.4f} {r['mrr@10']:>7.4f}"
            )
        index.close()

    if not results:
        print("no data set found; nothing measured")
        return 0
    sets = list(results)
    print(f"\n== nDCG@10 on every set (change against the default{', ' + default if default else ''}) ==")
    print(f"{'variant':<{width + 1}} " + " ".join(f"{s:>16}" for s in sets) + "  every set")
    best, best_gain = None, 0.0
    for v in table:
        cells, gains = [], []
        for s in sets:
            value = results[s]["variants"][v.name]["ndcg@10"]
            gain = value - results[s]["variants"][default]["ndcg@10"] if default else 0.0
            gains.append(gain)
            cells.append(f"{value:.4f} ({gain:+.4f})")
        helps = default is not None and v.name != default and all(g > 0 for g in gains)
        if helps and sum(gains) / len(gains) > best_gain:
            best, best_gain = v.name, sum(gains) / len(gains)
        mark = "*" if v.name == default else " "
        print(f"{mark}{v.name:<{width}} " + " ".join(f"{c:>16}" for c in cells) + ("  +" if helps else ""))
    print(f"\n* the settings' default ({default}); + better nDCG@10 than it on every set")
    print(
        f"best on every set: {best} (mean gain {best_gain:+.4f})"
        if best
        else "no variant beats the default on every set"
    )
    summary = {
        "default": default,
        "best_on_every_set": best,
        "sets": results,
        "settings": {v.name: v.settings for v in table},
    }

    if args.check:
        for name in sets:
            questions = questions_with_relevant(locate(name, args, settings, embedder)[1], args.limit)
            for vname in dict.fromkeys([default, best]):
                if vname is None:
                    continue
                variant = next(v for v in table if v.name == vname)
                if set(variant.settings) - set(type(settings.retrieve).model_fields):
                    print(f"check {name} {vname}: skipped (it needs an index built with other BM25 texts)")
                    continue
                real = check(Path(results[name]["index"]), settings, embedder, questions, variant)
                offline = results[name]["variants"][vname]
                results[name].setdefault("checked", {})[vname] = real
                print(
                    f"check {name} {vname}: pipeline nDCG@10 {real['ndcg@10']:.4f} R@100 {real['recall@100']:.4f} "
                    f"(offline {offline['ndcg@10']:.4f} / {offline['recall@100']:.4f})"
                )
    if args.out:
        Path(args.out).write_text(json.dumps(summary, indent=2) + "\n")
        print(f"results: {args.out}")
    if args.plot and default:
        plot(results, [v.name for v in table], default, args.plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
