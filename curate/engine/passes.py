"""Reduce tasks in passes: a task with more rows than a budget takes its input in disjoint slices.

A task of a parallel reduce (:mod:`curate.engine.reduce`) owns one hash partition or one group of units,
which at CCI4.0 scale is millions of rows. More partitions would make each smaller, but also multiply the
small reads of every shuffle (``groups × P``). So a task whose input is over its stage's rows-per-pass
budget reads it again for each pass, keeping only that pass's slice (the shuffle receiver's ``where``,
applied row group by row group), and sends what the pass produces as a sender of its own
(``<sender>-<pass>``): it holds one pass at a time. Pass counts come from the shuffle index's row counts
(:func:`~curate.engine.shuffle.received_rows`) or from Parquet footers, so sizing reads no rows.

A slice must hold everything one decision needs, so that the passes together write what one pass would:

* :func:`by_key` — the rows of a partition whose key ``h`` has ``(h div P) mod passes == s``: every row of
  a key (a text, a bucket, a node's edges) is in one pass, and since ``h div P`` does not depend on the
  partition ``h mod P``, the passes are even;
* :func:`by_units` — a run of consecutive units of a group: for tasks that write one state file per unit,
  or read a per-document column (signatures, ids) unit by unit;
* :func:`route_pass` — for a task that reads its group's summaries and routes rows: a partition's rows
  go out in one pass, so its receiver reads one slice per group as before.

Memory: one pass's rows, at most about the budget, except that a key's rows (or a unit's) are never split:
a key with more rows than the budget makes its pass that large.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from curate.core.hashing import mix64
from curate.core.schema import ROW, UNIT
from curate.engine.reduce import unit_state_name
from curate.engine.shuffle import partition_of, receive, received_rows, send, unit_slices
from curate.io.shards import write_parquet


def pass_count(rows: int, per_pass: int) -> int:
    """Passes that hold at most ``per_pass`` rows each, if the rows split evenly (1 for no rows)."""
    return max(1, -(-rows // per_pass))


def footer_rows(paths: list[str | Path]) -> int:
    """Rows of these Parquet files, from their footers alone: what sizes a task's passes before it reads."""
    return sum(pq.ParquetFile(path).metadata.num_rows for path in paths)


def pass_tag(index: int, passes: int) -> str:
    """What pass ``index`` adds to its task's sender name: nothing when the task takes one pass."""
    return "" if passes == 1 else f"-{index:03d}"


def key_pass(keys: np.ndarray, partitions: int, passes: int, spread: bool = False) -> np.ndarray:
    """The pass of each key of a partition: ``(h div P) mod passes``, ``h`` as :func:`partition_of` hashes it."""
    hashed = mix64(keys) if spread else keys.astype(np.uint64, copy=False)
    return hashed // np.uint64(partitions) % np.uint64(passes)


def route_pass(keys: np.ndarray, partitions: int, passes: int, spread: bool = False) -> np.ndarray:
    """The pass in which a route task sends each key's row: its partition mod ``passes``, so a partition's
    rows from one group are sent once, whole; with more passes than partitions (a small run), :func:`key_pass`."""
    if passes > partitions:
        return key_pass(keys, partitions, passes, spread)
    return partition_of(keys, partitions, spread) % passes


def route_units(
    units: range, rows: int, read: Callable[[int], pa.Table], key: str, partitions: int, per_pass: int, root: Path, sender: str
) -> int:
    """Send every unit's rows (``read(unit)``, with a uniform 64-bit hash ``key``) to partition ``key mod P``.

    ``rows`` (at most, from Parquet footers) sizes the passes: each pass reads the units again and sends the
    partitions :func:`route_pass` gives it, as a sender of its own (``sender`` + :func:`pass_tag`).
    Returns the rows sent.
    """
    passes = pass_count(rows, per_pass)
    sent = 0
    for s in range(passes):
        tables = []
        for unit in units:
            table = read(unit)
            if passes > 1:
                table = table.filter(pa.array(route_pass(table.column(key).to_numpy(), partitions, passes) == s))
            tables.append(table)
        if not tables:
            continue
        table = pa.concat_tables(tables).combine_chunks()
        del tables
        where = partition_of(table.column(key).to_numpy(), partitions, spread=False)  # hashes are uniform already
        sent += send(table, where, root, sender + pass_tag(s, passes))
    return sent


def by_key(
    root: Path, part: int, schema: pa.Schema, column: str, partitions: int, per_pass: int, spread: bool = False
) -> Iterator[tuple[str, pa.Table]]:
    """Partition ``part``'s rows in passes of about ``per_pass`` rows, sliced by :func:`key_pass` of ``column``.

    Yields ``(tag, rows)``, ``tag`` for the sender name of what the pass sends (:func:`pass_tag`).
    """
    passes = pass_count(received_rows(root, part), per_pass)
    for s in range(passes):
        where = None if passes == 1 else (lambda t, s=s: key_pass(t.column(column).to_numpy(), partitions, passes, spread) == s)
        yield pass_tag(s, passes), receive(root, part, schema, where)


def by_units(root: Path, group: int, schema: pa.Schema, column: str, units: range, per_pass: int) -> Iterator[tuple[str, range, pa.Table]]:
    """Group ``group``'s rows in passes over runs of its ``units``, by the unit of ``column`` (a node).

    As many passes as ``per_pass`` asks, at most one per unit; yields ``(tag, units of the pass, rows)``.
    """
    passes = min(len(units), pass_count(received_rows(root, group), per_pass))
    for s, run in enumerate(np.array_split(np.arange(units.start, units.stop), passes)):
        lo, hi = int(run[0]), int(run[-1]) + 1
        where = None if passes == 1 else (lambda t, lo=lo, hi=hi: _in_units(t.column(column).to_numpy(), lo, hi))
        yield pass_tag(s, passes), range(lo, hi), receive(root, group, schema, where)


def _in_units(nodes: np.ndarray, lo: int, hi: int) -> np.ndarray:
    unit = nodes >> 32
    return (unit >= lo) & (unit < hi)


def write_unit_states(
    root: Path,
    group: int,
    schema: pa.Schema,
    units: range,
    per_pass: int,
    state_dir: Path,
    run_units: int,
    columns: Callable[[pa.Table], dict[str, pa.Array | pa.ChunkedArray]],
    then: str | None = None,
) -> int:
    """Write the state file of every unit of ``group`` (empty where it has no rows); return the rows written.

    A unit's state is its rows of the shuffle at ``root`` in input order (by ``node``, then by ``then``)
    as :data:`UNIT`, :data:`ROW` and the ``columns`` made of those rows, which ``apply`` reads alone (named
    for a run of ``run_units`` units). Taken
    in passes over runs of the units (:func:`by_units`), so the task holds about ``per_pass`` rows.
    """
    total = 0
    for _, run, table in by_units(root, group, schema, "node", units, per_pass):
        node = table.column("node").to_numpy()
        order = np.lexsort((table.column(then).to_numpy(), node)) if then else np.argsort(node, kind="stable")
        table = table.take(pa.array(order)).combine_chunks()  # one chunk: state bytes whatever the passes read
        node = node[order]
        for unit, lo, hi in unit_slices(node, run):
            rows = table.slice(lo, hi - lo)
            state = pa.table({
                UNIT: pa.array(np.full(hi - lo, unit, dtype=np.int64)),
                ROW: pa.array(node[lo:hi] & 0xFFFFFFFF, pa.int64()),
                **columns(rows),
            })
            write_parquet(state, state_dir / unit_state_name(unit, run_units), "zstd", 1)
        total += table.num_rows
    return total
