"""Per-document columns of MinHash summaries, read by node (``_unit << 32 | _row``), one unit at a time.

The reduce's verify and label tasks need the signatures or ids of the documents their pairs and stars
name, not of every document of their group: each unit's column is read once per call and only the named
rows are kept, so a call holds one unit's column plus its answer.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from curate.core.schema import ID

SIG = "signature"


def _by_unit(nodes: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """(unit, positions in ``nodes``) for every unit the nodes fall in."""
    units = nodes >> 32
    order = np.argsort(units, kind="stable")
    cuts = np.flatnonzero(np.diff(units[order])) + 1
    return [(int(units[idx[0]]), idx) for idx in np.split(order, cuts) if len(idx)]


def read_signatures(summaries: Sequence[str], nodes: np.ndarray, num_perm: int) -> np.ndarray:
    """Signatures ``[len(nodes), num_perm]`` (uint32) of documents, read from their units' summaries."""
    out = np.empty((len(nodes), num_perm), dtype=np.uint32)
    for unit, idx in _by_unit(nodes):
        column = pq.read_table(summaries[unit], columns=[SIG]).column(SIG)
        out[idx] = from_blobs(column.take(pa.array(nodes[idx] & 0xFFFFFFFF)), num_perm)
    return out


def read_ids(summaries: Sequence[str], nodes: np.ndarray) -> pa.Array:
    """Document ids (as strings) of ``nodes``, in their order."""
    parts, positions = [], []
    for unit, idx in _by_unit(nodes):
        column = pq.read_table(summaries[unit], columns=[ID]).column(ID)
        parts.append(pc.cast(column.take(pa.array(nodes[idx] & 0xFFFFFFFF)), pa.string()).combine_chunks())
        positions.append(idx)
    if not parts:
        return pa.array([], pa.string())
    return pa.concat_arrays(parts).take(pa.array(np.argsort(np.concatenate(positions))))


def as_blobs(sig: np.ndarray) -> pa.FixedSizeBinaryArray:
    """Signature rows as fixed-size binary values (how summaries and the verify shuffle carry them)."""
    width = 4 * sig.shape[1]
    return pa.FixedSizeBinaryArray.from_buffers(pa.binary(width), len(sig), [None, pa.py_buffer(np.ascontiguousarray(sig).tobytes())])


def from_blobs(blobs: pa.Array | pa.ChunkedArray, num_perm: int) -> np.ndarray:
    """Fixed-size binary signatures back to ``[len, num_perm]`` uint32 rows (a view where one chunk)."""
    if isinstance(blobs, pa.ChunkedArray):
        blobs = blobs.combine_chunks()
    width = 4 * num_perm
    data = np.frombuffer(blobs.buffers()[1], dtype=np.uint8)[blobs.offset * width : (blobs.offset + len(blobs)) * width]
    return data.view(np.uint32).reshape(len(blobs), num_perm)
