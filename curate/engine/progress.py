"""Progress of a run: documents, documents per second and ETA per phase, and each reduce step.

On a terminal a one-line bar that fits 100 columns (a short label, not every stage name); elsewhere (a log
file, CI) a plain line when a phase or step starts, every ``every`` seconds, and when it ends. The count
is work units (what finishes atomically); documents and documents/s come from each finished unit's stats,
and the ETA from the share of units done.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

LABEL_WIDTH = 24


def short_label(names: list[str], width: int = LABEL_WIDTH) -> str:
    """``text_length…domain_tag (+9)``: the first and last step, and how many between, in ``width``."""
    if not names:
        return "read"
    more = f" (+{len(names) - 2})" if len(names) > 2 else ""
    room = width - len(more)
    if len(names) == 1:
        return names[0] if len(names[0]) <= width else names[0][: width - 1] + "…"
    first, last = names[0], names[-1]
    half = (room - 1) // 2
    if len(first) + len(last) + 1 > room:
        first = first if len(first) <= half else first[: half - 1] + "…"
    sep = "" if first.endswith("…") else "…"
    if len(first) + len(sep) + len(last) > room:
        last = last[: room - len(first) - len(sep) - 1] + "…"
    return f"{first}{sep}{last}{more}"


def _count(n: float) -> str:
    """``8,638`` up to 10k, then ``12.3k``, ``8.6M``, ``1.2B``: a bar's numbers stay narrow."""
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e4, "k")):
        if n >= size:
            return f"{n / size:.1f}{suffix}"
    return f"{n:,.0f}"


def _rate(count: float, seconds: float) -> str:
    return _count(count / seconds if seconds > 0 else 0.0)


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


class Progress:
    """Progress over ``total`` items (units or tasks), counting documents when told them."""

    def __init__(self, title: str, total: int, done: int = 0, *, unit: str = "units", quiet: bool = False,
                 stream: TextIO | None = None, every: float = 10.0, docs: bool = True) -> None:
        self.title, self.total, self.done, self.unit = title, total, done, unit
        self.stream = stream or sys.stderr
        self.quiet, self.every, self.count_docs = quiet, every, docs
        self.docs = 0
        self.start = self.last = time.monotonic()
        self.first_done = done
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._bar = None
        if quiet:
            return
        if self.tty:
            from tqdm import tqdm

            fmt = "{desc} {percentage:3.0f}%|{bar:10}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}{postfix}]"
            self._bar = tqdm(total=total, initial=done, desc=title, bar_format=fmt, file=self.stream, dynamic_ncols=False, ncols=100)
        elif docs:  # phases say when they start; reduce steps only when done
            self._line("start")

    def _line(self, what: str) -> None:
        elapsed = time.monotonic() - self.start
        parts = [f"{self.title}: {what}", f"{self.done}/{self.total} {self.unit}"]
        if self.count_docs:
            parts.append(f"{self.docs:,} docs, {_rate(self.docs, elapsed)} docs/s")
        ran = self.done - self.first_done
        if what != "done" and ran and self.done < self.total:
            parts.append(f"ETA {_clock(elapsed / ran * (self.total - self.done))}")
        parts.append(f"elapsed {_clock(elapsed)}")
        print(", ".join(parts), file=self.stream, flush=True)

    def update(self, docs: int = 0) -> None:
        """One item finished, having processed ``docs`` documents."""
        self.done += 1
        self.docs += docs
        if self.quiet:
            return
        if self._bar is not None:
            if self.count_docs:
                elapsed = time.monotonic() - self.start
                self._bar.set_postfix_str(f"{_count(self.docs)} docs, {_rate(self.docs, elapsed)}/s", refresh=False)
            self._bar.update(1)
        elif time.monotonic() - self.last >= self.every:
            self.last = time.monotonic()
            self._line("running")

    def close(self) -> None:
        if self.quiet:
            return
        if self._bar is not None:
            self._bar.close()
        else:
            self._line("done")


def unit_docs(stats: dict) -> int:
    """Documents a finished unit's phase took in: the first step's ``docs_in`` (the read, in phase 1)."""
    return int(next(iter(stats.values()), {}).get("docs_in", 0)) if stats else 0
