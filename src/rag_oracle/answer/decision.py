"""A yes / no / maybe decision for yes-no questions, read off the answer's own sentences.

No model: cue phrases in the direct answer (the two sentences that best match the question).
- "no" when there are at least two negative cues ("did not", "no significant", "not associated",
  "no difference", "not recommended", "failed to", "avoided", "not needed", ...) and they are
  at least as many as the hedges;
- "maybe" when there are at least three hedges ("may", "might", "unclear", "inconclusive",
  "further studies", "limited evidence", ...) and they outnumber the negative cues;
- otherwise "yes" (questions asked in the literature are more often answered yes).
An abstained answer has no decision. The thresholds were chosen on PubMedQA dev, where this
rule scores at the majority-class level (about 0.56 accuracy): cue phrases cannot read a
verdict reliably; an LLM generator (or an NLI model) is needed for better decisions.
"""

from __future__ import annotations

import re

from rag_oracle.types import Answer

_AUXILIARY = r"\s*(?:is|are|was|were|does|do|did|can|could|should|would|will|has|have|had|may|might|must)\b"
_YES_NO_START = re.compile(_AUXILIARY, re.I)  # used with .match: at the start, or at a given position
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


# A title-style lead-in before the question proper: "Biliary atresia: should all patients ...?",
# "Metered-dose inhalers. Do health care providers know what to teach?"
_LEAD_IN = re.compile(r"(?:^|[:;?]\s+|\.\s+|\s[-\u2013\u2014]\s+)")


def is_yes_no_question(question: str) -> bool:
    """Whether the question (or its last clause, after a title-style lead-in) asks yes or no.

    >>> is_yes_no_question("Is clonazepam approved for depression?")
    True
    >>> is_yes_no_question("Biliary atresia: should all patients undergo a portoenterostomy?")
    True
    >>> is_yes_no_question("What is the dose of clonazepam?")
    False
    """
    if _YES_NO_START.match(question):
        return True
    text = question.strip()
    if not text.endswith("?"):
        return False
    return any(_YES_NO_START.match(text, m.end()) for m in _LEAD_IN.finditer(text) if m.end() > 0)


def decide(answer: Answer) -> str | None:
    if answer.abstained or not answer.sections:
        return None
    direct = " ".join(s.text for section in answer.sections if section.kind == "direct" for s in section.sentences)
    negative = len(_NEGATIVE.findall(direct))
    hedge = len(_HEDGE.findall(direct))
    if negative >= 2 and negative >= hedge:
        return "no"
    if hedge >= 3 and hedge > negative:
        return "maybe"
    return "yes"
