from __future__ import annotations

import io

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from pydantic import ValidationError
from reduce_helpers import kill_then_resume, write_summaries

from curate.engine.pipeline import reduce_step, run_in_memory
from curate.engine.recipe import parse_recipe
from curate.engine.reduce import ReduceJob
from curate.engine.runner import run_recipe
from curate.stages.lib import exact_quantiles
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


# --- the bounded reduce: exact percentiles from passes over the summaries, never every score at once ---


def _scores(n: int = 3000, seed: int = 3) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    ties = np.round(rng.random(n), 1)  # 11 distinct values: boundaries fall inside runs of ties
    signed = rng.standard_cauchy(n)
    signed[::4] = -0.0
    signed[1::9] = 0.0
    signed[2::17] = np.nan
    return {"a": rng.normal(size=n), "ties": ties, "signed": signed, "none": np.full(n, np.nan)}


def _score_units(scores: dict[str, np.ndarray], parts: int) -> list[pa.Table]:
    n = len(next(iter(scores.values())))
    return [pa.table({"id": [f"d{i}" for i in c], "text": ["t"] * len(c), **{k: v[c] for k, v in scores.items()}}) for c in np.array_split(np.arange(n), parts)]


@pytest.mark.parametrize("collect", [4096, 3])
def test_bounded_reduce_is_np_quantile_for_any_worker_count(tmp_path, monkeypatch, collect) -> None:
    monkeypatch.setattr(exact_quantiles, "COLLECT", collect)  # 3: every pass narrows by 12 bits, up to six passes
    scores = _scores()
    stage = ScoreBuckets(ScoreBucketsParams(columns=list(scores), buckets=20))
    summaries = write_summaries(tmp_path / "s", stage, _score_units(scores, 9))
    states = []
    for workers in (1, 3, 7):
        job = ReduceJob(summaries, tmp_path / f"w{workers}", workers=workers)
        reduce_step(stage, job)
        assert len(job.steps_run["level-0"]) == workers  # one task per unit group
        states.append((job.state_dir / "state.parquet").read_bytes())
        state = pq.read_table(job.state_dir / "state.parquet")
        for c, v in scores.items():
            got = state.filter(pc.equal(state.column("column"), c)).column("boundary")
            if c == "none":
                assert got.null_count == 19  # no scores: no boundaries, every bucket null
                continue
            np.testing.assert_array_equal(got.to_numpy(), np.quantile(v[~np.isnan(v)], np.arange(1, 20) / 20), strict=True)
    assert len(job.steps_run) == (3 if collect == 3 else 2)  # passes over the summaries
    assert states[1] == states[0] and states[2] == states[0]
    assert pq.read_table(io.BytesIO(states[0])).equals(stage.reduce(pl.DataFrame(scores).lazy()))


def test_killed_bucket_reduce_resumes_to_the_same_state(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(exact_quantiles, "COLLECT", 3)
    scores = _scores(seed=4)
    stage = ScoreBuckets(ScoreBucketsParams(columns=["a", "ties", "signed"]))
    summaries = write_summaries(tmp_path / "s", stage, _score_units(scores, 6))
    whole = ReduceJob(summaries, tmp_path / "whole", workers=3)
    reduce_step(stage, whole)
    total = sum(len(records) for records in whole.steps_run.values())
    resumed, done, rerun = kill_then_resume(stage, summaries, tmp_path / "killed", total // 2, workers=3, resume_workers=1)
    assert 0 < done and rerun == total - done
    assert (resumed.state_dir / "state.parquet").read_bytes() == (whole.state_dir / "state.parquet").read_bytes()


def test_worker_processes_bucket_as_numpy_does(tmp_path) -> None:
    scores = _scores(n=2000, seed=5)
    (tmp_path / "in").mkdir()
    pq.write_table(pa.concat_tables(_score_units(scores, 1)), tmp_path / "in" / "s.parquet", row_group_size=300)
    recipe = parse_recipe(
        f'name: b\ninput: {{paths: ["{tmp_path}/in/s.parquet"], rows_per_unit: 300}}\n'
        "stages:\n  - stage: score_buckets\n    params: {columns: [a, ties, signed]}\n"
    )
    run_recipe(recipe, str(tmp_path / "out"), workers=2, quiet=True)
    kept = pq.read_table(tmp_path / "out" / "data")
    assert kept.column("id").to_pylist() == [f"d{i}" for i in range(2000)]
    for c in ("a", "ties", "signed"):
        v = scores[c]
        expected = np.searchsorted(np.quantile(v[~np.isnan(v)], np.arange(1, 20) / 20), v, side="left")
        got = kept.column(f"{c}_bucket").to_numpy(zero_copy_only=False)
        np.testing.assert_array_equal(np.where(np.isnan(v), -1, expected), np.nan_to_num(got, nan=-1))
