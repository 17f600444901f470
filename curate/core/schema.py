"""The document schema: column names every part of curate agrees on, and stable ids."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import xxhash

ID = "id"
TEXT = "text"
DROP_STAGE = "drop_stage"
DROP_REASON = "drop_reason"

#: Columns the pipeline adds while a run is in flight; never written to data/ or rejected/.
UNIT = "_unit"
ROW = "_row"

READ_STAGE = "read"


def stable_ids(source: str, start_row: int, count: int) -> pa.Array:
    """Ids for documents that came without one: xxhash64 of the source name and the row number.

    Stable across runs, machines and Python processes (never Python's ``hash()``), so a resumed or
    distributed run names every document the same way.
    """
    prefix = source.encode() + b"\x00"
    return pa.array(
        [xxhash.xxh64_hexdigest(prefix + str(row).encode()) for row in range(start_row, start_row + count)],
        type=pa.string(),
    )


def text_lengths(table: pa.Table) -> int:
    """Total characters of the text column (0 for an empty table)."""
    if table.num_rows == 0:
        return 0
    import pyarrow.compute as pc

    return int(pc.sum(pc.utf8_length(table.column(TEXT))).as_py() or 0)


def reasons_array(reasons: object, mask: np.ndarray, prefix: str) -> pa.Array:
    """The prefixed reasons of the dropped rows only (``prefix:reason``), in row order."""
    dropped = np.flatnonzero(~mask)
    if isinstance(reasons, (pa.Array, pa.ChunkedArray)):
        picked = reasons.take(pa.array(dropped)).to_pylist()
    elif reasons is None:
        picked = [None] * len(dropped)
    else:
        seq = reasons
        picked = [seq[i] for i in dropped]
    return pa.array([f"{prefix}:{r}" if r else prefix for r in picked], type=pa.string())
