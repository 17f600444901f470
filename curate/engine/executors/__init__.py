"""Executors run (phase, unit) jobs on workers and hand back each unit's committed stats as it finishes.

Both keep one :class:`~curate.engine.worker.Worker` per worker process or actor, so models load once per worker,
and both produce the same bytes: every unit writes its own files, whatever finishes first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol

from curate.engine.recipe import Recipe
from curate.io.readers import WorkUnit


class Executor(Protocol):
    def map(self, phase: int, units: list[WorkUnit]) -> Iterator[tuple[WorkUnit, dict]]:
        """Run ``phase`` on every unit; yield (unit, stats) in completion order."""
        ...

    def run_tasks(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> Iterator[tuple[int, Any]]:
        """Run ``fn(item)`` for every item (a parallel reduce's tasks); yield (index, result) as they end."""
        ...

    def close(self) -> None: ...


def make_executor(recipe: Recipe, out: str, kind: str, workers: int, ray_address: str | None) -> Executor:
    """The executor the recipe (or the command line) asks for."""
    if kind == "ray":
        from curate.engine.executors.ray import RayExecutor

        return RayExecutor(recipe, out, workers, ray_address)
    from curate.engine.executors.local import LocalExecutor

    return LocalExecutor(recipe, out, workers)


def make_task_executor(kind: str, workers: int, ray_address: str | None) -> Executor:
    """An executor that only runs tasks (:meth:`Executor.run_tasks`), for commands without a recipe."""
    if kind == "ray" or ray_address:
        from curate.engine.executors.ray import RayExecutor

        return RayExecutor(None, "", workers, ray_address)
    from curate.engine.executors.local import LocalExecutor

    return LocalExecutor(None, "", workers)
