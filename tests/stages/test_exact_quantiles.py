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
