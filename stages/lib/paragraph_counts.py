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
first occurrence. Memory per task: at most :data:`ROWS_PER_PASS` (hash, node) rows at a time, whatever
``P`` and the corpus (a count task peaked 236 and 221 MiB above its start over 4M and 16M rows, 1,278 MiB
over 16M rows in one pass: ``bench/reduce_passes.py``). A task with more (a route task's group, a count
task's partition, a state task's removal rows) reads its input again in passes over disjoint slices
(:mod:`curate.engine.passes`): by partition, by ``hash div P`` (every occurrence of a paragraph in one
pass, so each pass counts its paragraphs alone) or by a run of units. The one exception: a pass holds
every occurrence of its paragraphs, so a paragraph in millions of documents makes its pass that large.
The state does not depend on ``P``, the groups or the passes, byte for byte; steps are recorded as they
finish, so a killed reduce resumes.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from curate.core.schema import ROW
from curate.engine.passes import by_key, footer_rows, route_units, write_unit_states
from curate.engine.reduce import ReduceJob, ShufflePlan, node_of, plan_shuffle
from curate.engine.shuffle import send

HASH = "hash"
PARAGRAPHS_PER_PARTITION = 10_000_000  # partitions: P = paragraphs / this (a count task takes 5 passes)
ROWS_PER_PASS = 2_000_000  # (hash, node) rows a route, count or state task holds at once (~240 MiB): more take passes
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
    """Send every (paragraph hash, document) row of a group's units to partition ``hash mod P``.

    In passes of about :data:`ROWS_PER_PASS` rows (:func:`~curate.engine.passes.route_units`).
    """

    def read(unit: int) -> pa.Table:
        table = pq.read_table(cp.summaries[unit], columns=[HASH, ROW])
        return pa.table([table.column(HASH), node_of(unit, table.column(ROW).to_numpy())], schema=_NODES)

    units = cp.units(group)
    rows = footer_rows([cp.summaries[u] for u in units])
    return route_units(units, rows, read, HASH, cp.partitions, ROWS_PER_PASS, cp.path("paragraphs"), f"g{group:05d}")


def count_task(cp: CountPlan, part: int) -> dict:
    """Find the partition's boilerplate paragraphs and route their removable occurrences to their groups.

    In passes of about :data:`ROWS_PER_PASS` rows by ``hash div P``: a paragraph's occurrences are all in one pass.
    """
    totals = {"paragraphs": 0, "removals": 0}
    for tag, table in by_key(cp.path("paragraphs"), part, _NODES, HASH, cp.partitions, ROWS_PER_PASS):
        for name, n in _count(cp, table, f"p{part:05d}{tag}").items():
            totals[name] += n
    return totals


def _count(cp: CountPlan, table: pa.Table, sender: str) -> dict:
    """Sort (hash, node) rows, send the removable occurrences of frequent hashes to their groups."""
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
    send(removals, cp.group_of(node[remove]), cp.path("removals"), sender)
    return {"paragraphs": int(frequent.sum()), "removals": int(remove.sum())}


def state_task(cp: CountPlan, group: int) -> int:
    """One state file per unit of the group (empty when nothing is removed there), rows in input order.

    A group with more than :data:`ROWS_PER_PASS` removal rows is taken in passes over runs of its units.
    """
    return write_unit_states(
        cp.path("removals"), group, _NODES, cp.units(group), ROWS_PER_PASS, Path(cp.state), len(cp.summaries),
        lambda rows: {HASH: rows.column(HASH)}, then=HASH,
    )
