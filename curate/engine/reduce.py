"""Where a global stage's reduce runs: on the driver over one LazyFrame, or as resumable parallel tasks.

A small reduce (a stage's own, or a third-party one) reads every unit's summary as a polars LazyFrame on
the driver. A reduce that grows with the corpus (exact and MinHash dedup, paragraph counts, percentiles) is
instead a series of **steps**, each a list of independent tasks that the run's
executor spreads over its workers (Ray tasks on a cluster, worker processes locally). Tasks talk through
files under :attr:`ReduceJob.scratch`, usually hash-partitioned shuffles (:mod:`curate.engine.shuffle`), and
return only small JSON results to the driver. :class:`ShufflePlan` and :func:`plan_shuffle` size such a
reduce: ``P`` partitions and as many groups of consecutive units, fixed on first use.

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

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from curate.io.checksums import digests, seal
from curate.io.names import numbered
from curate.io.shards import read_record, write_json, write_parquet

#: Runs ``fn(item)`` for every item on the executor's workers; yields ``(index, result)`` as tasks end.
TaskRunner = Callable[[Callable[[Any], Any], Sequence[Any]], Iterator[tuple[int, Any]]]

STATE_DIR = "state"  # in a phase's folder: the committed state
STATE_FILE = "state.parquet"
REDUCE_INFO = "reduce.json"  # in the state folder: how the reduce ran


def unit_state_name(unit: int, units: int) -> str:
    """The state file of ``unit`` in a run of ``units`` units (width: :mod:`curate.io.names`)."""
    return f"unit-{numbered(unit, units)}.parquet"


def node_of(unit: int, rows: np.ndarray) -> np.ndarray:
    """Input positions ``unit << 32 | row`` (int64) of a unit's rows: smaller is earlier in input order."""
    return (np.int64(unit) << np.int64(32)) | np.asarray(rows).astype(np.int64)


@dataclass(frozen=True)
class ShufflePlan:
    """What every task of a partitioned reduce needs: its inputs, unit groups and partitions. Picklable.

    A *group* is a contiguous run of work units whose summaries (and state files) one task handles; a
    *partition* is the set of keys ``key mod partitions`` that one task owns. Stages extend this with their
    own decision parameters (a frozen dataclass subclass).
    """

    summaries: tuple[str, ...]
    groups: tuple[tuple[int, int], ...]  # [first unit, end unit) of each group
    partitions: int
    scratch: str
    state: str  # the job's staging folder: one state file per unit goes here

    def group_of(self, nodes: np.ndarray) -> np.ndarray:
        """The group whose units hold each node (see :func:`node_of`)."""
        ends = np.array([end for _, end in self.groups], dtype=np.int64)
        return np.searchsorted(ends, nodes >> 32, side="right")

    def units(self, group: int) -> range:
        return range(*self.groups[group])

    def path(self, name: str) -> Path:
        return Path(self.scratch) / name


def plan_shuffle(job: ReduceJob, name: str, rows_per_partition: int, partitions: int | None) -> dict:
    """The :class:`ShufflePlan` fields of ``job``, as keyword arguments; fixed on first use (``reduce/<name>.json``).

    Partitions: ``partitions`` if given, else one per ``rows_per_partition`` summary rows, rounded up to a
    multiple of the workers (3 equal tasks on 2 workers take as long as 4); as many unit groups (fewer when
    there are fewer units). The driver reads Parquet footers only.
    """

    def make() -> dict:
        rows = sum(pq.ParquetFile(s).metadata.num_rows for s in job.summaries)
        workers = max(job.workers, 1)
        count = partitions or workers * max(1, -(-rows // (rows_per_partition * workers)))
        split = np.array_split(np.arange(len(job.summaries)), min(count, len(job.summaries))) if job.summaries else []
        return {"partitions": count, "groups": [[int(g[0]), int(g[-1]) + 1] for g in split if len(g)]}

    fixed = job.remember(name, make)
    return {
        "summaries": tuple(job.summaries),
        "groups": tuple(tuple(g) for g in fixed["groups"]),
        "partitions": fixed["partitions"],
        "scratch": str(job.scratch),
        "state": str(job.staging),
    }


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

        from curate.engine.progress import Progress

        done_dir = self.scratch / "steps" / name
        records: list[dict | None] = [None] * len(items)
        for i in range(len(items)):
            record = read_record(done_dir / f"{i:05d}.json")  # {} when missing or torn: the task runs again
            if "result" in record:
                records[i] = record
        todo = [i for i, r in enumerate(records) if r is None]
        bar = Progress(f"{self.label}: {name}", len(items), len(items) - len(todo), unit="tasks", quiet=self.quiet, docs=False)
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
