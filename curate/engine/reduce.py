"""Where a global stage's reduce runs: on the driver over one LazyFrame, or as resumable parallel tasks.

Most reduces are small (percentile boundaries, one hash per document) and read every unit's summary as a
polars LazyFrame on the driver. A reduce that would not fit in one process (MinHash clustering of a
billion documents) is instead a series of **steps**, each a list of independent tasks that the run's
executor spreads over its workers (Ray tasks on a cluster, worker processes locally). Tasks talk through
files under :attr:`ReduceJob.scratch`, usually hash-partitioned shuffles (:mod:`curate.engine.shuffle`), and
return only small JSON results to the driver.

Resuming: a task's result is written to ``steps/<step>/<task>.json`` when it finishes, after its files,
so a killed reduce re-runs only the tasks without a result. Tasks must therefore be idempotent (atomic,
deterministic writes), as work units are.

The state a reduce leaves is a folder: ``state.parquet`` (the whole state, read with
:meth:`~curate.core.stage.GlobalState.table`) or one ``unit-NNNNN.parquet`` per work unit (large per-document
states, which :meth:`~curate.core.stage.GlobalState.for_unit` reads without touching the others). It is written
under ``state.staging/`` and renamed into place by :meth:`ReduceJob.commit`, so a state folder is whole;
its ``reduce.json`` names the checksum of every state file, so a resume can tell a corrupt state and
reduce again (:mod:`curate.engine.integrity`).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa

from curate.io.checksums import digests, seal
from curate.io.shards import read_record, write_json, write_parquet

#: Runs ``fn(item)`` for every item on the executor's workers; yields ``(index, result)`` as tasks end.
TaskRunner = Callable[[Callable[[Any], Any], Sequence[Any]], Iterator[tuple[int, Any]]]

STATE_DIR = "state"  # in a phase's folder: the committed state
STATE_FILE = "state.parquet"
REDUCE_INFO = "reduce.json"  # in the state folder: how the reduce ran


def unit_state_name(unit: int) -> str:
    return f"unit-{unit:05d}.parquet"


def run_inline(fn: Callable[[Any], Any], items: Sequence[Any]) -> Iterator[tuple[int, Any]]:
    """The task runner of a one-worker run: every task in this process, in order."""
    for i, item in enumerate(items):
        yield i, fn(item)


def timed_task(fn: Callable[[Any], Any], item: Any) -> dict:
    """Run one task and say where and how long: results record which process (and Ray node) did the work."""
    start = time.perf_counter()
    result = fn(item)
    node = None
    if "ray" in sys.modules:
        import ray

        if ray.is_initialized():
            node = ray.get_runtime_context().get_node_id()
    return {"result": result, "pid": os.getpid(), "node": node, "seconds": round(time.perf_counter() - start, 4)}


@dataclass
class ReduceJob:
    """One global stage's reduce: its inputs, its scratch folder, and the workers to run tasks on."""

    summaries: list[str]
    folder: Path
    workers: int = 1
    run_tasks: TaskRunner = run_inline
    quiet: bool = True
    label: str = "reduce"
    steps_run: dict[str, list[dict]] = field(default_factory=dict)

    @property
    def scratch(self) -> Path:
        """Intermediate files of the reduce's steps: kept across a resume, deleted once the state is committed."""
        return self.folder / "reduce"

    @property
    def state_dir(self) -> Path:
        return self.folder / STATE_DIR

    @property
    def staging(self) -> Path:
        """Where the state is written before :meth:`commit` renames it into place."""
        return self.folder / "state.staging"  # not *.tmp: that suffix marks half-written files to delete

    def scan(self) -> pl.LazyFrame:
        """Every unit's summary, in unit order (``_unit``, ``_row`` give input order)."""
        return pl.scan_parquet(self.summaries) if self.summaries else pl.LazyFrame()

    def write_state(self, table: pa.Table) -> None:
        """The whole state as one table (small states)."""
        write_parquet(table, self.staging / STATE_FILE, "zstd", 1)

    def remember(self, name: str, make: Callable[[], dict]) -> dict:
        """A JSON plan made once per reduce and reused on resume (so partition counts never change midway)."""
        path = self.scratch / f"{name}.json"
        if path.exists():
            return json.loads(path.read_text(encoding="utf-8"))
        plan = make()
        write_json(plan, path)
        return plan

    def step(self, name: str, fn: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
        """Run ``fn`` over ``items`` as parallel tasks and return their results in item order.

        Tasks that finished in an earlier, killed attempt are not run again; their recorded results are
        returned. ``fn`` must be picklable (a module-level function or a ``functools.partial`` of one).
        """
        from functools import partial

        from tqdm import tqdm

        done_dir = self.scratch / "steps" / name
        records: list[dict | None] = [None] * len(items)
        for i in range(len(items)):
            record = read_record(done_dir / f"{i:05d}.json")  # {} when missing or torn: the task runs again
            if "result" in record:
                records[i] = record
        todo = [i for i, r in enumerate(records) if r is None]
        bar = tqdm(total=len(items), initial=len(items) - len(todo), desc=f"{self.label}: {name}", unit="task", disable=self.quiet or len(items) < 2)
        for k, record in self.run_tasks(partial(timed_task, fn), [items[i] for i in todo]):
            i = todo[k]
            write_json(record, done_dir / f"{i:05d}.json")
            records[i] = record
            bar.update(1)
        bar.close()
        self.steps_run[name] = records  # type: ignore[assignment]
        return [r["result"] for r in records]  # type: ignore[index]

    def summary(self) -> dict:
        """Per step: tasks, task-seconds, and how many processes and Ray nodes ran them (for the manifest)."""
        out = {}
        for name, records in self.steps_run.items():
            out[name] = {
                "tasks": len(records),
                "seconds": round(sum(r["seconds"] for r in records), 3),
                "processes": len({r["pid"] for r in records}),
                "nodes": len({r["node"] for r in records if r["node"]}),
            }
        return out

    def commit(self) -> None:
        """Move the finished state into place; the state folder's existence marks the reduce done."""
        if not self.staging.exists():
            raise RuntimeError(f"{self.label} wrote no state under {self.staging}")
        files = sorted(p for p in self.staging.rglob("*") if p.is_file())
        write_json(seal({"steps": self.summary(), "files": digests(self.staging, files)}), self.staging / REDUCE_INFO)
        shutil.rmtree(self.state_dir, ignore_errors=True)
        os.replace(self.staging, self.state_dir)
        shutil.rmtree(self.scratch, ignore_errors=True)
