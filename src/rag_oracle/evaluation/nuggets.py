"""Nugget scoring: does the answer state the facts a correct answer states, and nothing forbidden?

A question may carry `must_include` (facts a correct answer states) and `must_not_include`
(wrong-drug, wrong-population or dangerous content), each a list of nuggets. This is how TREC's
RAG track judges answers; here a nugget is matched in the answer body (without the reference
list), one of two ways:

- a plain phrase matches when it occurs in the answer after both are normalised: Unicode NFKC,
  lower case, every dash as "-", runs of whitespace as one space ("0.5 to 1 mg" matches
  "0.5  to 1 MG");
- `re:<pattern>` is a Python regular expression searched case-insensitively
  (`re:0\\.25\\s*mg` matches "0.25mg" and "0.25 mg").

Per question (None where the question lists no such nuggets):

- nugget_recall: share of the `must_include` nuggets the answer states;
- forbidden: 1.0 when the answer states any `must_not_include` nugget, else 0.0 (its mean is the
  forbidden-content rate);
- fully_right: 1.0 when every `must_include` nugget is stated and no forbidden one; for a
  question marked `answerable: false`, when the answer declined and states nothing forbidden.

An abstention states no fact: its recall is 0 (unless the question is unanswerable).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from rag_oracle.errors import QuestionFileError

_DASHES = re.compile(r"[\u2010-\u2015\u2212]")
_SPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    return _SPACE.sub(" ", _DASHES.sub("-", text)).strip()


def check_nugget(nugget: str) -> str:
    """The nugget if it is usable; QuestionFileError naming it otherwise (an empty phrase, a bad regex)."""
    if not isinstance(nugget, str) or not nugget.strip() or nugget.strip() == "re:":
        raise QuestionFileError(f"empty nugget {nugget!r}: write a phrase, or re:<pattern>")
    if nugget.startswith("re:"):
        try:
            re.compile(nugget[3:], re.I)
        except re.error as exc:
            raise QuestionFileError(f"nugget {nugget!r} is not a valid regular expression ({exc})") from None
    return nugget


def states(answer: str, nugget: str) -> bool:
    """Whether `answer` states `nugget` (see the module docstring for the two forms)."""
    if nugget.startswith("re:"):
        return re.search(nugget[3:], answer, re.I) is not None
    return normalise(nugget) in normalise(answer)


def nugget_scores(
    answer: str,
    abstained: bool,
    must_include: Sequence[str],
    must_not_include: Sequence[str],
    answerable: bool = True,
) -> dict[str, float | None]:
    """nugget_recall, forbidden and fully_right for one answer (see the module docstring)."""
    text = "" if abstained else answer
    found = [states(text, n) for n in must_include]
    forbidden = any(states(text, n) for n in must_not_include)
    recall = sum(found) / len(found) if found else None
    if not answerable:
        fully = float(abstained and not forbidden)
    elif must_include or must_not_include:
        fully = float(all(found) and not forbidden)
    else:
        fully = None
    return {
        "nugget_recall": recall if answerable else None,
        "forbidden": float(forbidden) if must_not_include else None,
        "fully_right": fully,
    }
