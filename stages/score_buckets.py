"""``score_buckets``: rank score columns into N global percentile buckets and ensemble them.

CCI4.0 scores each web document with several quality classifiers, ranks every score into 20 buckets of 5%
over the whole corpus, and keeps the best rank any classifier gave (``max``): a document one classifier
loves survives even if another is lukewarm. ``mean`` and ``weighted`` are the softer alternatives.

A global stage. ``summarize`` keeps only the score columns; the reduce computes, per column, the N-1
boundaries at 100/N, 200/N, ... percent with linear interpolation, exactly ``np.quantile(scores, k/N)``;
``apply`` gives each score the number of boundaries strictly below it (0 .. N-1). Equal scores therefore
always share a bucket, whatever the input order or the number of workers. Null and NaN scores are left out
of the percentiles and get a null bucket.

Memory: the reduce never holds every score. It runs as a few passes of parallel tasks over the summaries
(:mod:`curate.stages.lib.exact_quantiles`): counts by the leading bits of each score narrow every boundary
down to the scores that decide it, so a task holds one unit's scores and the driver a few thousand counts
per column, however large the run. ``reduce`` (one process, every score in memory) gives the same numbers
for tests and notebooks.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import polars as pl
import pyarrow as pa
from pydantic import Field, model_validator

from curate.core.registry import register
from curate.core.stage import GlobalStage, GlobalState, Params, Verdict
from curate.engine.reduce import ReduceJob
from curate.stages.lib import exact_quantiles as quantiles
from curate.stages.lib.columns import set_column


class ScoreBucketsParams(Params):
    columns: list[str] = Field(min_length=1, description="Score columns to rank (higher score = better).")
    buckets: int = Field(20, ge=2, le=1000, description="Buckets per column (20 = CCI4.0's 5% buckets).")
    combine: Literal["max", "mean", "weighted"] = Field(
        "max", description="How per-column buckets become one: max (CCI4.0), mean, or weighted mean (rounded)."
    )
    weights: dict[str, float] | None = Field(None, description="Weight per column for `combine: weighted`.")
    column: str = Field("quality_bucket", description="Name of the combined bucket column.")
    per_column: bool = Field(True, description="Also write `<column>_bucket` for each score column.")
    min_bucket: int | None = Field(
        None, ge=0, description="Drop documents whose combined bucket is below this (None: drop nothing)."
    )

    @model_validator(mode="after")
    def _weights_fit(self) -> "ScoreBucketsParams":
        if self.combine == "weighted":
            missing = [c for c in self.columns if c not in (self.weights or {})]
            if missing:
                raise ValueError(f"combine: weighted needs a weight for every column; missing {missing}")
            if any(w < 0 for w in self.weights.values()) or not sum(self.weights[c] for c in self.columns) > 0:
                raise ValueError("weights must be >= 0 and not all zero")
        if self.min_bucket is not None and self.min_bucket >= self.buckets:
            raise ValueError(f"min_bucket {self.min_bucket} would drop everything; it must be below buckets={self.buckets}")
        return self


def boundaries(found: dict[str, tuple[int, np.ndarray]], columns: list[str], buckets: int) -> pa.Table:
    """(column, k, boundary) rows from each column's quantiles k/buckets, k = 1 .. buckets-1 (null: no scores)."""
    row = [float(found[c][1][k - 1]) if c in found else None for c in columns for k in range(1, buckets)]
    names = [(c, k) for c in columns for k in range(1, buckets)]
    return pa.table(
        {
            "column": pa.array([c for c, _ in names], pa.string()),
            "k": pa.array([k for _, k in names], pa.int32()),
            "boundary": pa.array(row, pa.float64()),
        }
    )


def bucketize(scores: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """Buckets 0 .. len(bounds): how many boundaries lie strictly below each score; -1 for NaN scores."""
    out = np.searchsorted(bounds, scores, side="left").astype(np.int16)
    out[np.isnan(scores)] = -1
    return out


@register
class ScoreBuckets(GlobalStage):
    name = "score_buckets"
    Params = ScoreBucketsParams

    def columns_needed(self) -> tuple[str, ...]:
        return tuple(self.params.columns)

    def columns_added(self) -> dict[str, pa.DataType]:
        added = {f"{c}_bucket": pa.int16() for c in self.params.columns} if self.params.per_column else {}
        return {**added, self.params.column: pa.int16()}

    def summarize(self, batch: pa.Table) -> pa.Table:
        return batch.select(self.params.columns)

    def _qs(self) -> list[float]:
        return [k / self.params.buckets for k in range(1, self.params.buckets)]

    def reduce(self, summaries: pl.LazyFrame) -> pa.Table:
        """Every score in this process: the reference for :meth:`reduce_job`'s bounded passes."""
        frame = summaries.select(pl.col(c).cast(pl.Float64).fill_nan(None) for c in self.params.columns).collect()
        found = {}
        for c in self.params.columns:
            scores = frame[c].drop_nulls().to_numpy()
            if len(scores):
                found[c] = (len(scores), np.quantile(scores, self._qs()))
        return boundaries(found, self.params.columns, self.params.buckets)

    def reduce_job(self, job: ReduceJob) -> None:
        found = quantiles.run(job, quantiles.plan(job, self.params.columns, None), self._qs())
        job.write_state(boundaries(found, self.params.columns, self.params.buckets))

    def apply(self, batch: pa.Table, state: GlobalState) -> Verdict:
        bounds = pl.from_arrow(state.table())
        per = []
        out = batch
        for c in self.params.columns:
            b = bounds.filter(pl.col("column") == c).sort("k")["boundary"].to_numpy()
            if np.isnan(b).any():  # the column had no scores at all in this run
                b = np.full(self.params.buckets - 1, np.inf)
            scores = batch.column(c).cast(pa.float64()).to_numpy(zero_copy_only=False)
            bucket = bucketize(scores.astype(np.float64), b)
            per.append(bucket)
            if self.params.per_column:
                out = set_column(out, f"{c}_bucket", pa.array(bucket, pa.int16(), mask=bucket < 0))
        combined = self._combine(np.stack(per, axis=1))
        out = set_column(out, self.params.column, pa.array(combined, pa.int16(), mask=combined < 0))
        if self.params.min_bucket is None:
            return Verdict(out)
        keep = (combined < 0) | (combined >= self.params.min_bucket)
        reasons = np.where(keep, "", f"{self.params.column}<{self.params.min_bucket}")
        return Verdict(out, keep, reasons)

    def _combine(self, buckets: np.ndarray) -> np.ndarray:
        """(docs, columns) buckets with -1 for missing -> one bucket per doc, -1 where all are missing."""
        present = buckets >= 0
        if self.params.combine == "max":
            return buckets.max(axis=1).astype(np.int16)
        if self.params.combine == "mean":
            w = np.ones(buckets.shape[1])
        else:
            w = np.asarray([self.params.weights[c] for c in self.params.columns], dtype=np.float64)
        wp = present * w
        total = wp.sum(axis=1)
        mean = np.divide((np.where(present, buckets, 0) * wp).sum(axis=1), total, out=np.zeros(len(total)), where=total > 0)
        return np.where(total > 0, np.floor(mean + 0.5), -1).astype(np.int16)
