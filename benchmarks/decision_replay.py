"""Re-apply the yes/no decision rule to the answers of a finished evaluation run, without re-running it.

    python benchmarks/decision_replay.py runs/decision-before/pubmedqa-hybrid --split 250

A run's predictions.jsonl keeps each answer as its rendered text (`Answer.text`); this script
reads the sections back from that text (the direct answer, then titled blocks of "- " lines),
asks `rag_oracle.answer.decision.decide` for a verdict exactly where the answer builder would
(a yes/no question that was answered), and prints accuracy, macro-F1 and the share decided
(`evaluation.answer_metrics.decision_scores`) for all labelled questions and, with --split N,
for the first N and the rest separately (tune on the first part, report on the rest). The
decision saved in the run is scored beside it, so the rule in force when the run was made and
the rule in the working tree can be compared on the same answers.

With --lead reference the direct answer is replaced by the question's reference answer (for
PubMedQA, the abstract's own conclusion, which the corpus leaves out): what the rule reads when
the lead sentences state the finding, apart from how well the generator picks them. There is no
saved decision to compare with then. Prints figures only.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path

from rag_oracle.answer.decision import decide, is_yes_no_question
from rag_oracle.evaluation.answer_metrics import decision_scores
from rag_oracle.text.sentences import sentence_spans
from rag_oracle.types import Answer, AnswerSection, AnswerSentence

# Section titles the generators write (generate/extractive.py, generate/llm.py) and their kinds.
_KINDS = {
    "Answer": "direct",
    "Dosing and administration": "dosing",
    "Safety and monitoring": "safety",
    "Key points": "key_points",
    "Evidence note": "evidence_note",
}
_MARKERS = re.compile(r"((?:\[\d+\])+)(?= |$)")
_NUMBER = re.compile(r"\d+")


def _sentence(text: str, markers: str) -> AnswerSentence:
    return AnswerSentence(text=text.strip(), citations=[int(n) for n in _NUMBER.findall(markers)])


def _direct(block: str) -> list[AnswerSentence]:
    parts = _MARKERS.split(block)  # text, markers, text, markers, ..., trailing text
    sentences = [_sentence(parts[i], parts[i + 1]) for i in range(0, len(parts) - 1, 2)]
    if parts[-1].strip():
        sentences.append(_sentence(parts[-1], ""))
    return [s for s in sentences if s.text]


def answer_from_prediction(p: dict) -> Answer:
    """The answer of one prediction line, with its sections read back from the rendered text."""
    if p.get("abstained"):
        return Answer(question=p["question"], abstained=True, abstention_reason=p.get("answer", ""))
    blocks = (p.get("answer") or "").split("\n\n")
    sections = [AnswerSection(kind="direct", title="Answer", sentences=_direct(blocks[0]))] if blocks[0] else []
    for block in blocks[1:]:
        title, _, body = block.partition("\n")
        if title == "Conflicting evidence":
            continue  # rendered from Answer.conflicts, not a section
        lines = [line[2:] for line in body.splitlines() if line.startswith("- ")]
        sentences = []
        for line in lines:
            parts = _MARKERS.split(line)
            sentences.append(_sentence(parts[0], parts[1] if len(parts) > 1 else ""))
        sections.append(AnswerSection(kind=_KINDS.get(title, "key_points"), title=title, sentences=sentences))
    return Answer(question=p["question"], abstained=False, sections=sections)


def answer_from_reference(p: dict) -> Answer:
    """An answer whose direct section is the question's reference answer, sentence by sentence."""
    text = p.get("reference_answer") or ""
    sentences = [AnswerSentence(text=text[a:b], citations=[1]) for a, b in sentence_spans(text)]
    return Answer(
        question=p["question"],
        abstained=False,
        sections=[AnswerSection(kind="direct", title="Answer", sentences=sentences)],
    )


def replay(p: dict, lead: str = "answer") -> str | None:
    """The decision the answer builder would give this prediction's answer today."""
    answer = answer_from_reference(p) if lead == "reference" else answer_from_prediction(p)
    if answer.abstained or not is_yes_no_question(p["question"]):
        return None
    return decide(p["question"], answer)


def _line(name: str, gold: list[str], predicted: list[str | None]) -> str:
    s = decision_scores(gold, predicted)
    if s is None:
        return f"{name}: no labelled questions"
    counts = Counter(p for p in predicted)
    shown = ", ".join(f"{k}={counts[k]}" for k in ("yes", "no", "maybe", None) if counts[k])
    return (
        f"{name:<28} n={len(gold):<4} accuracy={s['accuracy']:.3f} macro_f1={s['macro_f1']:.3f} "
        f"decided={s['decided']:.3f} accuracy_when_decided={_accuracy_decided(gold, predicted)}  ({shown})"
    )


def _accuracy_decided(gold: list[str], predicted: list[str | None]) -> str:
    pairs = [(g, p) for g, p in zip(gold, predicted, strict=True) if p is not None]
    return f"{sum(g == p for g, p in pairs) / len(pairs):.3f}" if pairs else "-"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="A run directory holding predictions.jsonl (or the file itself).")
    parser.add_argument("--split", type=int, help="Also score the first N labelled questions and the rest apart.")
    parser.add_argument("--show", type=int, default=0, help="Print this many wrong decided verdicts.")
    parser.add_argument(
        "--lead",
        choices=["answer", "reference"],
        default="answer",
        help="Read the run's answers (default) or put each question's reference answer in the lead.",
    )
    args = parser.parse_args()
    path = args.run / "predictions.jsonl" if args.run.is_dir() else args.run
    if not path.is_file():
        print(f"no predictions at {path}", file=sys.stderr)
        return 2
    predictions = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    labelled = [p for p in predictions if p.get("gold_decision") and "error" not in p]
    gold = [p["gold_decision"] for p in labelled]
    saved = [p.get("decision") for p in labelled]
    now = [replay(p, args.lead) for p in labelled]
    print(f"{path}: {len(labelled)} labelled predictions; gold {dict(Counter(gold))}")
    parts = [("all", slice(None))]
    if args.split:
        parts += [(f"first {args.split}", slice(None, args.split)), (f"after {args.split}", slice(args.split, None))]
    for name, part in parts:
        if args.lead == "answer":
            print(_line(f"saved in run, {name}", gold[part], saved[part]))
        print(_line(f"decide() now, {name}", gold[part], now[part]))
    wrong = [(p, d) for p, d in zip(labelled, now, strict=True) if d is not None and d != p["gold_decision"]]
    for p, d in wrong[: args.show]:
        shown = answer_from_reference(p) if args.lead == "reference" else answer_from_prediction(p)
        direct = " | ".join(s.text for s in shown.sections[0].sentences)
        print(f"\n{p['id']} gold={p['gold_decision']} decided={d}\n  Q: {p['question']}\n  A: {direct}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
