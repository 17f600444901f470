"""The pieces of the bounded percentile reduce: keys that sort like floats, and numpy's interpolation."""

from __future__ import annotations

import numpy as np

from curate.stages.lib.exact_quantiles import from_key, lerp, numpy_linear, to_key


def test_keys_sort_like_the_floats_and_come_back() -> None:
    rng = np.random.default_rng(0)
    x = np.r_[rng.standard_cauchy(5000), -np.inf, np.inf, 0.0, -0.0, 5e-324, -5e-324, np.finfo(float).max]
    key = to_key(x)
    order = np.argsort(key, kind="stable")
    assert np.all(np.diff(x[order]) >= 0)
    assert to_key(np.array([-0.0]))[0] == to_key(np.array([0.0]))[0]  # one key for both zeros
    np.testing.assert_array_equal(from_key(key), x + 0.0)


def test_order_statistics_and_interpolation_are_np_quantile_bit_for_bit() -> None:
    rng = np.random.default_rng(1)
    qs = np.r_[np.arange(1, 20) / 20, np.arange(1, 1000) / 1000, 0.995]
    for n in (1, 2, 3, 7, 100, 1001, 12345):
        x = np.sort(rng.normal(size=n) * 10.0 ** rng.integers(-5, 5))
        prev, nxt, gamma = numpy_linear(n, qs)
        np.testing.assert_array_equal(lerp(x[prev], x[nxt], gamma), np.quantile(x, qs), strict=True)


def test_values_one_ulp_apart_need_every_pass_and_stay_exact(tmp_path, monkeypatch) -> None:
    from pathlib import Path

    import pyarrow as pa

    from curate.engine.reduce import ReduceJob
    from curate.io.shards import write_parquet
    from curate.stages.lib import exact_quantiles

    monkeypatch.setattr(exact_quantiles, "COLLECT", 3)
    rng = np.random.default_rng(2)
    x = 1.0 + rng.integers(0, 40, 4000) * np.finfo(float).eps  # 40 values a few ulps apart
    x[::5] = -x[::5]
    paths = []
    for i, part in enumerate(np.array_split(x, 5)):
        paths.append(str(tmp_path / f"unit-{i:05d}.parquet"))
        write_parquet(pa.table({"v": part}), Path(paths[-1]), "none")
    job = ReduceJob(paths, tmp_path / "job", workers=2)
    qs = list(np.arange(1, 100) / 100)
    n, got = exact_quantiles.run(job, exact_quantiles.plan(job, ["v"], None), qs)["v"]
    assert n == 4000 and len(job.steps_run) == 6  # 12 × 5 bits, then the exact values
    np.testing.assert_array_equal(got, np.quantile(x, qs), strict=True)
