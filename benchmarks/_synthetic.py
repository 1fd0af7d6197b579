"""Helpers shared by the performance benchmarks (not a benchmark itself).

- `write_corpus`: seeded synthetic clinical-ish documents in the JSONL interchange format
  (`{"id", "title", "text", "year"}`), with realistic BM25 term statistics: a core of real
  clinical words, drug names, doses and conditions, plus a Zipf-distributed long tail of
  pseudo-terms (gene/marker-like tokens), so posting lists are neither all short nor all long.
- `make_questions`: distinct clinical questions over the same vocabulary.
- `RandomEmbedder`: an object satisfying `rag_oracle.embed.base.Embedder` that returns unit
  vectors derived from a hash of the text (kind "random") or of its words (kind "bow"), so it is
  fast, deterministic (the same text always gets the same vector, in any index) and needs no model.
- small measuring helpers: percentiles, peak RSS, size on disk.
- `bench_index`: the index of a shared data set's corpus.jsonl (`indexes/bench-<set>-<fingerprint>`),
  built on first use and reused after, for the quality benchmarks.

The scripts next to this file import it (running `python benchmarks/x.py` puts benchmarks/ on sys.path).
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import resource
from collections.abc import Sequence
from pathlib import Path

import numpy as np

DRUGS = (
    "warfarin apixaban rivaroxaban dabigatran heparin enoxaparin aspirin clopidogrel ticagrelor prasugrel "
    "metformin insulin glipizide sitagliptin empagliflozin dapagliflozin liraglutide semaglutide pioglitazone "
    "lisinopril enalapril ramipril losartan valsartan amlodipine nifedipine diltiazem verapamil metoprolol "
    "carvedilol bisoprolol atenolol propranolol furosemide torsemide hydrochlorothiazide spironolactone "
    "atorvastatin rosuvastatin simvastatin ezetimibe digoxin amiodarone sotalol dofetilide levothyroxine "
    "methimazole prednisone dexamethasone hydrocortisone methylprednisolone budesonide fluticasone albuterol "
    "tiotropium montelukast omeprazole pantoprazole famotidine ondansetron metoclopramide amoxicillin "
    "ceftriaxone cefazolin vancomycin piperacillin meropenem azithromycin doxycycline ciprofloxacin "
    "levofloxacin nitrofurantoin trimethoprim metronidazole clindamycin linezolid fluconazole acyclovir "
    "oseltamivir sertraline fluoxetine escitalopram citalopram paroxetine venlafaxine duloxetine bupropion "
    "mirtazapine trazodone amitriptyline nortriptyline lithium valproate lamotrigine levetiracetam "
    "carbamazepine phenytoin gabapentin pregabalin clonazepam lorazepam diazepam alprazolam zolpidem "
    "quetiapine olanzapine risperidone haloperidol aripiprazole morphine oxycodone hydromorphone fentanyl "
    "tramadol buprenorphine methadone naloxone acetaminophen ibuprofen naproxen celecoxib ketorolac "
    "allopurinol colchicine febuxostat methotrexate hydroxychloroquine adalimumab infliximab rituximab "
    "tacrolimus cyclosporine mycophenolate azathioprine tamoxifen letrozole anastrozole cisplatin "
    "carboplatin paclitaxel docetaxel pembrolizumab nivolumab bevacizumab trastuzumab"
).split()

CONDITIONS = (
    "atrial fibrillation|venous thromboembolism|pulmonary embolism|heart failure|hypertension|type 2 diabetes|"
    "type 1 diabetes|chronic kidney disease|acute kidney injury|community-acquired pneumonia|sepsis|"
    "urinary tract infection|cellulitis|osteomyelitis|asthma|chronic obstructive pulmonary disease|"
    "major depressive disorder|generalized anxiety disorder|bipolar disorder|schizophrenia|epilepsy|"
    "migraine|Parkinson disease|Alzheimer disease|stroke|transient ischemic attack|myocardial infarction|"
    "stable angina|peripheral artery disease|hyperlipidemia|hypothyroidism|hyperthyroidism|gout|"
    "rheumatoid arthritis|osteoarthritis|systemic lupus erythematosus|psoriasis|Crohn disease|"
    "ulcerative colitis|gastroesophageal reflux disease|peptic ulcer disease|cirrhosis|hepatitis C|"
    "HIV infection|tuberculosis|influenza|COVID-19|breast cancer|non-small cell lung cancer|"
    "colorectal cancer|prostate cancer|multiple myeloma|chronic pain|opioid use disorder|"
    "alcohol use disorder|insomnia|obesity|osteoporosis|anemia|preeclampsia"
).split("|")

POPULATIONS = (
    "older adults|children|adolescents|pregnant women|patients undergoing surgery|patients on dialysis|"
    "patients with renal impairment|patients with hepatic impairment|critically ill patients|"
    "outpatients|nursing home residents|postmenopausal women|patients after cardiac surgery"
).split("|")

OUTCOMES = (
    "all-cause mortality|major bleeding|hospital readmission|stroke|fracture|hypoglycemia|"
    "acute kidney injury|QT prolongation|falls|delirium|serotonin syndrome|hyperkalemia|"
    "respiratory depression|Clostridioides difficile infection|liver injury|weight gain|"
    "remission|relapse|symptom control|quality of life|length of stay"
).split("|")

STUDY = (
    "randomized controlled trial|prospective cohort study|retrospective cohort study|"
    "systematic review and meta-analysis|case-control study|cross-sectional study|"
    "pragmatic trial|open-label extension study|registry analysis|clinical practice guideline"
).split("|")

UNITS = ("mg", "mg", "mg", "mcg", "g", "mg/kg", "units", "mL")
FREQS = ("once daily", "twice daily", "three times daily", "every 8 hours", "every 12 hours", "at bedtime", "weekly")

CORE_WORDS = (
    "patients treatment therapy dose risk clinical study trial group outcome associated increased reduced "
    "significant effect efficacy safety adverse events baseline follow-up months weeks days years "
    "compared placebo control intervention analysis data results primary secondary endpoint incidence "
    "rate ratio hazard odds confidence interval mortality morbidity hospital admission emergency "
    "department care management guideline recommendation evidence quality moderate low high severe "
    "mild acute chronic disease disorder syndrome infection inflammation function renal hepatic cardiac "
    "pulmonary neurological cognitive psychiatric metabolic serum plasma level concentration clearance "
    "half-life monitoring laboratory test diagnosis screening prevention prophylaxis discontinuation "
    "withdrawal tapering titration initiation maintenance response remission relapse recurrence "
    "tolerability adherence interaction contraindication bleeding thrombosis hypotension bradycardia "
    "tachycardia arrhythmia nausea vomiting diarrhea constipation dizziness headache fatigue rash "
    "hypersensitivity anaphylaxis elderly pediatric pregnancy lactation surgery perioperative "
    "postoperative preoperative intravenous oral subcutaneous intramuscular infusion bolus loading "
    "regimen combination monotherapy first-line second-line alternative benefit harm cost "
    "cost-effectiveness population cohort sample participants enrolled randomized allocated blinded "
    "observational multicenter international national registry database electronic records "
    "measured assessed evaluated observed reported estimated adjusted stratified subgroup "
    "sensitivity heterogeneity bias limitation strength cause mechanism pathway receptor inhibitor "
    "agonist antagonist biomarker genotype phenotype polymorphism expression protein enzyme cell tissue"
).split()

STOP = "the of in and with was were for to a an on at by from as that this these than or not is are be".split()

_SYLLABLES = ("ka ri to ne mu sa le vi do pa zo fe li ru ba ti no ga mi se ko du ha re ci lo pe ma su ve").split()


def _tail_vocabulary(rng: random.Random, size: int) -> list[str]:
    """Pseudo-terms for the long tail: marker-like (CXCL12, rs40211) and word-like (kamiro)."""
    words: set[str] = set()
    while len(words) < size:
        r = rng.random()
        if r < 0.25:
            words.add(
                "".join(rng.choice("ABCDEFGHKLMNPRSTX") for _ in range(rng.randint(2, 4))) + str(rng.randint(1, 99))
            )
        elif r < 0.35:
            words.add(f"rs{rng.randint(1000, 999999)}")
        else:
            words.add("".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4))))
    return sorted(words)


class _Vocab:
    def __init__(self, seed: int, tail_size: int = 30_000) -> None:
        rng = random.Random(seed * 7919 + 1)
        self.words = CORE_WORDS + _tail_vocabulary(rng, tail_size)
        self.np_rng = np.random.default_rng(seed)
        self._buffer: list[int] = []
        self._pos = 0

    def filler(self, n: int) -> list[str]:
        """n words, Zipf-distributed over the vocabulary (core words are the most frequent)."""
        if self._pos + n > len(self._buffer):
            ranks = self.np_rng.zipf(1.15, size=200_000)
            self._buffer = self._buffer[self._pos :] + (ranks[ranks <= len(self.words)] - 1).tolist()
            self._pos = 0
        out = self._buffer[self._pos : self._pos + n]
        self._pos += n
        return [self.words[i] for i in out]


def _dose(rng: random.Random) -> str:
    value = rng.choice((0.5, 1, 2, 2.5, 5, 10, 12.5, 20, 25, 40, 50, 75, 100, 150, 200, 250, 300, 500, 1000))
    return f"{value:g} {rng.choice(UNITS)}"


def _sentence(rng: random.Random, vocab: _Vocab, drug: str, condition: str) -> str:
    other = rng.choice(DRUGS)
    kind = rng.randrange(9)
    if kind == 0:
        s = f"The recommended starting dose of {drug} is {_dose(rng)} {rng.choice(FREQS)}, titrated to a maximum of {_dose(rng)} per day"
    elif kind == 1:
        s = (
            f"In {rng.choice(POPULATIONS)} with {condition}, {drug} reduced {rng.choice(OUTCOMES)} compared with "
            f"{other} (hazard ratio 0.{rng.randint(50, 95)}; 95% CI 0.{rng.randint(30, 60)} to 0.{rng.randint(80, 99)})"
        )
    elif kind == 2:
        s = f"{drug.capitalize()} should be stopped {rng.randint(1, 7)} days before elective surgery and restarted after {rng.randint(12, 72)} hours"
    elif kind == 3:
        s = f"Concomitant use of {drug} and {other} increases the risk of {rng.choice(OUTCOMES)}, so monitoring is advised"
    elif kind == 4:
        s = f"A {rng.choice(STUDY)} of {rng.randint(40, 9000)} participants with {condition} evaluated {drug} over {rng.randint(4, 104)} weeks"
    elif kind == 5:
        s = f"{drug.capitalize()} is not recommended in {rng.choice(POPULATIONS)} because of {rng.choice(OUTCOMES)}"
    elif kind == 6:
        s = f"The incidence of {rng.choice(OUTCOMES)} was {rng.randint(1, 40)}.{rng.randint(0, 9)}% with {drug} and {rng.randint(1, 40)}.{rng.randint(0, 9)}% with placebo"
    else:
        words = vocab.filler(rng.randint(8, 20))
        pos = rng.randrange(len(words))
        words[pos:pos] = [rng.choice(STOP), drug, rng.choice(STOP)]
        words.insert(rng.randrange(len(words)), rng.choice(STOP))
        s = " ".join(words)
        s = s[0].upper() + s[1:]
    return s + "."


def make_document(i: int, rng: random.Random, vocab: _Vocab, min_words: int, max_words: int) -> dict:
    drug, condition = rng.choice(DRUGS), rng.choice(CONDITIONS)
    title = f"{drug.capitalize()} for {condition} in {rng.choice(POPULATIONS)}: a {rng.choice(STUDY)}"
    target = rng.randint(min_words, max_words)
    sentences: list[str] = []
    words = 0
    while True:
        s = _sentence(rng, vocab, drug, condition)
        n = len(s.split())
        if words + n > max_words:
            if words >= min_words:
                break
            continue  # too long for the budget; draw another sentence
        sentences.append(s)
        words += n
        if words >= target:
            break
    return {"id": f"syn-{i:07d}", "title": title, "text": " ".join(sentences), "year": rng.randint(1995, 2024)}


def write_corpus(path: Path, n: int, *, seed: int = 0, min_words: int = 90, max_words: int = 180) -> Path:
    """Write `n` synthetic documents of min_words..max_words words each to `path` (JSONL)."""
    rng = random.Random(seed)
    vocab = _Vocab(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(n):
            fh.write(json.dumps(make_document(i, rng, vocab, min_words, max_words)))
            fh.write("\n")
    return path


def make_questions(n: int, *, seed: int = 1) -> list[str]:
    """`n` distinct clinical questions over the corpus vocabulary."""
    rng = random.Random(seed)
    templates = (
        "What is the recommended dose of {d} for {c}?",
        "How many days before surgery should {d} be stopped?",
        "Does {d} reduce {o} in {p} with {c}?",
        "Is {d} safe in {p}?",
        "What are the risks of combining {d} with {d2}?",
        "How should {d} be titrated in {c}?",
        "Which adverse events are associated with {d} in {c}?",
        "Is {d} or {d2} more effective for {c}?",
        "What monitoring is needed when starting {d} for {c}?",
        "When should {d} be discontinued because of {o}?",
    )
    seen: dict[str, None] = {}
    while len(seen) < n:
        q = rng.choice(templates).format(
            d=rng.choice(DRUGS),
            d2=rng.choice(DRUGS),
            c=rng.choice(CONDITIONS),
            o=rng.choice(OUTCOMES),
            p=rng.choice(POPULATIONS),
        )
        seen.setdefault(q, None)
    return list(seen)


_WORD = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_BOW_STOP = frozenset(STOP) | {"what", "how", "which", "does", "should", "when", "per", "after", "before", "so"}


def _hash_vector(key: str, dimension: int) -> np.ndarray:
    """A pseudo-random direction from shake_256(key): ~2 µs, deterministic across runs and processes."""
    raw = np.frombuffer(hashlib.shake_256(key.encode("utf-8")).digest(2 * dimension), dtype=np.int16)
    return raw.astype(np.float32)


class RandomEmbedder:
    """Implements the Embedder protocol without a model: fast, deterministic synthetic unit vectors.

    kind="random" (default): each text gets an independent pseudo-random unit vector from a hash
    of the text (queries are salted, so a query never equals a document vector). Latency of FAISS
    Flat does not depend on the data, so it is realistic; retrieval *quality* is meaningless and
    HNSW recall is at its worst (independent random vectors in 384-d have no neighbourhood structure).

    kind="bow": the normalised sum of per-word random vectors (log-scaled term counts, stopwords
    dropped), a random projection of the bag of words. Texts sharing words get similar vectors, so
    the data has neighbourhood structure like real embeddings and HNSW recall becomes meaningful.
    """

    def __init__(self, dimension: int = 384, kind: str = "random") -> None:
        if kind not in ("random", "bow"):
            raise ValueError(f"kind must be 'random' or 'bow', not {kind!r}")
        self._dimension = dimension
        self.kind = kind
        self._words: dict[str, np.ndarray] = {}
        self.calls: list[list[str]] = []  # embed_documents batches, recorded only while `record` is True
        self.record = False

    @property
    def model_id(self) -> str:
        return f"benchmark-{self.kind}:v1:dim={self._dimension}"

    @property
    def dimension(self) -> int:
        return self._dimension

    @property
    def max_tokens(self) -> int:
        return 512

    def _bow(self, text: str) -> np.ndarray:
        counts: dict[str, int] = {}
        for w in _WORD.findall(text.lower()):
            if w not in _BOW_STOP:
                counts[w] = counts.get(w, 0) + 1
        if not counts:
            return _hash_vector(text, self._dimension)
        vecs = []
        for w in counts:
            v = self._words.get(w)
            if v is None:
                v = self._words[w] = _hash_vector("w:" + w, self._dimension)
            vecs.append(v)
        weights = np.log1p(np.fromiter(counts.values(), dtype=np.float32, count=len(counts)))
        return weights @ np.stack(vecs)

    def _embed(self, texts: Sequence[str], salt: str) -> np.ndarray:
        if self.kind == "bow":
            raw = np.stack([self._bow(t) for t in texts])
        else:
            raw = np.stack([_hash_vector(salt + t, self._dimension) for t in texts])
        return (raw / np.linalg.norm(raw, axis=1, keepdims=True)).astype(np.float32)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        if self.record:
            self.calls.append(list(texts))
        if not texts:
            return np.zeros((0, self._dimension), dtype=np.float32)
        return self._embed(texts, "doc:")

    def embed_query(self, text: str) -> np.ndarray:
        return self._embed([text], "query:")[0]

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return [len(t.split()) for t in texts]


def percentiles_ms(seconds: Sequence[float]) -> tuple[float, float, float]:
    """(p50, p95, mean) in milliseconds."""
    arr = np.asarray(seconds, dtype=np.float64) * 1000
    return float(np.percentile(arr, 50)), float(np.percentile(arr, 95)), float(arr.mean())


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far (ru_maxrss is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def code_version() -> str:
    """The commit of the library under test, and whether src/ has uncommitted changes."""
    import subprocess

    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "src"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + (" + uncommitted changes in src/" if dirty else "")


def dir_size_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file()) / 1e6


def questions_with_relevant(path: Path, limit: int | None = None) -> list[dict]:
    """The questions of a JSONL question file that name relevant documents, the first `limit` of them."""
    out = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            q = json.loads(line)
            if q.get("relevant_ids"):
                out.append(q)
            if limit and len(out) >= limit:
                break
    return out


def bench_index(corpus: Path, name: str, index_root: str | Path, settings, embedder, command: str) -> Path:
    """`<index_root>/bench-<name>-<settings fingerprint[:8]>`, ingested from `corpus` unless it exists."""
    import sys
    import time

    from rag_oracle import ingest
    from rag_oracle.cli import TqdmProgress

    index = Path(index_root) / f"bench-{name}-{settings.index_fingerprint()[:8]}"
    if not (index / "manifest.json").is_file():
        started = time.perf_counter()
        report = ingest([corpus], index, settings, embedder=embedder, progress=TqdmProgress(), command=command)
        print(f"{name}: built {index} in {time.perf_counter() - started:.0f}s: {report.summary()}", file=sys.stderr)
    return index
