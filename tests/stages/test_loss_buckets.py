from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from curate.engine.pipeline import reduce_step, run_in_memory, summarize_unit
from curate.engine.reduce import ReduceJob
from curate.io.shards import write_parquet
from curate.stages.lib import exact_quantiles
from curate.stages.loss_buckets import LossBuckets, LossBucketsParams


def _units(n_per_domain: int = 1000, parts: int = 4, seed: int = 0) -> tuple[list[pa.Table], dict]:
    rng = np.random.default_rng(seed)
    losses = {"news": rng.gamma(2.0, 1.0, n_per_domain), "code": rng.normal(1.0, 0.2, n_per_domain)}
    domain = np.repeat(list(losses), n_per_domain)
    loss = np.concatenate(list(losses.values()))
    order = rng.permutation(len(loss))
    domain, loss = domain[order], loss[order]
    ids = np.array([f"d{i}" for i in range(len(loss))])
    cut = np.array_split(np.arange(len(loss)), parts)
    return [pa.table({"id": ids[c], "text": ["t"] * len(c), "lm_loss": loss[c], "domain": domain[c]}) for c in cut], losses


def test_per_domain_cut_removes_exactly_the_expected_share() -> None:
    units, losses = _units()
    kept, rejected = run_in_memory([("loss_buckets", LossBuckets(LossBucketsParams()))], units)
    assert kept.num_rows + rejected.num_rows == 2000
    assert rejected.num_rows == 10  # 0.5% of each domain of 1000
    for domain, values in losses.items():
        cut = np.percentile(values, 99.5)
        mine = [r for r in rejected.column("drop_reason").to_pylist() if f"domain={domain}," in r]
        assert len(mine) == 5
        assert mine[0] == f"loss_buckets:lm_loss>p99.5(domain={domain},cutoff={cut:.4f})"
        expected = np.searchsorted(np.percentile(values, np.arange(5, 100, 5)), values, side="left")
        rows = np.asarray(kept.column("domain").to_pylist()) == domain
        got = np.sort(kept.column("ppl_bucket").to_numpy()[rows])
        np.testing.assert_array_equal(got, np.sort(expected[values <= cut]))


def test_tdigest_is_close_to_exact() -> None:
    units, _ = _units(n_per_domain=20_000, parts=5, seed=2)
    exact, exact_rej = run_in_memory([("lb", LossBuckets(LossBucketsParams()))], units)
    approx, approx_rej = run_in_memory([("lb", LossBuckets(LossBucketsParams(method="tdigest", compression=200)))], units)
    assert exact_rej.num_rows == 200
    assert abs(approx_rej.num_rows - 200) <= 10
    e = dict(zip(exact.column("id").to_pylist(), exact.column("ppl_bucket").to_pylist()))
    a = dict(zip(approx.column("id").to_pylist(), approx.column("ppl_bucket").to_pylist()))
    agree = np.mean([e[k] == a[k] for k in e.keys() & a.keys()])
    assert agree > 0.95


def test_no_domain_column_and_missing_losses() -> None:
    loss = np.arange(200, dtype=float)
    loss[[3, 7]] = np.nan
    unit = pa.table({"id": [f"d{i}" for i in range(200)], "text": ["t"] * 200, "lm_loss": loss})
    params = LossBucketsParams(domain_column=None, drop_above=99.0, buckets=10)
    kept, rejected = run_in_memory([("lb", LossBuckets(params))], [unit])
    assert rejected.column("drop_reason").to_pylist()[0].startswith("loss_buckets:lm_loss>p99(domain=(none),")
    assert rejected.num_rows == 2
    assert kept.column("ppl_bucket").null_count == 2  # no loss: kept, no bucket
    with pytest.raises(Exception):
        LossBucketsParams(drop_above=100)


@pytest.mark.parametrize("collect", [4096, 3])
def test_exact_reduce_in_passes_is_np_quantile_per_domain_for_any_worker_count(tmp_path, monkeypatch, collect) -> None:
    monkeypatch.setattr(exact_quantiles, "COLLECT", collect)
    units, _ = _units(n_per_domain=1500, parts=7, seed=3)
    units[2] = units[2].set_column(2, "lm_loss", pa.array(np.round(units[2].column("lm_loss").to_numpy(), 1)))  # ties
    units[4] = units[4].set_column(3, "domain", pa.nulls(units[4].num_rows, pa.string()))  # no domain: its own group
    stage = LossBuckets(LossBucketsParams(drop_above=99.5))
    (tmp_path / "s").mkdir()
    summaries = []
    for i, unit in enumerate(units):
        summaries.append(str(tmp_path / "s" / f"unit-{i:05d}.parquet"))
        write_parquet(summarize_unit(stage, unit, i), Path(summaries[-1]), "none")
    frame = pl.concat([pl.from_arrow(unit) for unit in units]).with_columns(pl.col("domain").fill_null(""))
    qs = np.r_[np.arange(1, 20) / 20, 0.995]
    states = set()
    for workers in (1, 3, 7):
        job = ReduceJob(summaries, tmp_path / f"w{workers}", workers=workers)
        reduce_step(stage, job)
        state = pq.read_table(job.state_dir / "state.parquet")
        assert state.column("domain").to_pylist() == ["", "code", "news"]
        for row in state.to_pylist():
            values = frame.filter(pl.col("domain") == row["domain"])["lm_loss"].to_numpy()
            assert row["docs"] == len(values)
            np.testing.assert_array_equal(row["q"], np.quantile(values, qs), strict=True)
        states.add((job.state_dir / "state.parquet").read_bytes())
    assert len(states) == 1
