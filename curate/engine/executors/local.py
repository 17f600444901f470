"""Local executor: in this process (one worker) or a pool of worker processes (``--workers N``)."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import (
    FIRST_COMPLETED,
    Future,
    ProcessPoolExecutor,
    as_completed,
    wait,
)
from typing import Any

from curate.engine.recipe import Recipe
from curate.engine.reduce import run_inline
from curate.engine.worker import Worker
from curate.io.readers import WorkUnit

_process_worker: Worker | None = None  # one per pool process, built by _start


def _start(recipe: Recipe, out: str) -> None:
    global _process_worker
    _process_worker = Worker(recipe, out)


def _run(phase: int, unit: WorkUnit) -> dict:
    assert _process_worker is not None
    return _process_worker.run(phase, unit)


class LocalExecutor:
    def __init__(self, recipe: Recipe | None, out: str, workers: int = 1) -> None:
        """``recipe=None``: an executor for :meth:`run_tasks` only (``curate mix``), with no stage workers."""
        self.workers = workers
        self._inline = Worker(recipe, out) if workers == 1 and recipe is not None else None
        start = {"initializer": _start, "initargs": (recipe, out)} if recipe is not None else {}
        self._pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"), **start) if workers > 1 else None

    def map(self, phase: int, units: list[WorkUnit]) -> Iterator[tuple[WorkUnit, dict]]:
        if self._inline is not None:
            for unit in units:
                yield unit, self._inline.run(phase, unit)
            return
        assert self._pool is not None
        # a few units in flight per worker, not all of them: waiting on every pending future after each
        # completion costs the driver O(units) per unit, which dominates a run of many small units
        queue = iter(units)
        pending: dict[Future, WorkUnit] = {}
        while True:
            while len(pending) < 2 * self.workers and (unit := next(queue, None)) is not None:
                pending[self._pool.submit(_run, phase, unit)] = unit
            if not pending:
                return
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                yield pending.pop(fut), fut.result()

    def run_tasks(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> Iterator[tuple[int, Any]]:
        """A parallel reduce's tasks: in this process for one worker, else on the same worker processes."""
        if self._pool is None:
            yield from run_inline(fn, items)
            return
        futures = {self._pool.submit(fn, item): i for i, item in enumerate(items)}
        for fut in as_completed(futures):
            yield futures[fut], fut.result()

    def close(self) -> None:
        if self._inline is not None:
            self._inline.close()
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
