"""``exact_dedup``'s reduce: from per-unit text hashes to per-unit lists of duplicates to drop.

Three steps of parallel tasks on the run's workers (Ray tasks on a cluster), passing rows through
hash-partitioned files (:mod:`curate.engine.shuffle`); the driver only plans (reading Parquet footers: O(units))
and adds up the counts the tasks return. With ``P`` partitions and ``G`` unit groups:

1. **route** (G tasks) — read a group's summaries (``hash``, ``id``, ``_row``) and send each
   (hash, position, id) row to partition ``hash mod P``: every copy of a text meets in one partition.
2. **first** (P tasks) — sort by (hash, position); the first row of each hash in input order is kept, every
   other becomes a drop row (position, ``dup_of`` = the kept document's id), sent to the group of its
   document.
3. **state** (G tasks) — one state file per work unit (``_unit``, ``_row``, ``dup_of``, in row order), which
   ``apply`` reads alone.

A position is ``_unit << 32 | _row``, so the smallest is the first in input order. Memory per task: at
most :data:`ROWS_PER_PASS` rows at a time (about 200 bytes a row with a short id, sort order and the copies
``send`` makes: ~0.2 GB), whatever ``P`` and the corpus: a task with more rows (a route task's group, a
first task's partition, a state task's drop rows) reads its input again in passes, each a disjoint slice by
hash or by unit (:mod:`curate.engine.passes`), which leaves every file it writes unchanged. One exception: a pass holds every copy of its
texts, so a text with millions of copies makes its pass that large. The state does not depend on ``P``,
the groups or the passes, byte for byte; steps are recorded as they finish, so a killed reduce resumes.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from curate.core.schema import ID, ROW
from curate.engine.passes import by_key, footer_rows, route_units, write_unit_states
from curate.engine.reduce import ReduceJob, ShufflePlan, node_of, plan_shuffle
from curate.engine.shuffle import send

HASH = "hash"
DUP_OF = "dup_of"
DOCS_PER_PARTITION = 4_000_000  # partitions: P = docs / this (files per shuffle: groups × P)
ROWS_PER_PASS = 1_000_000  # rows a route, first or state task holds at once (~0.2 GB): more take passes
_COPIES = pa.schema([(HASH, pa.uint64()), ("node", pa.int64()), (ID, pa.string())])
_DROPS = pa.schema([("node", pa.int64()), (DUP_OF, pa.string())])


@dataclass(frozen=True)
class DedupPlan(ShufflePlan):
    """Inputs, unit groups and partitions of one exact-dedup reduce. Picklable."""


def plan(job: ReduceJob, partitions: int | None) -> DedupPlan:
    """Partitions and unit groups, fixed on first use (``reduce/exact-plan.json``) so a resume keeps them."""
    return DedupPlan(**plan_shuffle(job, "exact-plan", DOCS_PER_PARTITION, partitions))


def run(job: ReduceJob, dp: DedupPlan) -> int:
    """All three steps; returns how many documents are duplicates of an earlier one."""
    groups, parts = list(range(len(dp.groups))), list(range(dp.partitions))
    job.staging.mkdir(parents=True, exist_ok=True)
    job.step("route", partial(route_task, dp), groups)
    drops = job.step("first", partial(first_task, dp), parts)
    job.step("state", partial(state_task, dp), groups)
    return sum(drops)


def route_task(dp: DedupPlan, group: int) -> int:
    """Send every (hash, position, id) row of a group's units to partition ``hash mod P``.

    In passes of about :data:`ROWS_PER_PASS` rows (:func:`~curate.engine.passes.route_units`): each
    partition's rows sent once, whole, each pass a sender (one shuffle file) of its own.
    """

    def read(unit: int) -> pa.Table:
        table = pq.read_table(dp.summaries[unit], columns=[HASH, ID, ROW])
        node = pa.array(node_of(unit, table.column(ROW).to_numpy()))
        return pa.table([table.column(HASH), node, pc.cast(table.column(ID), pa.string())], schema=_COPIES)

    units = dp.units(group)
    rows = footer_rows([dp.summaries[u] for u in units])
    return route_units(units, rows, read, HASH, dp.partitions, ROWS_PER_PASS, dp.path("copies"), f"g{group:05d}")


def first_task(dp: DedupPlan, part: int) -> int:
    """Keep the first copy of each of the partition's texts; route the others, named by it, to their groups.

    In passes of about :data:`ROWS_PER_PASS` rows, split by ``(hash div P) mod passes``: every copy of a
    text is in the same pass, so each pass decides its texts alone.
    """
    slices = by_key(dp.path("copies"), part, _COPIES, HASH, dp.partitions, ROWS_PER_PASS)
    return sum(_first(dp, table, f"p{part:05d}{tag}") for tag, table in slices)


def _first(dp: DedupPlan, table: pa.Table, sender: str) -> int:
    """Sort (hash, position) rows, keep each hash's first, send the others to their groups; returns the drops."""
    key, node = table.column(HASH).to_numpy(), table.column("node").to_numpy()
    order = np.lexsort((node, key))
    key, node = key[order], node[order]
    first = np.concatenate([[True], key[1:] != key[:-1]]) if len(key) else np.zeros(0, dtype=bool)
    kept_at = order[np.flatnonzero(first)[np.cumsum(first) - 1]]  # input row of each row's kept copy
    dup = ~first
    dup_of = table.column(ID).take(pa.array(kept_at[dup]))
    drops = pa.table([pa.array(node[dup]), dup_of], schema=_DROPS)
    send(drops, dp.group_of(node[dup]), dp.path("drops"), sender)
    return int(dup.sum())


def state_task(dp: DedupPlan, group: int) -> int:
    """One state file per unit of the group (empty when it has no duplicates), rows in input order.

    A group with more than :data:`ROWS_PER_PASS` drop rows is taken in passes over runs of its units.
    """
    return write_unit_states(
        dp.path("drops"), group, _DROPS, dp.units(group), ROWS_PER_PASS, Path(dp.state), len(dp.summaries),
        lambda rows: {DUP_OF: rows.column(DUP_OF)},
    )
