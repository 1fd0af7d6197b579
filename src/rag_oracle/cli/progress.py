"""Progress bars for long library calls (ingest, sample-index build, evaluation runs)."""

from __future__ import annotations

import sys


class TqdmProgress:
    """Draws the library's progress events as tqdm bars on stderr (count, rate, ETA).

    Example::

        ingest(paths, "indexes/mine", settings, progress=TqdmProgress(enabled=not quiet))
    """

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.bar = None

    def start(self, phase: str, total: int | None, unit: str) -> None:
        from tqdm import tqdm

        labels = {"read": "reading + chunking", "embed": "embedding"}
        self.bar = tqdm(
            total=total,
            unit=f" {unit}",
            desc=labels.get(phase, phase),
            disable=not self.enabled,
            file=sys.stderr,
            dynamic_ncols=True,
            smoothing=0.1,
        )

    def advance(self, n: int = 1, **info: object) -> None:
        if self.bar is not None:
            self.bar.update(n)
            if info:
                self.bar.set_postfix(info, refresh=False)

    def finish(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
