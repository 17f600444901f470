"""Hash-partitioned shuffles through files: how the tasks of a parallel reduce hand rows to each other.

A sending task splits its rows by partition number and writes one file per non-empty partition,
``<root>/<partition>/<sender>.parquet``; the task that owns partition ``p`` reads ``<root>/<p>/`` whole,
in sender order. Nothing passes through the driver, any worker that sees the run's output folder can send
or receive (on a cluster that folder is shared storage, as for the run itself), and since files are
written atomically and deterministically a re-run sender rewrites identical files.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from curate.core.hashing import mix64
from curate.io.names import in_number_order
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


def receive(root: Path, partition: int, schema: pa.Schema) -> pa.Table:
    """Every row sent to ``partition`` under ``root``, senders in name order (empty when none were).

    Name order compares the numbers in sender names as numbers (``g99999`` before ``g100000``), see
    :mod:`curate.io.names`; partition folders are only looked up by name, never listed.
    """
    folder = root / f"{partition:05d}"
    files = in_number_order(folder.glob("*.parquet")) if folder.exists() else []
    if not files:
        return schema.empty_table()
    return pa.concat_tables([pq.read_table(f, schema=schema) for f in files])


def unit_slices(nodes: np.ndarray, units: Iterable[int]) -> Iterator[tuple[int, int, int]]:
    """``(unit, lo, hi)``: where each unit's rows lie in ``nodes`` (``unit << 32 | row``, sorted ascending).

    Reduce tasks that write one state file per unit receive their group's rows, sort them by node and cut
    them here, so every unit's state is in input order whatever the partitioning.
    """
    owner = nodes >> 32
    for unit in units:
        lo, hi = np.searchsorted(owner, [unit, unit + 1])
        yield unit, int(lo), int(hi)
