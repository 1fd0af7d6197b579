"""Follow-up chains: is the standalone question a rewriter makes what the clinician meant?

A chain file holds one JSON object per line: `{"id", "turns": [...], "expected_standalone": [...]}`
(as many expected questions as turns; the first is the first turn itself). Every turn after the
first is rewritten with the earlier turns as history (their rewritten questions as the
standalone ones, as a conversation stores them) and compared with the expected question:

- subject_right: the rewrite names exactly the drugs the expected question names (the new drug
  replaces the old one; neither is lost nor kept beside the other), by the offline drug dictionary
  of the attribution metrics;
- population_right: the rewrite names the same populations (children, adults, older adults,
  pregnancy, renal, hepatic) as the expected question: a new population replaces the old one;
- token_f1: SQuAD-style token F1 of the rewrite against the expected question (the context kept);
- fully_right: subject and population both right.

Example::

    result = evaluate_followups(load_chains("evals/clinical/followups.jsonl"), service.rewriter)
    result["metrics"]["subject_right"]["mean"]
"""

from __future__ import annotations

import json
from pathlib import Path

from rag_oracle.chat.base import QuestionRewriter
from rag_oracle.errors import QuestionFileError
from rag_oracle.evaluation.answer_metrics import summarize, token_f1
from rag_oracle.evaluation.attribution import drugs_in, populations_in
from rag_oracle.types import Exchange


def load_chains(path: str | Path) -> list[dict]:
    """The chains of a file; QuestionFileError naming the line for a malformed one."""
    path = Path(path)
    if not path.is_file():
        raise QuestionFileError(f"follow-up chains file {path} does not exist")
    chains = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            chain = json.loads(line)
        except json.JSONDecodeError as exc:
            raise QuestionFileError(f"{path}:{lineno}: not JSON ({exc})") from None
        turns, expected = chain.get("turns"), chain.get("expected_standalone")
        if not chain.get("id") or not isinstance(turns, list) or not isinstance(expected, list):
            raise QuestionFileError(f"{path}:{lineno}: needs 'id', 'turns' and 'expected_standalone' lists")
        if len(turns) != len(expected) or len(turns) < 2:
            raise QuestionFileError(
                f"{path}:{lineno}: {len(turns)} turns but {len(expected)} expected questions; a chain needs at "
                "least two turns and one expected standalone question per turn"
            )
        chains.append(chain)
    if not chains:
        raise QuestionFileError(f"{path} holds no chains")
    return chains


def score_rewrite(produced: str, expected: str) -> dict[str, float]:
    subject = float(drugs_in(produced) == drugs_in(expected))
    population = float(populations_in(produced) == populations_in(expected))
    return {
        "subject_right": subject,
        "population_right": population,
        "token_f1": token_f1(produced, expected) or 0.0,
        "fully_right": float(subject and population),
    }


def evaluate_followups(chains: list[dict], rewriter: QuestionRewriter) -> dict:
    """Every follow-up turn rewritten and scored; metrics with 95% intervals over the turns."""
    turns = []
    for chain in chains:
        history: list[Exchange] = []
        for i, (message, expected) in enumerate(zip(chain["turns"], chain["expected_standalone"], strict=True)):
            produced = rewriter.rewrite(history, message) if history else message
            if i > 0:
                turns.append(
                    {
                        "id": chain["id"],
                        "turn": i,
                        "message": message,
                        "expected": expected,
                        "produced": produced,
                        **score_rewrite(produced, expected),
                    }
                )
            history.append(Exchange(question=message, standalone=produced))
    metrics = {
        name: summarize([t[name] for t in turns])
        for name in ("subject_right", "population_right", "token_f1", "fully_right")
    }
    return {"rewriter": getattr(rewriter, "name", ""), "turns": turns, "metrics": metrics}
