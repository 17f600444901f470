"""``minhash_dedup``'s reduce: from per-unit band keys and signatures to per-unit cluster decisions.

Everything runs as parallel tasks on the run's workers (Ray tasks on a cluster) that pass rows to each
other through hash-partitioned files (:mod:`curate.engine.shuffle`); the driver only plans and counts. No task
ever holds all pairs, all signatures or all labels. With ``P`` partitions and ``G`` unit groups:

1. **bands** (G tasks) — read a group's band columns, route each (key, document) row to partition
   ``key mod P``: all documents of a bucket meet in one partition.
2. **candidates** (P tasks) — sort by (key, document), pair each document with the next ``bucket_window``
   of its bucket, route each pair to the group of its earlier document.
3. **verify-send** (G tasks) — deduplicate pairs, attach the earlier document's signature (read from the
   group's own summaries), route to the later document's group.
4. **verify** (G tasks) — attach the later document's signature, keep pairs whose signature Jaccard is at
   least the threshold, route both directions of each edge to the partition of its source node.
5. **large-star-r / small-star-r** (P tasks each) — star contractions (:func:`minhash.large_star`) until
   every component is a star around its smallest document, i.e. its first in input order; each round is
   one shuffle. A handful of rounds in practice (clusters are small), ``O(log² n)`` at worst.
6. **label** (G tasks) — name each star by its centre's document id, route rows to their member's group.
7. **state** (G tasks) — write one state file per work unit, which ``apply`` reads alone.

A document is a *node*: its input position ``_unit << 32 | _row``, so smaller is earlier. Every step's
tasks are recorded as they finish (:class:`~curate.engine.reduce.ReduceJob`), so a killed reduce resumes at the
first unfinished task.

Memory per task: at most :data:`ROWS_PER_PASS` 16-byte band, pair or edge rows at a time (a candidates
task peaked 255 and 277 MiB above its start over 4M and 16M band rows, 1,014 MiB over 16M in one pass:
``bench/reduce_passes.py``); in the two verify steps, which carry a 512-byte signature with each pair,
:data:`SIGNED_PER_PASS` pairs, or one unit's pairs if more (433 – 528 MiB; 1,549 MiB for 800k pairs in one
pass). Signatures and ids are read unit by unit, only for the documents named, never a whole group's.
A task with more rows reads its input again in passes over disjoint slices
(:mod:`curate.engine.passes`), and every step can be split exactly because each of its decisions is local:
a bucket's pairs need only that bucket (slices by ``key div P``); a star step decides each node from its
own edges (slices by node: ``large_star`` / ``small_star`` are group-bys on the source node, not a
union-find over the whole graph, so a partition's edges need not meet in one pass); verification, naming
and state decide per pair, centre or document (slices by runs of units). Passes change which files carry
the rows (and may send a candidate pair twice, which verify-send drops), never a decision: the state is
byte-identical to one pass. One exception to the bound: a bucket or a node's edges are never split, so a
key shared by millions of documents, or a document with millions of near-copies, makes its pass that large
(``bucket_window`` keeps the pairs a bucket yields linear in its size).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from curate.core.schema import ROW
from curate.engine.passes import by_key, by_units, footer_rows, route_units, write_unit_states
from curate.engine.reduce import ReduceJob, ShufflePlan, node_of, plan_shuffle
from curate.engine.shuffle import partition_of, send
from curate.stages.lib import minhash as mh
from curate.stages.lib.minhash_columns import SIG, as_blobs, from_blobs, read_ids, read_signatures

CLUSTER = "dup_cluster"
CLUSTER_SIZE = "dup_cluster_size"
DOCS_PER_PARTITION = 1_000_000  # partitions: P = docs / this (a candidates task: docs × bands / P band rows)
ROWS_PER_PASS = 2_000_000  # band, pair, edge, star or label rows a task holds at once (~280 MiB): more take passes
SIGNED_PER_PASS = 100_000  # pairs with a signature (512 B at 128 perms) a verify task holds at once (~0.5 GiB)
MAX_ROUNDS = 64

_BANDS = pa.schema([("key", pa.uint64()), ("node", pa.int64())])
_PAIRS = pa.schema([("src", pa.int64()), ("dst", pa.int64())])
_EDGES = pa.schema([("u", pa.int64()), ("v", pa.int64())])
_STARS = pa.schema([("node", pa.int64()), ("center", pa.int64()), ("size", pa.int32())])
_LABELS = pa.schema([("node", pa.int64()), ("center", pa.int64()), ("size", pa.int32()), (CLUSTER, pa.string())])


@dataclass(frozen=True)
class ClusterPlan(ShufflePlan):
    """What every task needs: the shuffle plan and the stage's parameters. Picklable."""

    bands: int
    num_perm: int
    threshold: float
    verify: bool
    window: int


def plan(job: ReduceJob, bands: int, num_perm: int, threshold: float, verify: bool, window: int, partitions: int | None) -> ClusterPlan:
    """Partitions and unit groups for this reduce, fixed on first use so a resumed reduce keeps them."""
    fields = plan_shuffle(job, "minhash-plan", DOCS_PER_PARTITION, partitions)
    return ClusterPlan(**fields, bands=bands, num_perm=num_perm, threshold=threshold, verify=verify, window=window)


def run(job: ReduceJob, cp: ClusterPlan) -> None:
    """All steps, in order; each is a list of tasks on the job's workers."""
    groups, parts = list(range(len(cp.groups))), list(range(cp.partitions))
    job.staging.mkdir(parents=True, exist_ok=True)
    job.step("bands", partial(bands_task, cp), groups)
    job.step("candidates", partial(candidates_task, cp), parts)
    job.step("verify-send", partial(verify_send_task, cp), groups)
    job.step("verify", partial(verify_task, cp), groups)
    rounds = 0
    while sum(job.step(f"large-star-{rounds}", partial(large_star_task, cp, rounds), parts)):
        job.step(f"small-star-{rounds}", partial(small_star_task, cp, rounds), parts)
        rounds += 1
        if rounds > MAX_ROUNDS:
            raise RuntimeError(f"minhash_dedup: connected components did not settle in {MAX_ROUNDS} rounds")
    job.step("label", partial(label_task, cp, rounds), groups)
    job.step("state", partial(state_task, cp), groups)


def _nodes(table: pa.Table, unit: int) -> np.ndarray:
    return node_of(unit, table.column(ROW).to_numpy())


def _columns(table: pa.Table) -> list[np.ndarray]:
    return [c.to_numpy() for c in table.columns]


def bands_task(cp: ClusterPlan, group: int) -> int:
    """Route every (band key, document) of a group's units to partition ``key mod P``.

    In passes of about :data:`ROWS_PER_PASS` rows (documents × bands; :func:`~curate.engine.passes.route_units`).
    """
    names, units = [f"band_{k}" for k in range(cp.bands)], cp.units(group)

    def read(unit: int) -> pa.Table:
        table = pq.read_table(cp.summaries[unit], columns=[*names, ROW])
        node = _nodes(table, unit)
        keys, nodes = [], []
        for name in names:
            column = table.column(name)
            valid = pc.is_valid(column).to_numpy(zero_copy_only=False)  # empty documents have no keys
            keys.append(column.filter(pa.array(valid)).to_numpy().astype(np.uint64))
            nodes.append(node[valid])
        return pa.table([np.concatenate(keys), np.concatenate(nodes)], schema=_BANDS)

    rows = cp.bands * footer_rows([cp.summaries[u] for u in units])
    # band keys are uniform hashes that differ per band, so one partitioning serves every band
    return route_units(units, rows, read, "key", cp.partitions, ROWS_PER_PASS, cp.path("bands"), f"g{group:05d}")


def candidates_task(cp: ClusterPlan, part: int) -> int:
    """Candidate pairs of the buckets in one partition, routed to the earlier document's group.

    In passes of about :data:`ROWS_PER_PASS` rows by ``key div P``: a bucket is whole in one pass. A pair
    found in two passes (two bands) is sent twice; verify-send keeps one.
    """
    sent = 0
    for tag, table in by_key(cp.path("bands"), part, _BANDS, "key", cp.partitions, ROWS_PER_PASS):
        key, node = _columns(table)
        order = np.lexsort((node, key))
        src, dst = _unique_pairs(*mh.bucket_pairs(key[order], node[order], cp.window))
        sent += send(pa.table([src, dst], schema=_PAIRS), cp.group_of(src), cp.path("pairs"), f"p{part:05d}{tag}")
    return sent


def _unique_pairs(src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    keep = src != dst
    if not keep.any():
        return src[:0], dst[:0]
    pairs = np.unique(np.stack([src[keep], dst[keep]], axis=1), axis=0)
    return pairs[:, 0], pairs[:, 1]


def verify_send_task(cp: ClusterPlan, group: int) -> int:
    """Attach the earlier document's signature to each pair and route it to the later document's group.

    In passes of about :data:`SIGNED_PER_PASS` pairs over runs of units of the earlier document: a pair's
    repeats are in one pass, and each unit's signatures are read once.
    """
    sent = 0
    for tag, _, table in by_units(cp.path("pairs"), group, _PAIRS, "src", cp.units(group), SIGNED_PER_PASS):
        src, dst = _unique_pairs(*_columns(table))
        columns = {"src": src, "dst": dst}
        if cp.verify:
            columns[SIG] = as_blobs(read_signatures(cp.summaries, src, cp.num_perm))
        sent += send(pa.table(columns), cp.group_of(dst), cp.path("verify"), f"g{group:05d}{tag}")
    return sent


def verify_task(cp: ClusterPlan, group: int) -> int:
    """Keep pairs at or above the threshold; send both directions of each edge to its source's partition.

    In passes of about :data:`SIGNED_PER_PASS` pairs over runs of units of the later document.
    """
    schema = _PAIRS.append(pa.field(SIG, pa.binary(4 * cp.num_perm))) if cp.verify else _PAIRS
    edges = 0
    for tag, _, table in by_units(cp.path("verify"), group, schema, "dst", cp.units(group), SIGNED_PER_PASS):
        src, dst = table.column("src").to_numpy(), table.column("dst").to_numpy()
        if cp.verify and len(src):
            earlier = from_blobs(table.column(SIG), cp.num_perm)
            similarity = mh.signature_similarity(earlier, read_signatures(cp.summaries, dst, cp.num_perm))
            ok = similarity >= cp.threshold
            src, dst = src[ok], dst[ok]
        u, v = np.concatenate([src, dst]), np.concatenate([dst, src])
        send(pa.table([u, v], schema=_EDGES), partition_of(u, cp.partitions), cp.path("cc-0000"), f"g{group:05d}{tag}")
        edges += len(src)
    return edges


def large_star_task(cp: ClusterPlan, rounds: int, part: int) -> int:
    """One partition's large-star step; returns how many of its nodes are not yet in a star.

    In passes of about :data:`ROWS_PER_PASS` edges by their source node (a node's edges in one pass). A
    settled pass writes its stars; only the last round's are read, and in it every pass is settled.
    """
    broken = 0
    for tag, table in by_key(cp.path(f"cc-{2 * rounds:04d}"), part, _EDGES, "u", cp.partitions, ROWS_PER_PASS, spread=True):
        (big, small), (member, center, size), unsettled = mh.large_star(*_columns(table))
        sender = f"q{part:05d}{tag}"
        send(pa.table([big, small], schema=_EDGES), partition_of(big, cp.partitions), cp.path(f"cc-{2 * rounds + 1:04d}"), sender)
        if not unsettled:  # the final answer if every other partition and pass is settled too
            stars = pa.table([member, center, size.astype(np.int32)], schema=_STARS)
            send(stars, cp.group_of(center), cp.path(f"stars-{rounds:04d}"), sender)
        broken += unsettled
    return broken


def small_star_task(cp: ClusterPlan, rounds: int, part: int) -> int:
    """One partition's small-star step, feeding the next round's large-star; in passes by source node."""
    sent = 0
    for tag, table in by_key(cp.path(f"cc-{2 * rounds + 1:04d}"), part, _EDGES, "u", cp.partitions, ROWS_PER_PASS, spread=True):
        u, v = mh.small_star(*_columns(table))
        edges = pa.table([u, v], schema=_EDGES)
        sent += send(edges, partition_of(u, cp.partitions), cp.path(f"cc-{2 * rounds + 2:04d}"), f"q{part:05d}{tag}")
    return sent


def label_task(cp: ClusterPlan, rounds: int, group: int) -> int:
    """Name the stars centred in this group by their centre's id; route rows to the member's group.

    In passes of about :data:`ROWS_PER_PASS` rows over runs of units of the centre.
    """
    sent = 0
    for tag, _, stars in by_units(cp.path(f"stars-{rounds:04d}"), group, _STARS, "center", cp.units(group), ROWS_PER_PASS):
        centers, index = np.unique(stars.column("center").to_numpy(), return_inverse=True)
        labelled = stars.append_column(CLUSTER, read_ids(cp.summaries, centers).take(pa.array(index)))
        sent += send(labelled, cp.group_of(stars.column("node").to_numpy()), cp.path("labels"), f"g{group:05d}{tag}")
    return sent


def state_task(cp: ClusterPlan, group: int) -> int:
    """One state file per unit of the group: every clustered document, whom it duplicates, its cluster.

    In passes of about :data:`ROWS_PER_PASS` rows over runs of the group's units.
    """

    def columns(rows: pa.Table) -> dict:
        kept = pc.equal(rows.column("node"), rows.column("center"))
        return {
            "dup_of": pc.if_else(kept, pa.scalar(None, pa.string()), rows.column(CLUSTER)),
            CLUSTER: rows.column(CLUSTER),
            CLUSTER_SIZE: rows.column("size"),
        }

    return write_unit_states(
        cp.path("labels"), group, _LABELS, cp.units(group), ROWS_PER_PASS, Path(cp.state), len(cp.summaries), columns
    )
