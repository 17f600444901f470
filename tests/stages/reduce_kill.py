"""Kill a parallel reduce part-way, resume it, and count what the resume ran (shared by the dedup and bucket tests)."""

from __future__ import annotations

from pathlib import Path

import pytest

from curate.engine.pipeline import reduce_step
from curate.engine.reduce import ReduceJob


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
