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

A position is ``_unit << 32 | _row``, so the smallest is the first in input order. Memory per task: one
partition's rows (16 bytes plus the id, about 60 bytes a row with its sort order: the default 4M rows per
partition is ~0.25 GB), or one group's drop rows. The state does not depend on ``P`` or the groups, byte
for byte; steps are recorded as they finish, so a killed reduce resumes.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from curate.core.schema import ID, ROW, UNIT
from curate.engine.reduce import ReduceJob, ShufflePlan, node_of, plan_shuffle, unit_state_name
from curate.engine.shuffle import partition_of, receive, send, unit_slices
from curate.io.shards import write_parquet

HASH = "hash"
DUP_OF = "dup_of"
DOCS_PER_PARTITION = 4_000_000  # ~0.25 GB per `first` task
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
    """Send every (hash, position, id) row of a group's units to partition ``hash mod P``."""
    tables = []
    for unit in dp.units(group):
        table = pq.read_table(dp.summaries[unit], columns=[HASH, ID, ROW])
        node = pa.array(node_of(unit, table.column(ROW).to_numpy()))
        tables.append(pa.table([table.column(HASH), node, pc.cast(table.column(ID), pa.string())], schema=_COPIES))
    if not tables:
        return 0
    rows = pa.concat_tables(tables).combine_chunks()
    key = rows.column(HASH).to_numpy()
    # xxhash64 values are uniform already: no extra mixing before the modulo
    return send(rows, partition_of(key, dp.partitions, spread=False), dp.path("copies"), f"g{group:05d}")


def first_task(dp: DedupPlan, part: int) -> int:
    """Keep the first copy of each of the partition's texts; route the others, named by it, to their groups."""
    table = receive(dp.path("copies"), part, _COPIES)
    key, node = table.column(HASH).to_numpy(), table.column("node").to_numpy()
    order = np.lexsort((node, key))
    key, node = key[order], node[order]
    first = np.concatenate([[True], key[1:] != key[:-1]]) if len(key) else np.zeros(0, dtype=bool)
    kept_at = order[np.flatnonzero(first)[np.cumsum(first) - 1]]  # input row of each row's kept copy
    dup = ~first
    dup_of = table.column(ID).take(pa.array(kept_at[dup]))
    drops = pa.table([pa.array(node[dup]), dup_of], schema=_DROPS)
    send(drops, dp.group_of(node[dup]), dp.path("drops"), f"p{part:05d}")
    return int(dup.sum())


def state_task(dp: DedupPlan, group: int) -> int:
    """One state file per unit of the group (empty when it has no duplicates), rows in input order."""
    table = receive(dp.path("drops"), group, _DROPS)
    order = np.argsort(table.column("node").to_numpy(), kind="stable")
    table = table.take(pa.array(order))
    node = table.column("node").to_numpy()
    for unit, lo, hi in unit_slices(node, dp.units(group)):
        state = pa.table(
            {
                UNIT: pa.array(np.full(hi - lo, unit, dtype=np.int64)),
                ROW: pa.array(node[lo:hi] & 0xFFFFFFFF, pa.int64()),
                DUP_OF: table.column(DUP_OF).slice(lo, hi - lo),
            }
        )
        write_parquet(state, Path(dp.state) / unit_state_name(unit, len(dp.summaries)), "zstd", 1)
    return table.num_rows
