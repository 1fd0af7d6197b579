"""Numbers with units (doses, durations, percentages, thresholds), found and normalised for comparison.

"0.5mg", "0.5 mg" and "0.50 mg" normalise alike; "1-2 days" and "1 to 2 days" give the range
(1, 2, "day"); "10 x 10^9/L" is one quantity. Comparing normalised quantities is how a stated
dose is matched against the passage it cites.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_UNIT_ALIASES = {
    "mg": "mg",
    "milligram": "mg",
    "milligrams": "mg",
    "mcg": "mcg",
    "µg": "mcg",
    "\u03bcg": "mcg",  # Greek mu; the line above is the micro sign
    "ug": "mcg",
    "microgram": "mcg",
    "micrograms": "mcg",
    "g": "g",
    "gram": "g",
    "grams": "g",
    "kg": "kg",
    "ml": "ml",
    "l": "l",
    "unit": "unit",
    "units": "unit",
    "iu": "iu",
    "mmol": "mmol",
    "mmol/l": "mmol/l",
    "mg/dl": "mg/dl",
    "mg/kg": "mg/kg",
    "mg/kg/day": "mg/kg/day",
    "mg/day": "mg/day",
    "mg/d": "mg/day",
    "mmhg": "mmhg",
    "%": "%",
    "percent": "%",
    "hour": "hour",
    "hours": "hour",
    "h": "hour",
    "hr": "hour",
    "hrs": "hour",
    "day": "day",
    "days": "day",
    "d": "day",
    "week": "week",
    "weeks": "week",
    "wk": "week",
    "month": "month",
    "months": "month",
    "year": "year",
    "years": "year",
    "minute": "minute",
    "minutes": "minute",
    "min": "minute",
    "x 10^9/l": "x10^9/l",
    "x10^9/l": "x10^9/l",
    "×10^9/l": "x10^9/l",
    "ml/min": "ml/min",
}
_UNITS = sorted(_UNIT_ALIASES, key=len, reverse=True)
_UNIT_RE = "|".join(re.escape(u) for u in _UNITS)
_NUM = r"\d+(?:[.,]\d+)?"
QUANTITY = re.compile(
    rf"(?<![\w.])(?P<a>{_NUM})-?(?:\s*(?:-|–|to)\s*(?P<b>{_NUM}))?(?:\s*|-)(?P<unit>{_UNIT_RE})(?![a-zA-Z])",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Quantity:
    low: float
    high: float
    unit: str
    text: str

    def key(self) -> tuple[float, float, str]:
        return (self.low, self.high, self.unit)


def _number(text: str) -> float:
    return float(text.replace(",", "."))


def quantities(text: str) -> list[Quantity]:
    """Every number-with-unit in `text`, in order."""
    out = []
    for m in QUANTITY.finditer(text):
        raw = m.group("unit").lower()
        unit = _UNIT_ALIASES.get(raw) or _UNIT_ALIASES.get(unicodedata.normalize("NFKC", raw), raw)
        low = _number(m.group("a"))
        high = _number(m.group("b")) if m.group("b") else low
        out.append(Quantity(low, high, unit, m.group(0)))
    return out


def unsupported_quantities(sentence: str, passages: list[str]) -> list[Quantity]:
    """Quantities in `sentence` that appear in none of `passages` (as the same value and unit).

    A range in the sentence is supported when the passage has the same range, and a single
    value when the passage has that value alone or as either end of a range.
    """
    available: set[tuple[float, float, str]] = set()
    for passage in passages:
        for q in quantities(passage):
            available.add(q.key())
            available.add((q.low, q.low, q.unit))
            available.add((q.high, q.high, q.unit))
    return [q for q in quantities(sentence) if q.key() not in available]
