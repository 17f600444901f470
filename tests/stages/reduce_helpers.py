"""Shared by the parallel-reduce tests (dedup, buckets): write unit summaries, kill a reduce part-way and resume it."""

from __future__ import annotations

from pathlib import Path

import pytest

from curate.engine import passes, shuffle
from curate.engine.pipeline import reduce_step, summarize_unit
from curate.engine.reduce import ReduceJob
from curate.io.shards import write_parquet


def write_summaries(folder: Path, stage, units: list) -> list[str]:
    """Each unit's summary as the pipeline writes it, ``unit-NNNNN.parquet`` in ``folder``; their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, unit in enumerate(units):
        paths.append(str(folder / f"unit-{i:05d}.parquet"))
        write_parquet(summarize_unit(stage, unit, i), Path(paths[-1]), "none")
    return paths


def state_bytes(job: ReduceJob) -> dict[str, bytes]:
    """The bytes of every per-unit state file of a finished reduce, by name."""
    return {p.name: p.read_bytes() for p in sorted(job.state_dir.glob("unit-*.parquet"))}


def kill_then_resume(stage, summaries: list[str], folder: Path, kill_after: int, *, workers: int = 1, resume_workers: int | None = None) -> tuple[ReduceJob, int, int]:
    """Run ``stage``'s reduce into ``folder``, interrupt it after ``kill_after`` tasks, then run it again.

    Returns the resumed job, the tasks the killed attempt finished, and the tasks the resume ran; a resume
    that redoes nothing finished runs exactly the tasks the kill left.
    """
    ran: list[int] = []

    def crashing(fn, items):
        for i, item in enumerate(items):
            if len(ran) == kill_after:
                raise KeyboardInterrupt("killed")
            ran.append(i)
            yield i, fn(item)

    killed = ReduceJob(summaries, folder, workers=workers, run_tasks=crashing)
    with pytest.raises(KeyboardInterrupt):
        reduce_step(stage, killed)
    assert not killed.state_dir.exists()
    done, ran[:] = len(ran), []

    def counting(fn, items):
        for i, item in enumerate(items):
            ran.append(i)
            yield i, fn(item)

    resumed = ReduceJob(summaries, folder, workers=resume_workers or workers, run_tasks=counting)  # the plan is kept
    reduce_step(stage, resumed)
    return resumed, done, len(ran)


def committed_states(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, bytes]]:
    """The state bytes of every reduce committed from now on, in order (a run deletes its ``_work`` folder)."""
    states: list[dict[str, bytes]] = []
    commit = ReduceJob.commit

    def recording(job: ReduceJob) -> None:
        commit(job)
        states.append(state_bytes(job))

    monkeypatch.setattr(ReduceJob, "commit", recording)
    return states


def held_rows(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[int]]:
    """Rows of every receive a reduce task makes from now on (through :mod:`curate.engine.passes`), by shuffle
    (the folder's name); a later call starts a new record."""
    held: dict[str, list[int]] = {}

    def recording(root, *args):
        table = shuffle.receive(root, *args)
        held.setdefault(root.name, []).append(table.num_rows)
        return table

    monkeypatch.setattr(passes, "receive", recording)
    return held


def reduce_holding(stage, summaries: list[str], folder: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[ReduceJob, dict[str, list[int]]]:
    """Run ``stage``'s reduce over ``summaries`` in ``folder``: the job, and the rows of its every receive."""
    held = held_rows(monkeypatch)
    job = ReduceJob(summaries, folder)
    reduce_step(stage, job)
    return job, held
