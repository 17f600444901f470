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
from curate.stages.lib import minhash as mh

SIG = "signature"
CLUSTER = "dup_cluster"
CLUSTER_SIZE = "dup_cluster_size"
DOCS_PER_PARTITION = 1_000_000  # ~16 MB of band rows per band and ~0.5 GB of signatures per task
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
    """Route every (band key, document) of a group's units to partition ``key mod P``."""
    keys, nodes = [], []
    names = [f"band_{k}" for k in range(cp.bands)]
    for unit in cp.units(group):
        table = pq.read_table(cp.summaries[unit], columns=[*names, ROW])
        node = _nodes(table, unit)
        for name in names:
            column = table.column(name)
            valid = pc.is_valid(column).to_numpy(zero_copy_only=False)  # empty documents have no keys
            keys.append(column.filter(pa.array(valid)).to_numpy())
            nodes.append(node[valid])
    if not keys:
        return 0
    key, node = np.concatenate(keys).astype(np.uint64), np.concatenate(nodes)
    # band keys are uniform hashes that differ per band, so one partitioning serves every band
    return send(pa.table([key, node], schema=_BANDS), partition_of(key, cp.partitions, spread=False), cp.path("bands"), f"g{group:05d}")


def candidates_task(cp: ClusterPlan, part: int) -> int:
    """Candidate pairs of the buckets in one partition, routed to the earlier document's group."""
    key, node = _columns(receive(cp.path("bands"), part, _BANDS))
    order = np.lexsort((node, key))
    src, dst = mh.bucket_pairs(key[order], node[order], cp.window)
    src, dst = _unique_pairs(src, dst)
    return send(pa.table([src, dst], schema=_PAIRS), cp.group_of(src), cp.path("pairs"), f"p{part:05d}")


def _unique_pairs(src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    keep = src != dst
    if not keep.any():
        return src[:0], dst[:0]
    pairs = np.unique(np.stack([src[keep], dst[keep]], axis=1), axis=0)
    return pairs[:, 0], pairs[:, 1]


def verify_send_task(cp: ClusterPlan, group: int) -> int:
    """Attach the earlier document's signature to each pair and route it to the later document's group."""
    src, dst = _unique_pairs(*_columns(receive(cp.path("pairs"), group, _PAIRS)))
    columns = {"src": src, "dst": dst}
    if cp.verify:
        columns[SIG] = _as_blobs(read_signatures(cp, src))
    return send(pa.table(columns), cp.group_of(dst), cp.path("verify"), f"g{group:05d}")


def verify_task(cp: ClusterPlan, group: int) -> int:
    """Keep pairs at or above the threshold; send both directions of each edge to its source's partition."""
    schema = _PAIRS.append(pa.field(SIG, pa.binary(4 * cp.num_perm))) if cp.verify else _PAIRS
    table = receive(cp.path("verify"), group, schema)
    src, dst = table.column("src").to_numpy(), table.column("dst").to_numpy()
    if cp.verify and len(src):
        similarity = mh.signature_similarity(_from_blobs(table.column(SIG), cp.num_perm), read_signatures(cp, dst))
        ok = similarity >= cp.threshold
        src, dst = src[ok], dst[ok]
    u, v = np.concatenate([src, dst]), np.concatenate([dst, src])
    send(pa.table([u, v], schema=_EDGES), partition_of(u, cp.partitions), cp.path("cc-0000"), f"g{group:05d}")
    return len(src)


def large_star_task(cp: ClusterPlan, rounds: int, part: int) -> int:
    """One partition's large-star step; returns how many of its nodes are not yet in a star."""
    u, v = _columns(receive(cp.path(f"cc-{2 * rounds:04d}"), part, _EDGES))
    (big, small), (member, center, size), broken = mh.large_star(u, v)
    send(pa.table([big, small], schema=_EDGES), partition_of(big, cp.partitions), cp.path(f"cc-{2 * rounds + 1:04d}"), f"q{part:05d}")
    if not broken:  # the final answer if every other partition is settled too
        stars = pa.table([member, center, size.astype(np.int32)], schema=_STARS)
        send(stars, cp.group_of(center), cp.path(f"stars-{rounds:04d}"), f"q{part:05d}")
    return broken


def small_star_task(cp: ClusterPlan, rounds: int, part: int) -> int:
    """One partition's small-star step, feeding the next round's large-star."""
    u, v = mh.small_star(*_columns(receive(cp.path(f"cc-{2 * rounds + 1:04d}"), part, _EDGES)))
    return send(pa.table([u, v], schema=_EDGES), partition_of(u, cp.partitions), cp.path(f"cc-{2 * rounds + 2:04d}"), f"q{part:05d}")


def label_task(cp: ClusterPlan, rounds: int, group: int) -> int:
    """Name the stars centred in this group by their centre's id; route rows to the member's group."""
    stars = receive(cp.path(f"stars-{rounds:04d}"), group, _STARS)
    center = stars.column("center").to_numpy()
    centers, index = np.unique(center, return_inverse=True)
    names = read_ids(cp, centers).take(pa.array(index))
    labelled = stars.append_column(CLUSTER, names)
    return send(labelled, cp.group_of(stars.column("node").to_numpy()), cp.path("labels"), f"g{group:05d}")


def state_task(cp: ClusterPlan, group: int) -> int:
    """One state file per unit of the group: every clustered document, whom it duplicates, its cluster."""
    labels = receive(cp.path("labels"), group, _LABELS)
    order = np.argsort(labels.column("node").to_numpy(), kind="stable")
    labels = labels.take(pa.array(order))
    node = labels.column("node").to_numpy()
    for unit, lo, hi in unit_slices(node, cp.units(group)):
        rows = labels.slice(lo, hi - lo)
        kept = pc.equal(rows.column("node"), rows.column("center"))
        table = pa.table(
            {
                UNIT: pa.array(np.full(rows.num_rows, unit, dtype=np.int64)),
                ROW: pa.array(node[lo:hi] & 0xFFFFFFFF, pa.int64()),
                "dup_of": pc.if_else(kept, pa.scalar(None, pa.string()), rows.column(CLUSTER)),
                CLUSTER: rows.column(CLUSTER),
                CLUSTER_SIZE: rows.column("size"),
            }
        )
        write_parquet(table, Path(cp.state) / unit_state_name(unit, len(cp.summaries)), "zstd", 1)
    return labels.num_rows


def _by_unit(nodes: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """(unit, positions in ``nodes``) for every unit the nodes fall in."""
    units = nodes >> 32
    order = np.argsort(units, kind="stable")
    cuts = np.flatnonzero(np.diff(units[order])) + 1
    return [(int(units[idx[0]]), idx) for idx in np.split(order, cuts) if len(idx)]


def read_signatures(cp: ClusterPlan, nodes: np.ndarray) -> np.ndarray:
    """Signatures ``[len(nodes), num_perm]`` (uint32) of documents, read from their units' summaries."""
    out = np.empty((len(nodes), cp.num_perm), dtype=np.uint32)
    for unit, idx in _by_unit(nodes):
        column = pq.read_table(cp.summaries[unit], columns=[SIG]).column(SIG)
        out[idx] = _from_blobs(column.take(pa.array(nodes[idx] & 0xFFFFFFFF)), cp.num_perm)
    return out


def read_ids(cp: ClusterPlan, nodes: np.ndarray) -> pa.Array:
    """Document ids (as strings) of ``nodes``, in their order."""
    parts, positions = [], []
    for unit, idx in _by_unit(nodes):
        column = pq.read_table(cp.summaries[unit], columns=[ID]).column(ID)
        parts.append(pc.cast(column.take(pa.array(nodes[idx] & 0xFFFFFFFF)), pa.string()).combine_chunks())
        positions.append(idx)
    if not parts:
        return pa.array([], pa.string())
    return pa.concat_arrays(parts).take(pa.array(np.argsort(np.concatenate(positions))))


def _as_blobs(sig: np.ndarray) -> pa.FixedSizeBinaryArray:
    width = 4 * sig.shape[1]
    return pa.FixedSizeBinaryArray.from_buffers(pa.binary(width), len(sig), [None, pa.py_buffer(np.ascontiguousarray(sig).tobytes())])


def _from_blobs(blobs: pa.Array | pa.ChunkedArray, num_perm: int) -> np.ndarray:
    if isinstance(blobs, pa.ChunkedArray):
        blobs = blobs.combine_chunks()
    width = 4 * num_perm
    data = np.frombuffer(blobs.buffers()[1], dtype=np.uint8)[blobs.offset * width : (blobs.offset + len(blobs)) * width]
    return data.view(np.uint32).reshape(len(blobs), num_perm)
