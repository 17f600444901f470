"""One worker: runs one phase of the pipeline on one work unit, reading and writing shards itself.

Executors (local process, process pool, Ray actor) hold one :class:`Worker` each, so stages are set up
(models loaded) once per worker, and only small statistics travel back to the driver. A unit's work is
committed by its stats file, written last, which names the checksum of every file it commits: a unit
without one, or whose files or stats no longer match, is redone on resume, and since every file is
written atomically and deterministically, redoing it gives the same bytes.
"""

from __future__ import annotations

import json
import resource
from dataclasses import dataclass, replace
from pathlib import Path

import pyarrow.parquet as pq

from curate.core.schema import READ_STAGE, text_lengths
from curate.core.stage import GlobalState, Stage
from curate.engine.pipeline import (
    Phase,
    StepStats,
    concat_rejected,
    plan_phases,
    run_phase,
    summarize_unit,
)
from curate.engine.recipe import Recipe, build_stages
from curate.engine.reduce import STATE_DIR
from curate.io.checksums import digests, seal
from curate.io.names import numbered
from curate.io.readers import ColumnMap, WorkUnit, read_unit
from curate.io.shards import write_json, write_parquet


@dataclass(frozen=True)
class RunPaths:
    """Where a run keeps its outputs and its in-flight work."""

    out: Path
    units: int = 0  # units of the run: fixes the digits of every numbered name (curate.io.names)

    def _name(self, prefix: str, unit: int, suffix: str) -> str:
        return f"{prefix}{numbered(unit, self.units)}{suffix}"

    @property
    def work(self) -> Path:
        return self.out / "_work"

    @property
    def data(self) -> Path:
        return self.out / "data"

    @property
    def rejected(self) -> Path:
        return self.out / "rejected"

    @property
    def manifest(self) -> Path:
        return self.out / "manifest.json"

    @property
    def run_info(self) -> Path:
        return self.work / "run.json"

    def phase_dir(self, phase: int) -> Path:
        return self.work / f"phase-{phase}"

    def staged(self, phase: int, unit: int) -> Path:
        return self.phase_dir(phase) / "staged" / self._name("unit-", unit, ".parquet")

    def staged_rejected(self, phase: int, unit: int) -> Path:
        return self.phase_dir(phase) / "rejected" / self._name("unit-", unit, ".parquet")

    def summary(self, phase: int, unit: int) -> Path:
        return self.phase_dir(phase) / "summary" / self._name("unit-", unit, ".parquet")

    def stats(self, phase: int, unit: int) -> Path:
        return self.phase_dir(phase) / "stats" / self._name("unit-", unit, ".json")

    def state(self, phase: int) -> Path:
        """The folder a global stage's reduce leaves (see :mod:`curate.engine.reduce`); present once it finished."""
        return self.phase_dir(phase) / STATE_DIR

    def part(self, folder: Path, unit: int) -> Path:
        return folder / self._name("part-", unit, ".parquet")


class Worker:
    """Holds the set-up stages of one recipe; runs (phase, unit) jobs."""

    def __init__(self, recipe: Recipe, out: str) -> None:
        self.recipe = recipe
        self.paths = RunPaths(Path(out))
        self.phases: list[Phase] = plan_phases(build_stages(recipe))
        assert recipe.input is not None, "the runner fills in the input before starting workers"
        self.columns = ColumnMap(recipe.input.id_column, recipe.input.text_column)
        self._ready: list[Stage] = []

    def _setup(self, phase: Phase) -> None:
        stages = [s for _, s in phase.steps()] + ([phase.summarize[1]] if phase.summarize else [])
        for stage in stages:
            if not any(stage is ready for ready in self._ready):
                stage.setup()
                self._ready.append(stage)

    def close(self) -> None:
        """Tear down every stage this worker set up (engine processes stop now, not at exit)."""
        while self._ready:
            self._ready.pop().teardown()

    def run(self, phase_index: int, unit: WorkUnit) -> dict:
        """Do one unit's work for one phase; returns the stats that were committed."""
        phase = self.phases[phase_index]
        self._setup(phase)
        if unit.total != self.paths.units:  # names take the run's width (curate.io.names)
            self.paths = replace(self.paths, units=unit.total)
        stats: dict[str, StepStats] = {}
        if phase_index == 0:
            read = StepStats()
            table, bad = read_unit(unit, self.columns)
            read.docs_in, read.kept, read.dropped = table.num_rows + bad.num_rows, table.num_rows, bad.num_rows
            read.chars_kept = read.chars_in = text_lengths(table)
            # counted by kind ("read:bad JSON"); the rows in rejected/ keep the full reason with file and line
            read.count_reasons(r.split(" at ", 1)[0].split(" (", 1)[0] for r in bad.column("drop_reason").to_pylist())
            stats[READ_STAGE] = read
            carried = [bad] if bad.num_rows else []
        else:
            table = pq.read_table(self.paths.staged(phase_index - 1, unit.index))
            carried = []
        state = GlobalState(str(self.paths.state(phase_index - 1)), unit.index, unit.total) if phase.apply else None
        table, dropped = run_phase(phase, table, state, stats)
        rejected = concat_rejected(carried + dropped)
        out = self.recipe.output
        written: list[Path] = []
        if phase.is_last:
            earlier = [
                pq.read_table(p)
                for k in range(phase_index)
                if (p := self.paths.staged_rejected(k, unit.index)).exists()
            ]
            everything = concat_rejected(earlier + ([rejected] if rejected is not None else []))
            if out.write_rejected and everything is not None:
                written.append(self.paths.part(self.paths.rejected, unit.index))
                write_parquet(everything, written[-1], out.compression, out.compression_level)
            written.append(self.paths.part(self.paths.data, unit.index))
            try:
                write_parquet(table, written[-1], out.compression, out.compression_level)
            except BaseException:  # no rejected/ shard of a unit whose data/ shard could not be written
                for done in written[:-1]:
                    done.unlink(missing_ok=True)
                raise
        else:
            _name, stage = phase.summarize  # type: ignore[misc]
            summary = summarize_unit(stage, table, unit.index)
            written += [self.paths.summary(phase_index, unit.index), self.paths.staged(phase_index, unit.index)]
            write_parquet(summary, written[0], "zstd", 1)
            write_parquet(table, written[1], "zstd", 1)
            if rejected is not None:
                written.append(self.paths.staged_rejected(phase_index, unit.index))
                write_parquet(rejected, written[-1], "zstd", 1)
        committed = {name: s.to_json() for name, s in stats.items()}
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB
        record = {"unit": unit.index, "steps": committed, "worker_peak_rss_mb": round(peak_mb, 1),
                  "files": digests(self.paths.out, written)}  # checked on resume (curate.engine.integrity)
        write_json(seal(record), self.paths.stats(phase_index, unit.index))
        return committed


def load_stats(path: Path) -> tuple[dict[str, StepStats], float]:
    """A committed unit's per-step stats and the peak RSS (MiB) of the worker that ran it."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return {name: StepStats.from_json(s) for name, s in data["steps"].items()}, data.get("worker_peak_rss_mb", 0.0)
