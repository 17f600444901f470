"""``exact_dedup``'s partitioned reduce: the same drops and reasons as a one-process reference for any
partition count, unit split and worker count, and a killed reduce that resumes to the same state bytes."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from reduce_helpers import held_rows, kill_then_resume, state_bytes, write_summaries

from curate.engine.pipeline import reduce_step, run_in_memory
from curate.engine.recipe import parse_recipe
from curate.engine.reduce import ReduceJob
from curate.engine.runner import run_recipe
from curate.stages.exact_dedup import ExactDedup, ExactDedupParams
from curate.stages.lib import exact_duplicates as duplicates


def corpus(n: int = 600, seed: int = 0) -> pa.Table:
    """Documents drawn from 150 texts, so most have earlier copies; some copies differ in case and spacing."""
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, 150, n)
    texts = []
    for i, p in enumerate(pick):
        text = f"Text number {p} about topic {p % 13}.  It has two sentences."
        if i % 5 == 1:
            text = "  " + text.upper().replace(" ", "\n ")  # the same text once normalised
        texts.append(text)
    return pa.table({"id": [f"doc-{i}" for i in range(n)], "text": texts})


def reference(table: pa.Table) -> dict[str, str]:
    """id -> id of the first document with the same normalised text, for every later copy (one process)."""
    first: dict[str, str] = {}
    drops = {}
    for doc_id, text in zip(table.column("id").to_pylist(), table.column("text").to_pylist()):
        key = " ".join(text.lower().split())
        if key in first:
            drops[doc_id] = first[key]
        else:
            first[key] = doc_id
    return drops


def _units(table: pa.Table, rows: int) -> list[pa.Table]:
    return [table.slice(i, rows) for i in range(0, table.num_rows, rows)]


def _drops(rejected: pa.Table) -> dict[str, str]:
    reasons = rejected.column("drop_reason").to_pylist()
    assert all(r.startswith("exact_dedup:dup_of=") for r in reasons)
    return dict(zip(rejected.column("id").to_pylist(), (r.removeprefix("exact_dedup:dup_of=") for r in reasons)))


@pytest.mark.parametrize("partitions,rows", [(1, 600), (1, 37), (3, 37), (7, 37), (7, 5), (3, 250)])
def test_first_in_input_order_is_kept_for_any_partition_count_and_split(partitions, rows) -> None:
    table = corpus()
    expected = reference(table)
    assert 300 < len(expected) < 550  # many duplicates, some across units, some only equal once normalised
    stage = ExactDedup(ExactDedupParams(partitions=partitions))
    kept, rejected = run_in_memory([("exact_dedup", stage)], _units(table, rows))
    assert _drops(rejected) == expected
    assert kept.column("id").to_pylist() == [i for i in table.column("id").to_pylist() if i not in expected]
    assert rejected.column("id").to_pylist() == [i for i in table.column("id").to_pylist() if i in expected]


def test_without_normalising_only_identical_texts_are_duplicates() -> None:
    table = corpus()
    _, rejected = run_in_memory([("exact_dedup", ExactDedup(ExactDedupParams(normalize=False, partitions=3)))], _units(table, 50))
    texts = dict(zip(table.column("id").to_pylist(), table.column("text").to_pylist()))
    drops = _drops(rejected)
    assert drops and all(texts[d] == texts[k] for d, k in drops.items())
    assert len(drops) < len(reference(table))


def test_state_bytes_do_not_depend_on_workers_or_partitions(tmp_path) -> None:
    stage = ExactDedup()
    units = _units(corpus(), 40)
    summaries = write_summaries(tmp_path / "s", stage, units)
    states = []
    for workers, partitions in ((1, None), (3, None), (7, None), (2, 5)):
        job = ReduceJob(summaries, tmp_path / f"w{workers}-p{partitions}", workers=workers)
        reduce_step(ExactDedup(ExactDedupParams(partitions=partitions)), job)
        assert len(job.steps_run["first"]) == (partitions or workers)
        states.append(state_bytes(job))
    assert len(states[0]) == len(units) and all(s == states[0] for s in states)
    rows = pa.concat_tables([pq.read_table(tmp_path / "w1-pNone" / "state" / name) for name in states[0]])
    assert rows.column_names == ["_unit", "_row", "dup_of"] and rows.num_rows == len(reference(corpus()))


@pytest.mark.parametrize("rows_per_pass", [7, 50, 130])
def test_tasks_taken_in_passes_leave_the_same_state(tmp_path, monkeypatch, rows_per_pass) -> None:
    """Route, first and state tasks over more than ROWS_PER_PASS rows hold one pass at a time: same state bytes."""
    stage = ExactDedup(ExactDedupParams(partitions=3))
    summaries = write_summaries(tmp_path / "s", stage, _units(corpus(), 40))

    def reduced(name: str) -> tuple[ReduceJob, dict[str, list[int]]]:
        """The reduce, and the rows each receive held, by shuffle (``copies``: first tasks, ``drops``: state tasks)."""
        held = held_rows(monkeypatch)
        job = ReduceJob(summaries, tmp_path / name)
        reduce_step(stage, job)
        return job, held

    dropped = len(reference(corpus()))
    whole, whole_held = reduced("whole")
    assert len(whole_held["copies"]) == 3 and sum(whole_held["copies"]) == 600 and sum(whole_held["drops"]) == dropped
    monkeypatch.setattr(duplicates, "ROWS_PER_PASS", rows_per_pass)
    passed, passed_held = reduced("passes")
    assert state_bytes(passed) == state_bytes(whole)
    for shuffle, rows in (("copies", 600), ("drops", dropped)):  # every row once, over several passes
        assert len(passed_held[shuffle]) > len(whole_held[shuffle]) and sum(passed_held[shuffle]) == rows
        assert max(passed_held[shuffle]) < max(whole_held[shuffle])  # each pass held fewer rows than a whole task


def test_killed_reduce_resumes_to_the_same_state(tmp_path) -> None:
    stage = ExactDedup(ExactDedupParams(partitions=4))
    summaries = write_summaries(tmp_path / "s", stage, _units(corpus(), 40))
    whole = ReduceJob(summaries, tmp_path / "whole")
    reduce_step(stage, whole)
    total = sum(len(records) for records in whole.steps_run.values())
    resumed, done, rerun = kill_then_resume(stage, summaries, tmp_path / "killed", total // 2, resume_workers=3)
    assert rerun == total - done
    assert state_bytes(resumed) == state_bytes(whole)
    assert not resumed.scratch.exists()


RECIPE = """\
name: exact-workers
input: {{paths: ["{input}"], rows_per_unit: 60}}
stages:
  - stage: exact_dedup
    params: {{partitions: {partitions}}}
"""


def test_two_worker_processes_drop_what_the_reference_drops(tmp_path) -> None:
    table = corpus()
    (tmp_path / "in").mkdir()
    pq.write_table(table, tmp_path / "in" / "docs.parquet", row_group_size=60)
    out = tmp_path / "out"
    run_recipe(parse_recipe(RECIPE.format(input=tmp_path / "in" / "docs.parquet", partitions=3)), str(out), workers=2, quiet=True)
    rejected = pa.concat_tables([pq.read_table(p) for p in sorted((out / "rejected").glob("*.parquet"))])
    assert _drops(rejected) == reference(table)
