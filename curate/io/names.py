"""Numbered file names (``part-00042.parquet``, ``unit-00042.parquet``) that sort in number order.

Names carry at least :data:`MIN_DIGITS` digits, more when the count needs them: a run of 100,000 units or
more names every unit with 6 digits (``part-000042``), so the names of one run have one width and sort
lexicographically in number order, and a run under 100,000 units keeps the 5-digit names it always had.
Whoever makes a name passes the count (units of the run, partitions, output shards); whoever lists files
whose names may come from different counts (shuffle senders) sorts them with :func:`in_number_order`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

MIN_DIGITS = 5
_NUMBER = re.compile(r"(\d+)")


def digits(count: int) -> int:
    """Digits that name indices ``0 .. count - 1``: :data:`MIN_DIGITS`, or more for a count past 100,000."""
    return max(MIN_DIGITS, len(str(max(count - 1, 0))))


def numbered(index: int, count: int) -> str:
    """``index`` zero-padded to the width of ``count`` (``numbered(7, 10) == "00007"``)."""
    return str(index).zfill(digits(count))


def _number_key(path: Path | str) -> tuple:
    """Split a name into text and numbers, so ``g99999`` sorts before ``g100000``."""
    name = Path(path).name
    return tuple(int(p) if p.isdigit() else p for p in _NUMBER.split(name))


def in_number_order(paths: Iterable[Path]) -> list[Path]:
    """``paths`` sorted by name, numbers in a name compared as numbers (ties: by full path)."""
    return sorted(paths, key=lambda p: (_number_key(p), str(p)))
