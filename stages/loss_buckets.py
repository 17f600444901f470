"""``loss_buckets``: per-domain LM-loss percentiles, a ``ppl_bucket`` column, and the top-loss cut.

CCI4.0 removes, within each domain, the documents a small LM finds most surprising (the top 0.5% of
loss): garbled text, tables of numbers, boilerplate in another language. The cut is per domain because
loss levels differ by domain (code and legal text are easier than forum posts); a global cut would empty
the hard domains first.

A global stage. ``exact`` computes the percentiles of every loss, exactly ``np.quantile(losses, q)`` per
domain, in bounded memory: a few passes of parallel tasks over the summaries
(:mod:`curate.stages.lib.exact_quantiles`) count losses by their leading bits until each percentile is
pinned to the losses that decide it, so a task holds one unit's losses and the driver a few thousand counts
per domain. ``tdigest`` summarises each unit into a few hundred centroids per domain and merges them on the
driver in one pass (approximate; the driver holds units × domains × centroids). Documents with loss strictly above their domain's
``drop_above`` percentile are dropped with a reason naming the domain and the cut-off. ``ppl_bucket`` is the
number of the domain's N-1 bucket boundaries strictly below the loss (0 = least surprising).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import polars as pl
import pyarrow as pa
from pydantic import Field

from curate.core.registry import register
from curate.core.schema import ROW
from curate.core.stage import GlobalStage, GlobalState, Params, Verdict
from curate.engine.reduce import ReduceJob
from curate.stages.lib import exact_quantiles as exact
from curate.stages.lib.columns import set_column
from curate.stages.lib.tdigest import compress, quantiles

_NO_DOMAIN = ""


class LossBucketsParams(Params):
    column: str = Field("lm_loss", description="Loss column to rank (lower = more natural text).")
    domain_column: str | None = Field("domain", description="Group percentiles by this column (None: one group).")
    buckets: int = Field(20, ge=2, le=1000, description="Buckets per domain written to `bucket_column`.")
    bucket_column: str = Field("ppl_bucket", description="Name of the per-domain loss bucket column.")
    drop_above: float | None = Field(
        99.5, gt=0, lt=100, description="Drop documents above this per-domain loss percentile (None: keep all)."
    )
    method: Literal["exact", "tdigest"] = Field(
        "exact", description="exact: np.quantile of every loss, in a few bounded passes; tdigest: one pass of a mergeable sketch."
    )
    compression: float = Field(
        500.0, ge=20, description="t-digest delta: about delta/2 centroids per domain and unit; higher is finer."
    )


@register
class LossBuckets(GlobalStage):
    name = "loss_buckets"
    Params = LossBucketsParams

    def columns_needed(self) -> tuple[str, ...]:
        return (self.params.column,) + ((self.params.domain_column,) if self.params.domain_column else ())

    def columns_added(self) -> dict[str, pa.DataType]:
        return {self.params.bucket_column: pa.int16()}

    def _frame(self, batch: pa.Table) -> pl.DataFrame:
        loss = pl.from_arrow(batch.column(self.params.column)).cast(pl.Float64).fill_nan(None)
        if self.params.domain_column:
            domain = pl.from_arrow(batch.column(self.params.domain_column)).cast(pl.String).fill_null(_NO_DOMAIN)
        else:
            domain = pl.repeat(_NO_DOMAIN, batch.num_rows, eager=True)
        return pl.DataFrame({"domain": domain, "loss": loss})

    def _qs(self) -> list[float]:
        qs = [k / self.params.buckets for k in range(1, self.params.buckets)]
        return qs + ([self.params.drop_above / 100] if self.params.drop_above is not None else [])

    def summarize(self, batch: pa.Table) -> pa.Table:
        frame = self._frame(batch)
        if self.params.method == "exact":
            return frame.to_arrow()
        parts = []
        for domain, group in frame.drop_nulls("loss").group_by("domain", maintain_order=True):
            loss = group["loss"].to_numpy()
            m, w = compress(loss, np.ones(len(loss)), self.params.compression)
            parts.append(_centroids(domain[0], m, w, loss.min(), loss.max()))
        digest = pl.concat(parts) if parts else _centroids("", np.zeros(0), np.zeros(0), 0.0, 0.0)
        return digest.with_columns(pl.int_range(pl.len(), dtype=pl.Int64).alias(ROW)).to_arrow()

    def reduce_job(self, job: ReduceJob) -> None:
        if self.params.method != "exact":
            return super().reduce_job(job)
        job.write_state(_table(exact.run(job, exact.plan(job, ["loss"], "domain"), self._qs())))

    def reduce(self, summaries: pl.LazyFrame) -> pa.Table:
        """``exact``: every loss in this process (the reference for :meth:`reduce_job`); ``tdigest``: the merge."""
        qs = self._qs()
        if self.params.method == "exact":
            frame = summaries.drop_nulls("loss").collect()
            found = {d[0]: (g.height, np.quantile(g["loss"].to_numpy(), qs)) for d, g in frame.partition_by("domain", as_dict=True).items()}
            return _table(found)
        found = {}
        # per-domain Python path: one merge of a few hundred centroids per unit and domain
        for domain, group in summaries.collect().sort("domain", "mean").group_by("domain", maintain_order=True):
            m, w = compress(group["mean"].to_numpy(), group["weight"].to_numpy(), self.params.compression)
            est = quantiles(m, w, group["lo"].min(), group["hi"].max(), np.asarray(qs))
            found[domain[0]] = (int(group["weight"].sum()), est)
        return _table(found)

    def apply(self, batch: pa.Table, state: GlobalState) -> Verdict:
        frame = self._frame(batch)
        loss = frame["loss"].to_numpy().astype(np.float64)  # nulls -> NaN
        domains = frame["domain"].to_numpy()
        table = {r["domain"]: np.asarray(r["q"], dtype=np.float64) for r in state.table().to_pylist()}
        nb = self.params.buckets - 1
        bucket = np.full(len(loss), -1, dtype=np.int16)
        keep = np.ones(len(loss), dtype=bool)
        reasons = np.full(len(loss), "", dtype=object)
        # per-domain path: a handful of domains per batch, each handled vectorised
        for domain in np.unique(domains):
            rows = np.flatnonzero((domains == domain) & ~np.isnan(loss))
            if domain not in table or len(rows) == 0:
                continue
            q = table[domain]
            bucket[rows] = np.searchsorted(q[:nb], loss[rows], side="left")
            if self.params.drop_above is not None:
                cut = q[nb]
                over = rows[loss[rows] > cut]
                keep[over] = False
                name = domain if domain != _NO_DOMAIN else "(none)"
                reasons[over] = f"{self.params.column}>p{self.params.drop_above:g}(domain={name},cutoff={cut:.4f})"
        out = set_column(batch, self.params.bucket_column, pa.array(bucket, pa.int16(), mask=bucket < 0))
        if self.params.drop_above is None:
            return Verdict(out)
        return Verdict(out, keep, reasons)


def _table(found: dict[str, tuple[int, np.ndarray]]) -> pa.Table:
    """The state: one row per domain (sorted) with its quantiles and number of losses."""
    rows = [{"domain": d, "q": found[d][1].tolist(), "docs": found[d][0]} for d in sorted(found)]
    return pl.DataFrame(rows, schema={"domain": pl.String, "q": pl.List(pl.Float64), "docs": pl.Int64}).to_arrow()


def _centroids(domain: str, m: np.ndarray, w: np.ndarray, lo: float, hi: float) -> pl.DataFrame:
    return pl.DataFrame(
        {"domain": [domain] * len(m), "mean": m, "weight": w, "lo": [lo] * len(m), "hi": [hi] * len(m)},
        schema={"domain": pl.String, "mean": pl.Float64, "weight": pl.Float64, "lo": pl.Float64, "hi": pl.Float64},
    )
