"""``paragraph_dedup``'s reduce: from per-unit paragraph hashes to per-unit lists of paragraphs to remove.

Three steps of parallel tasks on the run's workers (Ray tasks on a cluster), passing rows through
hash-partitioned files (:mod:`curate.engine.shuffle`); the driver only plans (reading Parquet footers: O(units))
and adds up the small counts the tasks return. With ``P`` partitions and ``G`` unit groups:

1. **route** (G tasks) — read a group's summaries (one row per distinct long paragraph of a document:
   ``hash``, ``_row``) and send each (hash, document) row to partition ``hash mod P``: every occurrence of
   a paragraph meets in one partition.
2. **count** (P tasks) — sort by (hash, document); a hash seen in at least ``min_docs`` documents is
   boilerplate; each of its occurrences except the first in input order (all of them without
   ``keep_first``) becomes a removal row, sent to the group of its document.
3. **state** (G tasks) — one state file per work unit (``_unit``, ``_row``, ``hash``), which ``apply``
   reads alone.

A document is a *node*, its input position ``_unit << 32 | _row``, so the smallest node of a hash is its
first occurrence. Memory per task: one partition of 16-byte (hash, node) rows plus its sort order (about
40 bytes a row: 10M paragraph occurrences ≈ 0.4 GB), or one group's removal rows. The answer does not
depend on ``P`` or the groups; steps are recorded as they finish, so a killed reduce resumes.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from curate.core.schema import ROW, UNIT
from curate.engine.reduce import ReduceJob, ShufflePlan, node_of, plan_shuffle, unit_state_name
from curate.engine.shuffle import partition_of, receive, send, unit_slices
from curate.io.shards import write_parquet

HASH = "hash"
PARAGRAPHS_PER_PARTITION = 10_000_000  # ~0.4 GB per count task
_NODES = pa.schema([(HASH, pa.uint64()), ("node", pa.int64())])


@dataclass(frozen=True)
class CountPlan(ShufflePlan):
    """What every task needs: the shuffle plan and the stage's decision parameters. Picklable."""

    min_docs: int
    keep_first: bool


def plan(job: ReduceJob, min_docs: int, keep_first: bool, partitions: int | None) -> CountPlan:
    """Partitions and unit groups, fixed on first use (``reduce/paragraph-plan.json``) so a resume keeps them."""
    return CountPlan(**plan_shuffle(job, "paragraph-plan", PARAGRAPHS_PER_PARTITION, partitions), min_docs=min_docs, keep_first=keep_first)


def run(job: ReduceJob, cp: CountPlan) -> dict:
    """All three steps; returns totals (boilerplate paragraphs found, occurrences to remove)."""
    groups, parts = list(range(len(cp.groups))), list(range(cp.partitions))
    job.staging.mkdir(parents=True, exist_ok=True)
    job.step("route", partial(route_task, cp), groups)
    counts = job.step("count", partial(count_task, cp), parts)
    job.step("state", partial(state_task, cp), groups)
    return {k: sum(c[k] for c in counts) for k in ("paragraphs", "removals")}


def route_task(cp: CountPlan, group: int) -> int:
    """Send every (paragraph hash, document) row of a group's units to partition ``hash mod P``."""
    hashes, nodes = [], []
    for unit in cp.units(group):
        table = pq.read_table(cp.summaries[unit], columns=[HASH, ROW])
        hashes.append(table.column(HASH).to_numpy())
        nodes.append(node_of(unit, table.column(ROW).to_numpy()))
    if not hashes:
        return 0
    key, node = np.concatenate(hashes).astype(np.uint64), np.concatenate(nodes)
    # xxhash64 values are uniform already: no extra mixing before the modulo
    return send(pa.table([key, node], schema=_NODES), partition_of(key, cp.partitions, spread=False), cp.path("paragraphs"), f"g{group:05d}")


def count_task(cp: CountPlan, part: int) -> dict:
    """Find the partition's boilerplate paragraphs and route their removable occurrences to their groups."""
    table = receive(cp.path("paragraphs"), part, _NODES)
    key, node = table.column(HASH).to_numpy(), table.column("node").to_numpy()
    order = np.lexsort((node, key))
    key, node = key[order], node[order]
    starts = np.flatnonzero(np.concatenate([[True], key[1:] != key[:-1]])) if len(key) else np.zeros(0, np.int64)
    docs = np.diff(np.concatenate([starts, [len(key)]]))  # summaries hold one row per (document, paragraph)
    frequent = docs >= cp.min_docs
    remove = np.repeat(frequent, docs)
    if cp.keep_first:
        remove[starts] = False  # the first occurrence in input order stays
    removals = pa.table([key[remove], node[remove]], schema=_NODES)
    send(removals, cp.group_of(node[remove]), cp.path("removals"), f"p{part:05d}")
    return {"paragraphs": int(frequent.sum()), "removals": int(remove.sum())}


def state_task(cp: CountPlan, group: int) -> int:
    """One state file per unit of the group (empty when nothing is removed there), rows in input order."""
    table = receive(cp.path("removals"), group, _NODES)
    key, node = table.column(HASH).to_numpy(), table.column("node").to_numpy()
    order = np.lexsort((key, node))
    key, node = key[order], node[order]
    for unit, lo, hi in unit_slices(node, cp.units(group)):
        state = pa.table(
            {
                UNIT: pa.array(np.full(hi - lo, unit, dtype=np.int64)),
                ROW: pa.array(node[lo:hi] & 0xFFFFFFFF, pa.int64()),
                HASH: pa.array(key[lo:hi], pa.uint64()),
            }
        )
        write_parquet(state, Path(cp.state) / unit_state_name(unit, len(cp.summaries)), "zstd", 1)
    return len(key)
