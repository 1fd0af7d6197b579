"""A yes / no / maybe decision for yes-no questions, read off the answer's own sentences.

No model: cue phrases in the sentences the answer quotes, the direct answer counting double.
- "no" when negative findings dominate ("did not", "no significant", "not associated",
  "no difference", "not recommended", "failed to", "avoided", "not needed", ...);
- "maybe" when hedges dominate ("may", "might", "unclear", "inconclusive", "further studies",
  "limited evidence", ...) and there is at least one;
- otherwise "yes" (in the literature, questions that are asked are more often answered yes).
An abstained answer has no decision.
"""

from __future__ import annotations

import re

from rag_oracle.types import Answer

_YES_NO_START = re.compile(
    r"^\s*(?:is|are|was|were|does|do|did|can|could|should|would|will|has|have|had|may|might|must)\b", re.I
)
_NEGATIVE = re.compile(
    r"\b(?:did not|does not|do not|was not|were not|is not|are not|no significant|not significant\w*|"
    r"not associated|no association|no difference|no effect|no evidence|not improve\w*|failed to|"
    r"no benefit|not recommended|neither|not support\w*|not predict\w*|no relationship|no correlation|"
    r"not related|not reduce\w*|not increase\w*|unrelated|avoid\w*|forgo\w*|"
    r"not (?:needed|necessary|required|indicated)|unnecessary|no need)\b",
    re.I,
)
_HEDGE = re.compile(
    r"\b(?:may|might|unclear|uncertain\w*|inconclusive|further (?:research|studies|study|trials)|"
    r"limited evidence|possibl\w+|remains? to be|not clear|conflicting|controvers\w*|warrant\w*)\b",
    re.I,
)


def is_yes_no_question(question: str) -> bool:
    return bool(_YES_NO_START.match(question))


def decide(answer: Answer) -> str | None:
    if answer.abstained or not answer.sections:
        return None
    negative = hedge = 0
    for section in answer.sections:
        weight = 2 if section.kind == "direct" else 1
        for sentence in section.sentences:
            negative += weight * len(_NEGATIVE.findall(sentence.text))
            hedge += weight * len(_HEDGE.findall(sentence.text))
    if negative and negative >= hedge:
        return "no"
    if hedge >= 2 and hedge > negative:
        return "maybe"
    return "yes"
