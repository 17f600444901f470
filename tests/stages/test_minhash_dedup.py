"""``minhash_dedup`` end to end on generated near-duplicates of known Jaccard."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from minhash_fixtures import near_duplicate_corpus, precision_recall
from pydantic import ValidationError
from reduce_helpers import committed_states, held_rows, kill_then_resume, reduce_holding, state_bytes, write_summaries

from curate.engine.pipeline import reduce_step, run_in_memory, summarize_unit
from curate.engine.recipe import parse_recipe
from curate.engine.reduce import ReduceJob
from curate.engine.runner import run_recipe
from curate.stages.lib import minhash_clusters
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


def copies_corpus(bases: int = 80, seed: int = 3) -> tuple[pa.Table, dict[str, str]]:
    """Distinct random-word documents, copies of some placed later (recased and punctuated, or one word
    changed: Jaccard ≥ 0.93), and half copies (Jaccard ≈ 0.3, not duplicates).

    Returns the table and the known answer: each copy's id -> its base's id.
    """
    rng = np.random.default_rng(seed)
    vocab = ["".join(rng.choice(list("abcdefghijklmnopqrstuvwxyz"), int(rng.integers(3, 9)))) for _ in range(5000)]
    words = [list(rng.choice(vocab, 150)) for _ in range(bases)]
    docs = [(f"base{b:03d}", " ".join(w), b) for b, w in enumerate(words)]  # (id, text, base it follows)
    for b in range(0, bases, 2):
        edited = list(words[b])
        edited[int(rng.integers(0, 150))] = "changed"
        docs.append((f"copy{b:03d}a", " ".join(edited), b))
        if b % 6 == 0:
            docs.append((f"copy{b:03d}b", ". ".join(w.upper() for w in words[b]), b))
        if b % 8 == 0:
            docs.append((f"half{b:03d}", " ".join(words[b][:75] + list(rng.choice(vocab, 75))), b))
    rows, dups, first = [], {}, {}
    for i in rng.permutation(len(docs)):  # spread over the units; a copy drawn before its base is left out
        doc_id, text, b = docs[i]
        if doc_id.startswith("base"):
            first[b] = doc_id
        elif doc_id.startswith("copy"):
            if b not in first:
                continue
            dups[doc_id] = first[b]
        rows.append((doc_id, text))
    return pa.table({"id": [r[0] for r in rows], "text": [r[1] for r in rows]}), dups


@pytest.mark.parametrize(
    "rows_per_pass,signed_per_pass,split",
    [(12, 3, ("bands", "verify", "cc-0000", "labels")), (250, 5, ("bands", "verify"))],
)
def test_tasks_taken_in_passes_leave_the_same_state(tmp_path, monkeypatch, rows_per_pass, signed_per_pass, split) -> None:
    """Every step over more rows than its pass budget holds one pass at a time: the same state bytes."""
    table, dups = copies_corpus()
    stage = MinhashDedup(MinhashDedupParams(partitions=3))
    summaries = write_summaries(tmp_path / "s", stage, _units(table, 15))

    whole, whole_held = reduce_holding(stage, summaries, tmp_path / "whole", monkeypatch)
    monkeypatch.setattr(minhash_clusters, "ROWS_PER_PASS", rows_per_pass)
    monkeypatch.setattr(minhash_clusters, "SIGNED_PER_PASS", signed_per_pass)
    passed, passed_held = reduce_holding(stage, summaries, tmp_path / "passes", monkeypatch)
    assert state_bytes(passed) == state_bytes(whole) and len(state_bytes(whole)) == len(summaries)
    state = pa.concat_tables([pq.read_table(passed.state_dir / name) for name in state_bytes(passed)])
    assert state.filter(pc.is_valid(state.column("dup_of"))).num_rows == len(dups)
    for shuffle in split:  # every row once, over more receives of fewer rows
        assert sum(passed_held[shuffle]) == sum(whole_held[shuffle]) > 0, shuffle
        assert len(passed_held[shuffle]) > len(whole_held[shuffle]) and max(passed_held[shuffle]) < max(whole_held[shuffle]), shuffle
    assert len(passed_held["pairs"]) > len(whole_held["pairs"])  # verify-send in passes too (a pair may come twice)


RECIPE = """\
name: minhash-passes
input: {{paths: ["{input}"], rows_per_unit: 15}}
stages:
  - stage: minhash_dedup
    params: {{partitions: 3}}
"""


def test_run_in_passes_writes_the_same_bytes(tmp_path, monkeypatch) -> None:
    """A whole run whose reduce tasks take tiny passes drops the known copies, with the same data/, rejected/
    and state bytes as a run in one pass."""
    table, dups = copies_corpus()
    (tmp_path / "in").mkdir()
    pq.write_table(table, tmp_path / "in" / "docs.parquet", row_group_size=15)
    recipe = parse_recipe(RECIPE.format(input=tmp_path / "in" / "docs.parquet"))
    states = committed_states(monkeypatch)
    run_recipe(recipe, str(tmp_path / "whole"), workers=1, quiet=True)
    monkeypatch.setattr(minhash_clusters, "ROWS_PER_PASS", 12)
    monkeypatch.setattr(minhash_clusters, "SIGNED_PER_PASS", 3)
    held = held_rows(monkeypatch)
    run_recipe(recipe, str(tmp_path / "passes"), workers=1, quiet=True)
    assert all(len(held[s]) > 3 for s in ("bands", "verify", "cc-0000", "labels"))  # bands, verify, components and labels in passes
    assert len(states) == 2 and states[0] == states[1]
    for folder in ("data", "rejected"):
        ours = {p.name: p.read_bytes() for p in sorted((tmp_path / "passes" / folder).glob("*.parquet"))}
        assert ours and ours == {p.name: p.read_bytes() for p in sorted((tmp_path / "whole" / folder).glob("*.parquet"))}
    rejected = pa.concat_tables([pq.read_table(p) for p in sorted((tmp_path / "passes" / "rejected").glob("*.parquet"))])
    reasons = dict(zip(rejected.column("id").to_pylist(), rejected.column("drop_reason").to_pylist()))
    assert reasons == {copy: f"minhash_dedup:dup_of={base}" for copy, base in dups.items()}
