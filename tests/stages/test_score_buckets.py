from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from pydantic import ValidationError

from curate.engine.pipeline import run_in_memory
from curate.stages.score_buckets import ScoreBuckets, ScoreBucketsParams


def _units(a: np.ndarray, b: np.ndarray, parts: int = 3) -> list[pa.Table]:
    ids = np.array([f"d{i}" for i in range(len(a))])
    cut = np.array_split(np.arange(len(a)), parts)
    return [pa.table({"id": ids[c], "text": ["t"] * len(c), "a": a[c], "b": b[c]}) for c in cut]


def _run(params: dict, a: np.ndarray, b: np.ndarray, parts: int = 3):
    return run_in_memory([("score_buckets", ScoreBuckets(ScoreBucketsParams(**params)))], _units(a, b, parts))


def test_bucket_boundaries_match_numpy_percentiles() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=1000), rng.random(1000)
    stage = ScoreBuckets(ScoreBucketsParams(columns=["a", "b"]))
    import polars as pl

    state = stage.reduce(pl.DataFrame({"a": a, "b": b}).lazy())
    got = state.filter(pa.compute.equal(state.column("column"), "a")).column("boundary").to_numpy()
    np.testing.assert_array_equal(got, np.percentile(a, np.arange(5, 100, 5)))
    kept, _ = _run({"columns": ["a", "b"]}, a, b)
    expected = np.searchsorted(np.percentile(a, np.arange(5, 100, 5)), kept.column("a").to_numpy(), side="left")
    np.testing.assert_array_equal(kept.column("a_bucket").to_numpy(), expected)
    assert np.bincount(kept.column("a_bucket").to_numpy()).tolist() == [50] * 20  # 20 buckets of 5%


def test_max_ensemble_takes_the_best_bucket_and_mean_rounds() -> None:
    rng = np.random.default_rng(1)
    a, b = rng.random(400), rng.random(400)
    kept, _ = _run({"columns": ["a", "b"], "combine": "max"}, a, b)
    ab, bb = kept.column("a_bucket").to_numpy(), kept.column("b_bucket").to_numpy()
    np.testing.assert_array_equal(kept.column("quality_bucket").to_numpy(), np.maximum(ab, bb))
    kept, _ = _run({"columns": ["a", "b"], "combine": "mean"}, a, b)
    np.testing.assert_array_equal(kept.column("quality_bucket").to_numpy(), np.floor((ab + bb) / 2 + 0.5))
    kept, _ = _run({"columns": ["a", "b"], "combine": "weighted", "weights": {"a": 3, "b": 1}}, a, b)
    np.testing.assert_array_equal(kept.column("quality_bucket").to_numpy(), np.floor((3 * ab + bb) / 4 + 0.5))


def test_ties_share_a_bucket_whatever_the_split() -> None:
    a = np.repeat(np.arange(10, dtype=float), 30)  # heavy ties
    b = np.zeros(300)
    one, _ = _run({"columns": ["a", "b"]}, a, b, parts=1)
    many, _ = _run({"columns": ["a", "b"]}, a, b, parts=7)
    assert one.column("quality_bucket").equals(many.column("quality_bucket"))
    buckets = one.column("a_bucket").to_numpy()
    for v in range(10):
        assert len(set(buckets[a == v])) == 1
    assert set(one.column("b_bucket").to_pylist()) == {0}


def test_nulls_and_min_bucket_drop() -> None:
    a = np.arange(100, dtype=float)
    a[5] = np.nan
    kept, rejected = _run({"columns": ["a", "b"], "min_bucket": 10, "per_column": False}, a, np.full(100, np.nan))
    assert "a_bucket" not in kept.column_names
    reasons = set(rejected.column("drop_reason").to_pylist())
    assert reasons == {"score_buckets:quality_bucket<10"}
    assert kept.num_rows + rejected.num_rows == 100
    assert "d5" in kept.column("id").to_pylist()  # no score at all: kept, null bucket
    assert kept.column("quality_bucket").null_count == 1
    assert min(v for v in kept.column("quality_bucket").to_pylist() if v is not None) == 10


def test_params_are_checked() -> None:
    with pytest.raises(ValidationError, match="weight for every column"):
        ScoreBucketsParams(columns=["a", "b"], combine="weighted", weights={"a": 1})
    with pytest.raises(ValidationError, match="drop everything"):
        ScoreBucketsParams(columns=["a"], buckets=20, min_bucket=20)
