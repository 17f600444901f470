"""How stages run over one work unit: batching, verdicts, rejected rows, per-step statistics.

A recipe's stages are cut into **phases** at each global stage. Phase k applies the global stage that ended
phase k-1 (if any), runs its map stages, then either summarises the unit for the next global stage (and
stages the kept rows under ``_work/``) or, in the last phase, writes ``data/`` and ``rejected/``. The same
functions serve every executor and :func:`run_in_memory`, so there is one way a batch is processed.
"""

from __future__ import annotations

import tempfile
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate.core.schema import (
    DROP_REASON,
    DROP_STAGE,
    ID,
    ROW,
    UNIT,
    reasons_array,
    text_lengths,
)
from curate.core.stage import ExpandStage, GlobalStage, GlobalState, MapStage, Stage
from curate.engine.reduce import ReduceJob, unit_state_name
from curate.io.shards import write_parquet

Step = tuple[str, Stage]

#: Distinct drop reasons a step's statistics count one by one. Past that many, every reason that carries a
#: per-document detail after ``=`` (``exact_dedup:dup_of=<id>``) is counted by its kind
#: (``exact_dedup:dup_of=*``): otherwise the stats a worker commits per unit, and the sum the driver makes
#: of them, would grow with the documents dropped (a 10M-document run once held 3M ids on the driver).
#: The outcome depends only on how many distinct reasons the whole run had, not on the order of adding.
DISTINCT_REASONS = 1000
FOLDED = "=*"


@dataclass
class StepStats:
    """Counts for one step on one unit; merged by addition across units and workers."""

    docs_in: int = 0
    kept: int = 0
    dropped: int = 0
    chars_in: int = 0
    chars_kept: int = 0
    chars_dropped: int = 0  # characters of the dropped documents; chars_in - chars_kept - chars_dropped were cut from kept ones
    seconds: float = 0.0
    outputs: int | None = None  # expand steps only: new documents made (kept + dropped)
    reasons: Counter = field(default_factory=Counter)
    counters: Counter = field(default_factory=Counter)  # what the stage reported doing (Verdict.counters)
    _folded: bool = field(default=False, repr=False, compare=False)  # reasons counted by kind (see DISTINCT_REASONS)

    def add(self, other: StepStats) -> None:
        if other.outputs is not None:
            self.outputs = (self.outputs or 0) + other.outputs
        for name in ("docs_in", "kept", "dropped", "chars_in", "chars_kept", "chars_dropped", "seconds"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.count_reasons(other.reasons)
        self.counters.update(other.counters)

    def count_reasons(self, reasons: Iterable[str] | Counter) -> None:
        """Add reasons (or a Counter of them), folding details into kinds past :data:`DISTINCT_REASONS`."""
        if not isinstance(reasons, Counter):
            reasons = Counter(reasons)
        was_folded = self._folded or any(r.endswith(FOLDED) for r in reasons)
        self.reasons.update(reasons)
        if was_folded or len(self.reasons) > DISTINCT_REASONS:
            folded: Counter = Counter()
            for reason, n in self.reasons.items():
                folded[reason.split("=", 1)[0] + FOLDED if "=" in reason else reason] += n
            self.reasons = folded
            self._folded = True

    def to_json(self) -> dict:
        extra = {"outputs": self.outputs} if self.outputs is not None else {}
        counted = {"counters": dict(sorted(self.counters.items()))} if self.counters else {}
        return {
            **extra,
            "docs_in": self.docs_in,
            "kept": self.kept,
            "dropped": self.dropped,
            "chars_in": self.chars_in,
            "chars_kept": self.chars_kept,
            "chars_dropped": self.chars_dropped,
            "seconds": round(self.seconds, 4),
            "reasons": dict(self.reasons.most_common()),
            **counted,
        }

    @classmethod
    def from_json(cls, data: dict) -> StepStats:
        stats = cls(**{**data, "reasons": Counter(), "counters": Counter(data.get("counters", {}))})
        stats.count_reasons(Counter(data.get("reasons", {})))
        return stats


@dataclass
class Phase:
    """Map stages between two global stages, with the global stage applied first and the one summarised last."""

    index: int
    apply: tuple[str, GlobalStage] | None
    maps: list[tuple[str, MapStage]]
    summarize: tuple[str, GlobalStage] | None

    @property
    def is_last(self) -> bool:
        return self.summarize is None

    def steps(self) -> list[Step]:
        return ([self.apply] if self.apply else []) + list(self.maps)


def plan_phases(steps: list[Step]) -> list[Phase]:
    """Cut the steps at every global stage."""
    phases: list[Phase] = []
    pending: tuple[str, GlobalStage] | None = None
    maps: list[tuple[str, MapStage]] = []
    for name, stage in steps:
        if isinstance(stage, GlobalStage):
            phases.append(Phase(len(phases), pending, maps, (name, stage)))
            pending, maps = (name, stage), []
        elif isinstance(stage, MapStage):
            maps.append((name, stage))
        else:
            raise TypeError(f"step {name!r}: {type(stage).__name__} is neither a MapStage nor a GlobalStage")
    phases.append(Phase(len(phases), pending, maps, None))
    return phases


def _split(table: pa.Table, keep: np.ndarray, reasons: object, step: str, stage: Stage) -> tuple[pa.Table, pa.Table]:
    mask = pa.array(keep)
    dropped = table.filter(pc.invert(mask))
    why = reasons_array(reasons, keep, stage.name)
    dropped = dropped.append_column(DROP_STAGE, pa.array([step] * dropped.num_rows, pa.string()))
    return table.filter(mask), dropped.append_column(DROP_REASON, why)


def _checked(step: str, stage: Stage, before: pa.Table, after: pa.Table) -> None:
    if isinstance(stage, ExpandStage):
        if after.column(ID).null_count:
            raise RuntimeError(f"step {step!r} made documents without an id")
        return
    if after.num_rows != before.num_rows:
        raise RuntimeError(f"step {step!r} returned {after.num_rows} rows for a batch of {before.num_rows}")
    if not after.column(ID).equals(before.column(ID)):
        raise RuntimeError(f"step {step!r} changed the `id` column; stages must keep ids and row order")


def run_map_step(step: str, stage: MapStage, table: pa.Table, stats: StepStats) -> tuple[pa.Table, pa.Table | None]:
    """Run one map stage over a unit in batches of its ``batch_size``: (kept, dropped rows or None)."""
    start = time.perf_counter()
    stats.docs_in += table.num_rows
    stats.chars_in += text_lengths(table)
    kept_parts, dropped_parts = [], []
    size = stage.resources.batch_size
    # an expand stage sees even an empty unit, so its (different) output schema is known
    rows = max(table.num_rows, 1) if isinstance(stage, ExpandStage) else table.num_rows
    for offset in range(0, rows, size):
        batch = table.slice(offset, size)
        verdict = stage.process(batch)
        _checked(step, stage, batch, verdict.table)
        stats.counters.update(verdict.counters or {})
        if verdict.keep is None:
            kept_parts.append(verdict.table)
            continue
        keep = np.asarray(verdict.keep, dtype=bool)
        kept, dropped = _split(verdict.table, keep, verdict.reasons, step, stage)
        kept_parts.append(kept)
        dropped_parts.append(dropped)
        stats.count_reasons(dropped.column(DROP_REASON).to_pylist())
    kept = _concat(kept_parts) if kept_parts else _empty_like(stage, table)
    dropped = _concat(dropped_parts) if dropped_parts else None
    if isinstance(stage, ExpandStage):
        stats.outputs = (stats.outputs or 0) + kept.num_rows + (dropped.num_rows if dropped is not None else 0)
    return _counted(stats, kept, dropped, start)


def _counted(stats: StepStats, kept: pa.Table, dropped: pa.Table | None, start: float) -> tuple[pa.Table, pa.Table | None]:
    """Add a step's kept and dropped rows, their characters and its time to ``stats``; pass the tables on."""
    stats.kept += kept.num_rows
    stats.dropped += dropped.num_rows if dropped is not None else 0
    stats.chars_kept += text_lengths(kept)
    stats.chars_dropped += text_lengths(dropped) if dropped is not None else 0
    stats.seconds += time.perf_counter() - start
    return kept, dropped


def _empty_like(stage: Stage, table: pa.Table) -> pa.Table:
    """A zero-row result with the columns the stage would have added, so schemas stay stable."""
    out = table
    for name, dtype in stage.columns_added().items():
        if name not in out.column_names:
            out = out.append_column(name, pa.array([], dtype))
    return out


def run_global_apply(
    step: str, stage: GlobalStage, table: pa.Table, state: GlobalState, stats: StepStats
) -> tuple[pa.Table, pa.Table | None]:
    """Apply a reduced global stage to one whole unit."""
    start = time.perf_counter()
    stats.docs_in += table.num_rows
    stats.chars_in += text_lengths(table)
    verdict = stage.apply(table, state)
    _checked(step, stage, table, verdict.table)
    stats.counters.update(verdict.counters or {})
    dropped = None
    kept = verdict.table
    if verdict.keep is not None:
        kept, dropped = _split(verdict.table, np.asarray(verdict.keep, dtype=bool), verdict.reasons, step, stage)
        stats.count_reasons(dropped.column(DROP_REASON).to_pylist())
    return _counted(stats, kept, dropped, start)


def summarize_unit(stage: GlobalStage, table: pa.Table, unit: int) -> pa.Table:
    """The stage's summary of one unit, with ``_unit`` and ``_row`` so the reduce knows input order."""
    summary = stage.summarize(table)
    if summary.num_rows != table.num_rows and ROW not in summary.column_names:
        raise RuntimeError(f"{stage.name}.summarize returned {summary.num_rows} rows for {table.num_rows}")
    if ROW not in summary.column_names:
        summary = summary.append_column(ROW, pa.array(np.arange(summary.num_rows, dtype=np.int64)))
    return summary.append_column(UNIT, pa.array(np.full(summary.num_rows, unit, dtype=np.int64)))


def run_phase(
    phase: Phase, table: pa.Table, state: GlobalState | None, stats: dict[str, StepStats]
) -> tuple[pa.Table, list[pa.Table]]:
    """Run a phase's steps over one unit: (kept table, dropped tables in step order)."""
    rejected: list[pa.Table] = []
    if phase.apply is not None:
        name, stage = phase.apply
        table, dropped = run_global_apply(name, stage, table, state, stats.setdefault(name, StepStats()))
        if dropped is not None:
            rejected.append(dropped)
    table, dropped = run_map_steps(phase.maps, table, stats)
    return table, rejected + dropped


def run_map_steps(steps: list[tuple[str, MapStage]], table: pa.Table, stats: dict[str, StepStats]) -> tuple[pa.Table, list[pa.Table]]:
    """Run map steps over one unit: (kept table, dropped tables in step order).

    Consecutive :attr:`~curate.core.stage.Stage.row_wise` steps run batch by batch (one batch through all of
    them, then the next), so the next step reads text the previous one has just analysed; the rows kept and
    dropped, and their order, are those of running each step over the whole unit in turn.
    """
    rejected: list[pa.Table] = []
    i = 0
    while i < len(steps):
        end = i + 1
        while end < len(steps) and steps[i][1].row_wise and steps[end][1].row_wise:
            end += 1
        if end - i > 1 and table.num_rows:
            table, dropped = _run_batch_by_batch(steps[i:end], table, stats)
            rejected.extend(dropped)
        else:
            for name, stage in steps[i:end]:
                table, one = run_map_step(name, stage, table, stats.setdefault(name, StepStats()))
                rejected.extend([one] if one is not None else [])
        i = end
    return table, rejected


def _run_batch_by_batch(steps: list[tuple[str, MapStage]], table: pa.Table, stats: dict[str, StepStats]) -> tuple[pa.Table, list[pa.Table]]:
    size = min(stage.resources.batch_size for _, stage in steps)  # each step sees one batch per slice
    kept: list[pa.Table] = []
    dropped: dict[str, list[pa.Table]] = {name: [] for name, _ in steps}
    for offset in range(0, table.num_rows, size):
        part = table.slice(offset, size)
        for name, stage in steps:
            part, one = run_map_step(name, stage, part, stats.setdefault(name, StepStats()))
            dropped[name].extend([one] if one is not None else [])
        kept.append(part)
    return _concat(kept), [_concat(parts) for parts in dropped.values() if parts]


def reduce_step(stage: GlobalStage, job: ReduceJob) -> None:
    """Run a global stage's reduce over the job's summaries and commit its state folder."""
    stage.reduce_job(job)
    job.commit()


def _concat(tables: list[pa.Table]) -> pa.Table:
    return pa.concat_tables(tables, promote_options="permissive") if len(tables) > 1 else tables[0]


def concat_rejected(tables: list[pa.Table]) -> pa.Table | None:
    """All dropped rows of a unit in one table, columns in first-seen order, drop columns last."""
    tables = [t for t in tables if t.num_rows]
    if not tables:
        return None
    merged = _concat(tables)
    order = [c for c in merged.column_names if c not in (DROP_STAGE, DROP_REASON)] + [DROP_STAGE, DROP_REASON]
    return merged.select(order)


def run_in_memory(
    steps: list[Step], units: list[pa.Table], stats: dict[str, StepStats] | None = None
) -> tuple[pa.Table, pa.Table | None]:
    """Run steps over in-memory unit tables exactly as a real run would: (kept, rejected).

    For tests and notebooks (:mod:`curate.api`). Every stage is set up here; global stages summarise,
    reduce over all units (in a temporary folder) and apply. ``stats`` collects per-step counts if given.
    """
    for _, stage in steps:
        stage.setup()
    try:
        return _run_set_up(steps, units, {} if stats is None else stats)
    finally:
        for _, stage in steps:
            stage.teardown()


def _run_set_up(steps: list[Step], units: list[pa.Table], stats: dict[str, StepStats]) -> tuple[pa.Table, pa.Table | None]:
    phases = plan_phases(steps)
    rejected: list[pa.Table] = []
    current = list(units)
    with tempfile.TemporaryDirectory() as tmp:
        state_path: str | None = None
        for phase in phases:
            outs, summaries = [], []
            for i, table in enumerate(current):
                state = GlobalState(state_path, i, len(current)) if state_path else None
                kept, dropped = run_phase(phase, table, state, stats)
                rejected.extend(dropped)
                outs.append(kept)
                if phase.summarize is not None:
                    path = Path(tmp) / f"phase-{phase.index}" / "summary" / unit_state_name(i, len(current))
                    write_parquet(summarize_unit(phase.summarize[1], kept, i), path, "none")
                    summaries.append(str(path))
            current = outs
            if phase.summarize is not None:
                job = ReduceJob(summaries, Path(tmp) / f"phase-{phase.index}", label=phase.summarize[0])
                reduce_step(phase.summarize[1], job)
                state_path = str(job.state_dir)
    kept = _concat(current) if current else pa.table({})
    return kept, concat_rejected(rejected)
