"""Finding the Parquet files of a curated output: one rule for ``curate mix``, ``curate proxy`` and friends.

``curate run`` reads raw inputs of many formats through :func:`curate.io.readers.find_inputs`; the steps
after it (mix, proxy) read curated Parquet, and name it the way users do: a run's output folder, a
folder of shards, a file, or a glob, local or not. A run output's ``rejected/`` is never read as data.
"""

from __future__ import annotations

import glob
from pathlib import Path

from curate.core.errors import InputError


def find_parquet(patterns: list[str] | str, where: str = "input") -> list[str]:
    """Parquet files named by ``patterns``, in pattern order, each pattern's matches sorted, no repeats.

    A folder that holds a ``data/`` folder is a run output and yields ``data/*.parquet``; another folder
    yields every ``*.parquet`` below it; a glob may use ``**``. A pattern that matches nothing is an
    :class:`InputError` naming ``where`` (the config field) and the pattern: a typo must not shrink a blend.
    """
    files: list[str] = []
    for pattern in [patterns] if isinstance(patterns, str) else patterns:
        path = Path(pattern)
        if path.is_dir():
            found = sorted(str(f) for f in (path / "data").glob("*.parquet")) if (path / "data").is_dir() else sorted(str(f) for f in path.rglob("*.parquet"))
        elif path.is_file():
            found = [pattern]
        else:
            found = sorted(f for f in glob.glob(pattern, recursive=True) if f.endswith(".parquet"))
        if not found:
            raise InputError(f"{where}: no Parquet files at {pattern!r}; run the step that writes them first, or fix the path")
        files.extend(found)
    return list(dict.fromkeys(files))
