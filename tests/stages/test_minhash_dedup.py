"""``minhash_dedup`` end to end on generated near-duplicates of known Jaccard."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from minhash_fixtures import near_duplicate_corpus, precision_recall
from pydantic import ValidationError
from reduce_helpers import kill_then_resume, state_bytes, write_summaries

from curate.engine.pipeline import reduce_step, run_in_memory, summarize_unit
from curate.engine.reduce import ReduceJob
from curate.stages.minhash_dedup import MinhashDedup, MinhashDedupParams


@pytest.fixture(scope="module")
def corpus():
    return near_duplicate_corpus(clusters=240, seed=5)


def _units(table: pa.Table, rows: int) -> list[pa.Table]:
    return [table.slice(i, rows) for i in range(0, table.num_rows, rows)]


def _run(table: pa.Table, unit_rows: int = 150, **params) -> tuple[pa.Table, pa.Table]:
    kept, rejected = run_in_memory([("minhash_dedup", MinhashDedup(MinhashDedupParams(**params)))], _units(table, unit_rows))
    return kept, rejected


def _removed(table: pa.Table, rejected: pa.Table | None) -> np.ndarray:
    dropped = set(rejected.column("id").to_pylist()) if rejected is not None else set()
    return np.array([i in dropped for i in table.column("id").to_pylist()])


def test_generator_knows_its_jaccard(corpus) -> None:
    truth = corpus.truth_removed()
    assert truth.sum() > 80 and corpus.near_miss.sum() > 10
    assert set(corpus.table.column("lang").to_pylist()) == {"en", "fr", "de", "zh"}
    assert corpus.jaccard[~corpus.near_miss].min() >= 0.87
    assert corpus.jaccard[corpus.near_miss].max() <= 0.6


def test_precision_recall_and_no_cluster_wiped_out(corpus) -> None:
    kept, rejected = _run(corpus.table)
    removed = _removed(corpus.table, rejected)
    precision, recall = precision_recall(removed, corpus.truth_removed())
    assert precision >= 0.97 and recall >= 0.97
    kept_per_cluster = np.bincount(corpus.cluster[~removed], minlength=corpus.cluster.max() + 1)
    present = np.bincount(corpus.cluster, minlength=corpus.cluster.max() + 1) > 0
    assert (kept_per_cluster[present] >= 1).all()
    assert (kept_per_cluster[present] == 1).mean() >= 0.97
    assert kept.num_rows + rejected.num_rows == corpus.table.num_rows


def test_keeps_first_in_input_order_and_names_it(corpus) -> None:
    kept, rejected = _run(corpus.table)
    ids = corpus.table.column("id").to_pylist()
    first = {}
    for i, c in zip(ids, corpus.cluster):
        first.setdefault(c, i)
    cluster_of = dict(zip(ids, corpus.cluster))
    reasons = dict(zip(rejected.column("id").to_pylist(), rejected.column("drop_reason").to_pylist()))
    right = [r == f"minhash_dedup:dup_of={first[cluster_of[i]]}" for i, r in reasons.items()]
    assert np.mean(right) >= 0.97
    rows = kept.to_pylist()
    sizes = {}
    for r in rows:
        assert r["dup_cluster"] in cluster_of
        sizes.setdefault(r["dup_cluster"], r["dup_cluster_size"])
    drops_per_rep = {}
    for reason in reasons.values():
        rep = reason.split("=", 1)[1]
        drops_per_rep[rep] = drops_per_rep.get(rep, 0) + 1
    for rep, n in drops_per_rep.items():
        assert sizes[rep] == n + 1
    singles = [r for r in rows if r["dup_cluster_size"] == 1]
    assert all(r["dup_cluster"] == r["id"] for r in singles)


def test_same_output_whatever_the_unit_split(corpus) -> None:
    kept_a, rej_a = _run(corpus.table, unit_rows=97)
    kept_b, rej_b = _run(corpus.table, unit_rows=400)
    assert kept_a.column("id").equals(kept_b.column("id"))
    assert kept_a.column("dup_cluster").equals(kept_b.column("dup_cluster"))
    assert rej_a.column("drop_reason").equals(rej_b.column("drop_reason"))


def test_chinese_detected_without_lang_column(corpus) -> None:
    zh = corpus.table.filter(pa.compute.equal(corpus.table.column("lang"), "zh"))
    mask = np.asarray(corpus.table.column("lang").to_pylist()) == "zh"
    truth = near_duplicate_corpus(clusters=240, seed=5).cluster[mask]
    _, rejected = _run(zh.drop_columns(["lang"]))
    removed = _removed(zh, rejected)
    _, first = np.unique(truth, return_index=True)
    expected = np.ones(len(truth), dtype=bool)
    expected[first] = False
    precision, recall = precision_recall(removed, expected)
    assert precision >= 0.97 and recall >= 0.97
    # forced word shingles see a Chinese document as a few long "words": far fewer matches
    _, as_words = _run(zh.drop_columns(["lang"]), tokenize="words")
    assert _removed(zh, as_words).sum() < removed.sum()


def test_verification_stops_weak_matches(corpus) -> None:
    loose = dict(bands=32, rows=2, num_perm=64)  # LSH alone would call Jaccard ~0.3 pairs candidates
    _, unverified = _run(corpus.table, verify=False, **loose)
    _, verified = _run(corpus.table, verify=True, **loose)
    truth = corpus.truth_removed()
    p_unverified, _ = precision_recall(_removed(corpus.table, unverified), truth)
    p_verified, r_verified = precision_recall(_removed(corpus.table, verified), truth)
    assert p_unverified < 0.9 <= p_verified
    assert r_verified >= 0.95


def test_same_result_for_any_partition_count(corpus) -> None:
    """Partitions change which task does what, never the answer."""
    kept, rejected = _run(corpus.table, unit_rows=97, partitions=1)
    for parts in (3, 13):
        kept_p, rejected_p = _run(corpus.table, unit_rows=97, partitions=parts)
        assert kept_p.equals(kept) and rejected_p.equals(rejected)


def test_killed_reduce_resumes_without_redoing_finished_tasks(tmp_path, corpus) -> None:
    stage = MinhashDedup(MinhashDedupParams(partitions=5))
    units = _units(corpus.table, 200)
    (tmp_path / "s").mkdir()
    summaries = write_summaries(tmp_path / "s", stage, units)
    assert summarize_unit(MinhashDedup(), units[1], 1).equals(pq.read_table(summaries[1]))  # a restart hashes alike

    whole = ReduceJob(summaries, tmp_path / "whole")
    reduce_step(stage, whole)
    total = sum(len(records) for records in whole.steps_run.values())
    assert len(state_bytes(whole)) == len(units)

    resumed, done, rerun = kill_then_resume(stage, summaries, tmp_path / "killed", 12)
    assert done == 12 and rerun == total - 12
    assert state_bytes(resumed) == state_bytes(whole)
    assert not resumed.scratch.exists()  # intermediate files go once the state is committed


def test_bad_band_shape_is_refused() -> None:
    with pytest.raises(ValidationError, match="exceeds num_perm"):
        MinhashDedupParams(bands=20, rows=10, num_perm=128)
    with pytest.raises(ValidationError, match="set both"):
        MinhashDedupParams(bands=20)
