"""Citation markers in generated text: [3], [1, 4], [2-5] (also [2–5] and [1][2])."""

from __future__ import annotations

import re

MARKER = re.compile(r"\[(\s*\d+\s*(?:(?:,|-|–)\s*\d+\s*)*)\]")


def parse_marker(body: str) -> list[int]:
    """Numbers named by the inside of one marker: '1, 3-5' -> [1, 3, 4, 5]. Ranges over 50 are refused."""
    numbers: list[int] = []
    for part in body.split(","):
        part = part.strip()
        if re.fullmatch(r"\d+\s*[-–]\s*\d+", part):
            a, b = (int(x) for x in re.split(r"[-–]", part))
            if a <= b and b - a <= 50:
                numbers.extend(range(a, b + 1))
        elif part.isdigit():
            numbers.append(int(part))
    return numbers


def markers_in(text: str) -> list[int]:
    """Every cited number in `text`, in order of appearance (repeats kept)."""
    return [n for m in MARKER.finditer(text) for n in parse_marker(m.group(1))]


def strip_markers(text: str) -> str:
    return re.sub(r"\s*" + MARKER.pattern, "", text).strip()
