"""Ray executor: a pool of actors per phase, sized and placed by the stages' declared resources.

Without an address a local Ray is started for the run and stopped after; with ``--ray-address auto`` or
``HOST:PORT`` the run joins that cluster. When an actor dies (its worker process killed, or its whole node
lost) the unit it was running goes to another actor of the pool (units are idempotent: atomic,
deterministic writes), and a replacement actor is made only where the cluster has room for it now: an
actor waiting for a lost node's CPUs would hold its unit forever. A killed worker or a lost node costs
time, not data.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from curate.engine.recipe import Recipe
from curate.engine.worker import Worker
from curate.io.readers import WorkUnit

# Ray rewrites 127.0.0.1 to the host's network address; another loopback address keeps a laptop run's
# ports on loopback. Only Linux routes all of 127.0.0.0/8 to loopback.
LOCAL_NODE_IP = "127.0.0.2" if sys.platform.startswith("linux") else None


def _loopback_host(address: str) -> str | None:
    """A driver joining a cluster through a loopback address must talk to it over loopback too."""
    host = address.rsplit(":", 1)[0]
    return host if host.startswith("127.") else None


def _call(fn: Callable[[Any], Any], item: Any) -> Any:
    return fn(item)


class _UnitActor:
    def __init__(self, recipe: Recipe, out: str) -> None:
        self.worker = Worker(recipe, out)

    def run(self, phase: int, unit: WorkUnit) -> tuple[int, dict]:
        return unit.index, self.worker.run(phase, unit)


class RayExecutor:
    def __init__(self, recipe: Recipe | None, out: str, workers: int, address: str | None) -> None:
        import ray

        self.recipe, self.out, self.workers = recipe, out, workers
        self._owns_ray = not ray.is_initialized()
        if self._owns_ray:
            if address:
                ray.init(address=address, log_to_driver=False, _node_ip_address=_loopback_host(address))
            else:
                # address="local": never join some other cluster that happens to run on this machine
                ray.init(
                    address="local",
                    num_cpus=max(workers, 1),
                    include_dashboard=False,
                    log_to_driver=False,
                    _node_ip_address=LOCAL_NODE_IP,
                )
        # no restarts in place: a dead actor's unit is handed to a live one by map() (see the module docstring)
        self._actor_cls = ray.remote(max_restarts=0, max_task_retries=0)(_UnitActor)
        # for the phases' declared resources only; None: an executor for run_tasks only (curate mix)
        self._worker = Worker(recipe, out) if recipe is not None else None
        self._pools: dict[str, list] = {}

    def _options(self, phase: int) -> dict:
        stages = [s for _, s in self._worker.phases[phase].steps()]
        summarize = self._worker.phases[phase].summarize
        if summarize:
            stages.append(summarize[1])
        res = [s.resources for s in stages]
        opts: dict = {"num_cpus": max([r.cpus for r in res], default=1.0)}
        gpus = max([r.gpus for r in res], default=0.0)
        if gpus:
            opts["num_gpus"] = gpus
        memory = max([r.memory_gb for r in res], default=0.0)
        if memory:
            opts["memory"] = int(memory * 1024**3)
        return opts

    def _pool_size(self, phase: int, units: int) -> int:
        caps = [s.resources.concurrency for _, s in self._worker.phases[phase].steps() if s.resources.concurrency]
        return max(1, min([self.workers, units] + caps))

    def _room_for(self, opts: dict) -> bool:
        """Whether the cluster has the resources for one more such actor now (not after a lost node returns)."""
        import ray

        free = ray.available_resources()
        return free.get("CPU", 0.0) >= opts["num_cpus"] and free.get("GPU", 0.0) >= opts.get("num_gpus", 0.0)

    def _actors(self, phase: int, units: int) -> list:
        """Actors for a phase; phases with the same resource needs share them (models stay loaded).

        The first pool is made whole; later top-ups (after actors died) only where the cluster has room.
        """
        opts = self._options(phase)
        pool = self._pools.setdefault(repr(sorted(opts.items())), [])
        fresh = not pool
        while len(pool) < self._pool_size(phase, units) and (fresh or not pool or self._room_for(opts)):
            pool.append(self._actor_cls.options(**opts).remote(self.recipe, self.out))
        return pool[: self._pool_size(phase, units)]

    def map(self, phase: int, units: list[WorkUnit]) -> Iterator[tuple[WorkUnit, dict]]:
        import ray
        from ray.exceptions import RayActorError

        if not units:
            return
        opts = self._options(phase)
        pool = self._pools.setdefault(repr(sorted(opts.items())), [])
        idle, queue, running = list(self._actors(phase, len(units))), list(reversed(units)), {}
        while queue or running:
            while queue and idle:
                actor, unit = idle.pop(), queue.pop()
                running[actor.run.remote(phase, unit)] = (actor, unit)
            [ref], _ = ray.wait(list(running), num_returns=1)
            actor, unit = running.pop(ref)
            try:
                _, stats = ray.get(ref)
            except RayActorError:  # its process or node died: the unit goes back to the queue
                pool.remove(actor)
                queue.append(unit)
                if not pool or self._room_for(opts):
                    pool.append(self._actor_cls.options(**opts).remote(self.recipe, self.out))
                    idle.append(pool[-1])
                continue
            idle.append(actor)
            yield unit, stats

    def run_tasks(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> Iterator[tuple[int, Any]]:
        """A parallel reduce's tasks as Ray tasks spread over the cluster, at most ``workers`` at a time.

        They ask for no CPU: the phase's actors still hold theirs (models stay loaded for the next phase)
        but sit idle while the driver reduces, so the in-flight cap is what bounds the load. Tasks that
        die with their worker are retried (they are idempotent).
        """
        import ray

        remote = ray.remote(num_cpus=0, max_retries=3, scheduling_strategy="SPREAD")(_call)
        fn_ref = ray.put(fn)
        pending: dict = {}
        queue = iter(enumerate(items))
        limit = max(self.workers, 1)
        while True:
            while len(pending) < limit and (nxt := next(queue, None)) is not None:
                pending[remote.remote(fn_ref, nxt[1])] = nxt[0]
            if not pending:
                return
            done, _ = ray.wait(list(pending), num_returns=1)
            for ref in done:
                yield pending.pop(ref), ray.get(ref)

    def close(self) -> None:
        import ray

        for actor in (a for pool in self._pools.values() for a in pool):
            ray.kill(actor)
        self._pools.clear()
        if self._owns_ray:
            ray.shutdown()
