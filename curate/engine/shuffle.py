"""Hash-partitioned shuffles through files: how the tasks of a parallel reduce hand rows to each other.

A sending task writes **one file** per step, ``<root>/<sender>.shuffle``: its rows sorted by partition, each
partition's rows as one small Parquet blob, the blobs back to back, then an offset index (a map task of
Spark's shuffle writes the same: a data file and where each partition starts)::

    [blob 0][blob 1]…[blob n-1][offsets: n + 1 int64][rows: n int64][n: int64]["CSHUFF02"]     n = last partition + 1

Partition ``p``'s bytes are ``offsets[p] .. offsets[p+1]`` (empty when equal), its row count ``rows[p]`` (so a
task sizes its passes from 8 bytes per sender, without reading blobs). The task that owns partition
``p`` reads, from every sender's file in sender order, the 16-byte trailer, 16 bytes of the index and its
blob: a slice, never the whole file. A step therefore makes one file per sending task (``G``), not one per
(sender, partition) (``G × P``, tens of millions at CCI4.0 scale), at the cost of ``G`` small reads per
receiving task. Nothing passes through the driver, any worker that sees the run's output folder can send
or receive (on a cluster that folder is shared storage, as for the run itself), and since files are
written atomically and deterministically a re-run sender rewrites identical files.

Memory: a sender holds its table (already in memory) and one blob at a time; a receiver its partition.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from curate.core.hashing import mix64
from curate.io.names import in_number_order
from curate.io.shards import write_atomic

SUFFIX = ".shuffle"
MAGIC = b"CSHUFF02"
_TRAILER = struct.Struct("<q8s")  # partitions in the index, magic
_SPAN = struct.Struct("<qq")  # offsets[p], offsets[p + 1]


def partition_of(keys: np.ndarray, parts: int, spread: bool = True) -> np.ndarray:
    """Partition number (int64) of every key; ``spread=False`` for keys that are already uniform hashes."""
    hashed = mix64(keys) if spread else keys.astype(np.uint64, copy=False)
    return (hashed % np.uint64(parts)).astype(np.int64)


def _blob(table: pa.Table) -> pa.Buffer:
    """One partition's rows as Parquet bytes (uncompressed: read once, soon after)."""
    sink = pa.BufferOutputStream()
    pq.write_table(table.replace_schema_metadata(None), sink, compression=None, row_group_size=64 * 1024)
    return sink.getvalue()


def send(table: pa.Table, partition: np.ndarray, root: Path, sender: str) -> int:
    """Write ``table``'s rows, by partition, to ``root/<sender>.shuffle``; returns rows sent (no file when 0)."""
    if table.num_rows == 0:
        return 0
    order = np.argsort(partition, kind="stable")
    ordered = partition[order]
    cuts = np.flatnonzero(np.diff(ordered)) + 1
    starts = np.concatenate([[0], cuts])
    ends = np.concatenate([cuts, [len(ordered)]])
    rows = table.take(pa.array(order))
    count = int(ordered[-1]) + 1

    def write(f: BinaryIO) -> None:
        sizes = np.zeros(count, dtype=np.int64)
        for start, end in zip(starts, ends):
            blob = _blob(rows.slice(start, end - start))
            f.write(blob)
            sizes[int(ordered[start])] = blob.size
        offsets = np.concatenate([[0], np.cumsum(sizes)]).astype("<i8")
        rows_in = np.zeros(count, dtype="<i8")
        rows_in[ordered[starts]] = ends - starts
        f.write(offsets.tobytes())
        f.write(rows_in.tobytes())
        f.write(_TRAILER.pack(count, MAGIC))

    write_atomic(root / f"{sender}{SUFFIX}", write)
    return table.num_rows


def _index(f: BinaryIO, path: Path) -> int:
    """The number of partitions in an open shuffle file's index (checks the trailer)."""
    f.seek(-_TRAILER.size, 2)
    count, magic = _TRAILER.unpack(f.read(_TRAILER.size))
    if magic != MAGIC:
        raise ValueError(f"{path}: not a shuffle file of this version (no {MAGIC!r} trailer); delete the run's _work folder and run again")
    return count


def _slice(path: Path, partition: int) -> bytes:
    """Partition ``partition``'s blob in one sender's file (empty when it sent none there)."""
    with path.open("rb") as f:
        count = _index(f, path)
        if partition >= count:
            return b""
        f.seek(-_TRAILER.size - 8 * count - 8 * (count + 1) + 8 * partition, 2)
        start, end = _SPAN.unpack(f.read(_SPAN.size))
        f.seek(start)
        return f.read(end - start)


def _rows(path: Path, partition: int) -> int:
    """How many rows one sender sent to ``partition`` (8 bytes of its index)."""
    with path.open("rb") as f:
        count = _index(f, path)
        if partition >= count:
            return 0
        f.seek(-_TRAILER.size - 8 * count + 8 * partition, 2)
        return int.from_bytes(f.read(8), "little", signed=True)


def _senders(root: Path) -> list[Path]:
    """The sending tasks' files under ``root``, in sender order (numbers compared as numbers, see
    :mod:`curate.io.names`: ``g99999`` before ``g100000``)."""
    if not root.exists():
        return []
    if any(p.is_dir() for p in root.iterdir()):  # <partition>/<sender>.parquet: an older layout
        raise ValueError(
            f"{root} holds a shuffle in the older folder-per-partition layout, which this version does not read; "
            "delete the run's _work folder (or run with --overwrite) and run again"
        )
    return in_number_order(root.glob(f"*{SUFFIX}"))


def received_rows(root: Path, partition: int) -> int:
    """How many rows were sent to ``partition`` (from the senders' indexes): a task sizes its passes with it."""
    return sum(_rows(f, partition) for f in _senders(root))


def receive(root: Path, partition: int, schema: pa.Schema, where: Callable[[pa.Table], np.ndarray] | None = None) -> pa.Table:
    """Every row sent to ``partition`` under ``root``, senders in order (empty when none were).

    ``where``: a mask of the rows to keep, applied to each row group of each sender's blob as it is read, so
    a task can take its partition in several passes and hold only one pass's rows (plus one blob) at a time.
    """
    tables = []
    for f in _senders(root):
        if not (blob := _slice(f, partition)):
            continue
        if where is None:
            tables.append(pq.read_table(pa.BufferReader(blob), schema=schema))
            continue
        file = pq.ParquetFile(pa.BufferReader(blob))
        for i in range(file.num_row_groups):
            table = file.read_row_group(i).cast(schema)
            tables.append(table.filter(pa.array(where(table))))
    return pa.concat_tables(tables) if tables else schema.empty_table()


def unit_slices(nodes: np.ndarray, units: Iterable[int]) -> Iterator[tuple[int, int, int]]:
    """``(unit, lo, hi)``: where each unit's rows lie in ``nodes`` (``unit << 32 | row``, sorted ascending).

    Reduce tasks that write one state file per unit receive their group's rows, sort them by node and cut
    them here, so every unit's state is in input order whatever the partitioning.
    """
    owner = nodes >> 32
    for unit in units:
        lo, hi = np.searchsorted(owner, [unit, unit + 1])
        yield unit, int(lo), int(hi)
