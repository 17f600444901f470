from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from curate.engine.pipeline import run_in_memory
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
