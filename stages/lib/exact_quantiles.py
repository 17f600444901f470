"""Exact percentiles of a whole run in bounded memory: a radix selection in a few passes over the summaries.

``score_buckets`` and ``loss_buckets`` (``method: exact``) need, per score column or per domain, the
percentiles numpy's default (``linear``) method gives: ``x[i] + (x[i+1] - x[i]) * g`` with
``i + g = (N - 1) * q`` over the sorted values ``x``. Only the order statistics ``x[i]`` and ``x[i+1]``
matter, so nothing needs every value at once. Each value is mapped to a 64-bit key that sorts like the float
(:func:`to_key`), and every pass is one step of parallel tasks over unit groups that narrows down, for every
wanted rank, the range of keys holding it:

1. **level-0** — each task counts its values by the top 12 bits of the key (sign and exponent), per column
   or domain; the driver adds the counts up (``N`` per column, hence the wanted ranks) and picks, for every
   rank, the 12-bit prefix holding it.
2. **level-r** — each task counts only the values under the prefixes still open: by the next 12 bits, or,
   where a prefix holds at most :data:`COLLECT` values, by the whole key (the values themselves). Counts
   carry the smallest and largest key, so a prefix holding a single distinct value is settled at once.
   A rank is settled when its range is one key; at most six levels (12 × 5 + 4 bits) settle every rank,
   usually three.

Then the two order statistics of each percentile are exact, and the percentile is computed with numpy's
own arithmetic (:func:`numpy_linear`), so it equals ``np.quantile(values, q)`` bit for bit. NaN and null
values are left out, as ``np.nanquantile`` does.

Memory: a task holds one unit's values of one column at a time and the counts of the open prefixes (at most
``2^12`` or :data:`COLLECT` rows each); the driver holds the counts of one level, added up task by task:
at most (open prefixes × 4096) rows, about 2 × (buckets + 1) prefixes per column or domain. Neither depends
on the number of documents.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial

import numpy as np
import polars as pl

from curate.engine.reduce import ReduceJob, ShufflePlan, plan_shuffle
from curate.io.shards import write_parquet

DIGIT = 12  # key bits resolved per pass
COLLECT = 1 << DIGIT  # a prefix holding at most this many values is read whole in the next pass
ROWS_PER_TASK = 20_000_000  # summary rows per task (parallelism only: a task reads one unit at a time)
SIGN = np.uint64(1 << 63)
_SCHEMA = {"g": pl.String, "bits": pl.Int16, "prefix": pl.UInt64, "n": pl.Int64, "lo": pl.UInt64, "hi": pl.UInt64}


def to_key(x: np.ndarray) -> np.ndarray:
    """uint64 keys ordered as the float64 values (-0.0 counted as 0.0); NaN must be removed first."""
    bits = (np.asarray(x, dtype=np.float64) + 0.0).view(np.uint64)
    return np.where(bits & SIGN, ~bits, bits | SIGN)


def from_key(key: np.ndarray) -> np.ndarray:
    key = np.asarray(key, dtype=np.uint64)
    return np.where(key & SIGN, key & ~SIGN, ~key).view(np.float64)


def numpy_linear(n: int, qs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(previous rank, next rank, gamma) of each quantile, as ``np.quantile``'s ``linear`` method computes them."""
    h = (n - 1) * np.asarray(qs, dtype=np.float64)
    prev = np.floor(h)
    above = h >= n - 1
    gamma = h - np.where(above, -1.0, prev)  # numpy measures gamma from index -1 there; both ends are the max
    prev = np.where(above, n - 1, prev).astype(np.int64)
    nxt = np.where(above, n - 1, prev + 1).astype(np.int64)
    return prev, nxt, gamma


def lerp(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """numpy's own interpolation (``numpy.lib._function_base_impl._lerp``), so results match bit for bit."""
    diff = b - a
    return np.where(t >= 0.5, b - diff * (1 - t), a + diff * t)


@dataclass(frozen=True)
class QuantilePlan(ShufflePlan):
    """Inputs and unit groups of one percentile reduce, and which summary columns hold the values. Picklable.

    ``by`` None: each column of ``values`` is its own set (keyed by the column name); else ``values`` is one
    column and ``by`` names the column whose values key the sets (a domain).
    """

    values: tuple[str, ...] = ()
    by: str | None = None


def plan(job: ReduceJob, values: list[str], by: str | None) -> QuantilePlan:
    fields = plan_shuffle(job, "quantile-plan", ROWS_PER_TASK, None)
    return QuantilePlan(**fields, values=tuple(values), by=by)


def run(job: ReduceJob, qp: QuantilePlan, qs: list[float]) -> dict[str, tuple[int, np.ndarray]]:
    """Per set: (number of values, the exact ``np.quantile(values, qs)``). Sets without a value are absent."""
    groups = list(range(len(qp.groups)))
    level = _merge(qp, job.step("level-0", partial(count_task, qp, 0, None), groups), 0)
    sizes = level.group_by("g").agg(pl.col("n").sum())
    ranks = {g: numpy_linear(int(n), np.asarray(qs)) for g, n in sizes.iter_rows()}
    # open ranges per set: rank -> [prefix, bits, values below the prefix, values in it, lo, hi]; a handful per set
    targets = {g: {int(k): [0, 0, 0, int(n), 0, 0] for k in np.unique(np.r_[ranks[g][0], ranks[g][1]])} for g, n in sizes.iter_rows()}
    r = 0
    while True:
        _descend(targets, level)
        bins = {}
        for g, ranges in targets.items():
            open_ = {t[0]: (t[1], t[3]) for t in ranges.values() if not _settled(t)}
            if open_:
                bits = next(iter(open_.values()))[0]  # every open range of a set has the same length at a given level
                bins[g] = (bits, sorted((p, 64 - bits if n <= COLLECT else min(DIGIT, 64 - bits)) for p, (_, n) in open_.items()))
        if not bins:
            break
        r += 1
        level = _merge(qp, job.step(f"level-{r}", partial(count_task, qp, r, bins), groups), r)
    out = {}
    for g, n in sizes.iter_rows():
        prev, nxt, gamma = ranks[g]
        a = from_key(np.array([targets[g][int(k)][4] for k in prev], dtype=np.uint64))
        b = from_key(np.array([targets[g][int(k)][4] for k in nxt], dtype=np.uint64))
        out[g] = (int(n), lerp(a, b, gamma))
    return out


def _descend(targets: dict[str, dict[int, list[int]]], level: pl.DataFrame) -> None:
    """Move every open rank into the child range (of this level's counts) that holds it."""
    for (g,), f in level.partition_by("g", as_dict=True).items():
        mine = [(k, t) for k, t in targets[g].items() if not _settled(t)]
        if not mine:
            continue
        bits = mine[0][1][1]
        child, child_bits = f["prefix"].to_numpy(), f["bits"].to_numpy()
        parent = child >> (child_bits - bits).astype(np.uint64) if bits else np.zeros(len(child), np.uint64)
        order = np.lexsort((child, parent))  # within one parent, children share their length
        parent, child, child_bits = parent[order], child[order], child_bits[order]
        n, lo, hi = (f[c].to_numpy()[order] for c in ("n", "lo", "hi"))
        for k, (prefix, _, below, *_) in mine:  # per-rank Python path: ~2 × buckets ranks per set, O(log) each
            start, end = np.searchsorted(parent, np.array([prefix, prefix + 1], dtype=np.uint64)) if bits else (0, len(parent))
            ends = below + np.cumsum(n[start:end])
            row = start + int(np.searchsorted(ends, k, side="right"))
            targets[g][k] = [
                int(child[row]),
                int(child_bits[row]),
                int(ends[row - start] - n[row]),
                int(n[row]),
                int(lo[row]),
                int(hi[row]),
            ]


def _settled(t: list) -> bool:
    """A range is settled when it holds one distinct key (always so at 64 bits)."""
    return t[1] > 0 and t[4] == t[5]


def _merge(qp: QuantilePlan, rows: list[int], r: int) -> pl.DataFrame:
    """The level's counts of every task added up, one task file at a time (bounded by the open ranges)."""
    total = pl.DataFrame(schema=_SCHEMA)
    for group, _ in enumerate(rows):
        part = pl.read_parquet(qp.path(f"quantiles/level-{r}/g{group:05d}.parquet"))
        total = _add(pl.concat([total, part]))
    return total


def _add(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.group_by("g", "bits", "prefix").agg(pl.col("n").sum(), pl.col("lo").min(), pl.col("hi").max()).sort("g", "bits", "prefix")


def _sets(qp: QuantilePlan, path: str) -> Iterator[tuple[str, np.ndarray]]:
    """(set name, sorted keys) of one unit's summary, NaN and nulls left out."""
    table = pl.read_parquet(path, columns=list(qp.values) + ([qp.by] if qp.by else []))
    if qp.by is None:
        for c in qp.values:
            yield c, np.sort(to_key(table[c].cast(pl.Float64).fill_nan(None).drop_nulls().to_numpy()))
        return
    values = table.select(pl.col(qp.by).cast(pl.String), pl.col(qp.values[0]).cast(pl.Float64).fill_nan(None)).drop_nulls()
    for (g,), part in values.partition_by(qp.by, as_dict=True).items():
        yield g, np.sort(to_key(part[qp.values[0]].to_numpy()))


def count_task(qp: QuantilePlan, r: int, bins: dict | None, group: int) -> int:
    """Count the group's values under each open prefix by their next bits (level 0: by their top bits)."""
    total = pl.DataFrame(schema=_SCHEMA)
    for unit in qp.units(group):
        parts = []
        for g, key in _sets(qp, qp.summaries[unit]):
            if bins is None:
                width, bits = np.full(len(key), DIGIT, dtype=np.uint64), 0
            elif g in bins:
                bits, open_ = bins[g]
                prefixes = np.array([p for p, _ in open_], dtype=np.uint64)
                widths = np.array([w for _, w in open_], dtype=np.uint64)
                top = key >> np.uint64(64 - bits)
                at = np.searchsorted(prefixes, top).clip(0, len(prefixes) - 1)
                inside = prefixes[at] == top
                key, width = key[inside], widths[at[inside]]
            else:
                continue
            parts.extend(_children(g, bits, int(w), key[width == w]) for w in np.unique(width))
        if parts:
            total = _add(pl.concat([total, *parts]))
    write_parquet(total.to_arrow(), qp.path(f"quantiles/level-{r}/g{group:05d}.parquet"), "zstd", 1)
    return total.height


def _children(g: str, bits: int, width: int, key: np.ndarray) -> pl.DataFrame:
    """Counts, smallest and largest key of sorted ``key`` by their top ``bits + width`` bits."""
    child = key >> np.uint64(64 - bits - width)
    starts = np.flatnonzero(np.r_[True, child[1:] != child[:-1]]) if len(key) else np.zeros(0, np.int64)
    ends = np.r_[starts[1:], len(key)]
    columns = {"g": [g] * len(starts), "bits": np.full(len(starts), bits + width, np.int16), "prefix": child[starts]}
    columns.update(n=(ends - starts).astype(np.int64), lo=key[starts], hi=key[ends - 1])
    return pl.DataFrame(columns, schema=_SCHEMA)
