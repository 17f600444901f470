"""Hash-partitioned shuffles through files: how the tasks of a parallel reduce hand rows to each other.

A sending task splits its rows by partition number and writes one file per non-empty partition,
``<root>/<partition>/<sender>.parquet``; the task that owns partition ``p`` reads ``<root>/<p>/`` whole,
in sender order. Nothing passes through the driver, any worker that sees the run's output folder can send
or receive (on a cluster that folder is shared storage, as for the run itself), and since files are
written atomically and deterministically a re-run sender rewrites identical files.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from curate.core.hashing import mix64
from curate.io.shards import write_parquet


def partition_of(keys: np.ndarray, parts: int, spread: bool = True) -> np.ndarray:
    """Partition number (int64) of every key; ``spread=False`` for keys that are already uniform hashes."""
    hashed = mix64(keys) if spread else keys.astype(np.uint64, copy=False)
    return (hashed % np.uint64(parts)).astype(np.int64)


def send(table: pa.Table, partition: np.ndarray, root: Path, sender: str) -> int:
    """Write each partition's rows of ``table`` to ``root/<partition>/<sender>.parquet``; returns rows sent."""
    if table.num_rows == 0:
        return 0
    order = np.argsort(partition, kind="stable")
    ordered = partition[order]
    cuts = np.flatnonzero(np.diff(ordered)) + 1
    starts = np.concatenate([[0], cuts])
    ends = np.concatenate([cuts, [len(ordered)]])
    rows = table.take(pa.array(order))
    for start, end in zip(starts, ends):
        part = int(ordered[start])
        write_parquet(rows.slice(start, end - start), root / f"{part:05d}" / f"{sender}.parquet", "none")
    return table.num_rows


def _sent(root: Path, partition: int) -> list[Path]:
    folder = root / f"{partition:05d}"
    return sorted(folder.glob("*.parquet")) if folder.exists() else []


def received_rows(root: Path, partition: int) -> int:
    """How many rows were sent to ``partition`` (Parquet footers only): a task sizes its passes with it."""
    return sum(pq.ParquetFile(f).metadata.num_rows for f in _sent(root, partition))


def receive(root: Path, partition: int, schema: pa.Schema, where: Callable[[pa.Table], np.ndarray] | None = None) -> pa.Table:
    """Every row sent to ``partition`` under ``root``, senders in name order (empty when none were).

    ``where``: a mask of the rows to keep, applied to each row group of each sender's file as it is read, so
    a task can take its partition in several passes and hold only one pass's rows at a time.
    """
    tables = []
    for f in _sent(root, partition):
        if where is None:
            tables.append(pq.read_table(f, schema=schema))
            continue
        file = pq.ParquetFile(f)
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
