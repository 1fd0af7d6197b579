"""Citation metrics of one answer, computed from its text and the passages shown to the generator.

- validity: share of [n] markers in the answer text that resolve to a passage shown to the
  generator (a reference whose chunk is among the retrieved hits). None if there are no markers.
- sentence_coverage: share of answer sentences that carry at least one marker. None if abstained.
- support: share of cited sentences that their cited passages support (verify/support.py:
  content-word coverage >= 0.6, every number-with-unit present, no negation the passages lack).
- numeric_support: share of numbers with units in the answer that appear, with the same value
  and unit, in a passage the sentence cites. None when the answer states no such number.
- abstained: 1.0 if the answer abstained, else 0.0 (its mean is the abstention rate).

Those are the figures of the answer a reader sees, which verification has already cleaned: with
the default policy they are 1.0 by construction. What the generator *proposed* is measured from
the per-sentence verdicts the answer builder recorded before removing anything
(`Answer.verification`), by `draft_citation_metrics`:

- draft_validity: share of the draft's [n] markers that named a passage the generator was shown.
- draft_support: share of draft sentences their cited passages support (the verifier's verdict;
  a sentence with no valid marker is unsupported).
- draft_numeric_support: share of numbers with units in the draft that occur in a passage the
  sentence validly cites (a number in a sentence with no valid marker is unsupported).
- removal_rate: share of draft sentences verification removed.
- invented_number_rate: share of draft sentences that state a number with a unit absent from
  every passage they cite (None when the draft states no such number).
All are None for an answer that abstained before any draft was written.
"""

from __future__ import annotations

from rag_oracle.text.markers import markers_in
from rag_oracle.text.quantities import quantities, unsupported_quantities
from rag_oracle.types import Answer
from rag_oracle.verify.support import support


def citation_metrics(answer: Answer) -> dict[str, float | None]:
    if answer.abstained:
        return {"validity": None, "sentence_coverage": None, "support": None, "numeric_support": None, "abstained": 1.0}
    shown = {h.chunk.id for h in answer.hits}
    passages = {r.number: r.passage for r in answer.references if r.chunk_id in shown}
    markers = markers_in(answer.text)
    validity = sum(n in passages for n in markers) / len(markers) if markers else None
    sentences = [s for section in answer.sections for s in section.sentences]
    coverage = sum(bool(s.citations) for s in sentences) / len(sentences) if sentences else None
    cited = [s for s in sentences if s.citations]
    supported = 0
    numbers = numbers_ok = 0
    for s in cited:
        texts = [passages[n] for n in s.citations if n in passages]
        supported += support(s.text, texts).supported
        found = quantities(s.text)
        numbers += len(found)
        numbers_ok += len(found) - len(unsupported_quantities(s.text, texts))
    for s in sentences:
        if not s.citations:
            numbers += len(quantities(s.text))  # an uncited number is an unsupported number
    return {
        "validity": validity,
        "sentence_coverage": coverage,
        "support": supported / len(cited) if cited else None,
        "numeric_support": numbers_ok / numbers if numbers else None,
        "abstained": 0.0,
    }


def draft_citation_metrics(answer: Answer) -> dict[str, float | None]:
    """Citation figures of the draft (before verification removed anything); see the module docstring."""
    checks = answer.verification
    if not checks:
        return {
            "draft_validity": None,
            "draft_support": None,
            "draft_numeric_support": None,
            "removal_rate": None,
            "invented_number_rate": None,
        }
    markers = sum(len(c.citations) for c in checks)
    invalid = sum(len(c.invalid_markers) for c in checks)
    numbers = numbers_ok = with_numbers = invented = 0
    for c in checks:
        found = len(quantities(c.text))
        if not found:
            continue
        with_numbers += 1
        valid = [n for n in c.citations if n not in c.invalid_markers]
        unsupported = found if not valid else len(c.unsupported_numbers)
        numbers += found
        numbers_ok += found - unsupported
        invented += unsupported > 0
    return {
        "draft_validity": (markers - invalid) / markers if markers else None,
        "draft_support": sum(c.status == "supported" for c in checks) / len(checks),
        "draft_numeric_support": numbers_ok / numbers if numbers else None,
        "removal_rate": sum(c.status == "removed" for c in checks) / len(checks),
        "invented_number_rate": invented / with_numbers if with_numbers else None,
    }
