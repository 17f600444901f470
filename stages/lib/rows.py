"""Apply a Python function to the rows of a string column that an Arrow kernel picked (shared by stages)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def on_rows(text: pa.Array, rows: pa.Array, fn: Callable[[str], str]) -> pa.Array:
    """``fn`` applied to the rows flagged in ``rows`` only: the per-row Python path, kept to what a kernel picked."""
    picked = np.flatnonzero(pc.fill_null(rows, False).to_numpy(zero_copy_only=False))
    if len(picked) == 0:
        return text
    values = text.to_pylist()
    for i in picked:
        values[i] = fn(values[i])
    return pa.array(values, pa.string())
