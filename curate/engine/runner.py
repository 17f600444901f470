"""Run a recipe end to end: plan, check, execute phase by phase, reduce global stages, write the manifest.

Everything that can be refused is refused before the first unit runs: the recipe (already validated on
load), the inputs (every file found, Parquet footers read), the columns stages need, and the output folder
(another recipe's run there is refused unless ``overwrite``). A killed run is resumed by running the same
command again: committed units are skipped, and the result is byte-identical to an uninterrupted run.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import sys
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from curate.core.errors import OutputError, RecipeError
from curate.core.schema import ID, READ_STAGE, TEXT
from curate.engine.executors import make_executor
from curate.engine.fingerprint import changed_inputs, input_fingerprints, referenced_files
from curate.engine.integrity import state_done, unit_done
from curate.engine.lock import RunLock
from curate.engine.pipeline import StepStats, plan_phases, reduce_step
from curate.engine.progress import Progress, short_label, unit_docs
from curate.engine.recipe import Recipe, build_stages
from curate.engine.reduce import REDUCE_INFO, ReduceJob
from curate.engine.run_schema import unify_run
from curate.engine.worker import RunPaths, load_stats
from curate.io.readers import (
    ColumnMap,
    WorkUnit,
    find_inputs,
    open_parquet,
    plan_units,
    read_unit,
)
from curate.io.shards import read_record, remove_temporaries, write_json, write_jsonl

#: Per-unit detail (input path and range, docs in/kept/rejected, seconds), one JSON line per unit, in OUT.
UNITS_FILE = "units.jsonl"
#: Every input's fingerprint (size, version or mtime), in OUT: a resume or re-run on changed inputs is refused.
INPUTS_FILE = "inputs.json"
#: Input files named in manifest.json; the rest are in UNITS_FILE, so the manifest stays small at any scale.
INPUT_EXAMPLES = 10

_VERSIONED = ("curate", "pyarrow", "polars", "numpy", "ray", "fasttext", "datatrove", "datasketch", "torch", "xxhash")


def _versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in _VERSIONED:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            pass
    return found


def _check_columns(recipe: Recipe, units: list[WorkUnit]) -> None:
    """Refuse a recipe whose stage needs a column that neither the input nor an earlier stage provides."""
    assert recipe.input is not None
    available = {ID, TEXT}
    if units:
        first = units[0]
        if first.format == "parquet":
            available |= set(open_parquet(first.path).schema_arrow.names)
        else:
            sample, _ = read_unit(WorkUnit(0, first.path, first.format, max_rows=1), ColumnMap(recipe.input.id_column, recipe.input.text_column))
            available |= set(sample.column_names)
    for i, (name, stage) in enumerate(build_stages(recipe)):
        missing = [c for c in stage.columns_needed() if c not in available]
        if missing:
            raise RecipeError(
                f"stages[{i}] ({name}): needs column(s) {', '.join(missing)}, which neither the input nor an "
                "earlier stage provides; add the stage that makes them before it"
            )
        available |= set(stage.columns_added())


def _prepare_output(paths: RunPaths, fingerprint: str, inputs: dict[str, dict], overwrite: bool) -> bool:
    """Make the output folder ready; True when it already holds this exact, finished run.

    A run of the same recipe whose input files changed since it started (sizes, versions, times) is refused,
    naming the files, unless ``overwrite``: resuming it would mix old and new data.
    """
    record = read_record(paths.manifest if paths.manifest.exists() else paths.run_info)
    if paths.manifest.exists() and (paths.out / INPUTS_FILE).exists():
        record["input_files"] = read_record(paths.out / INPUTS_FILE).get("input_files", {})
    previous = record.get("fingerprint")
    if previous == fingerprint and "input_files" in record:
        changes = changed_inputs(record["input_files"], inputs)
        if changes and not overwrite:
            raise OutputError(
                f"{paths.out} holds a run whose input files changed since it started (its data, or a model or other "
                "file a stage names); resuming would mix old and new data. Use --overwrite to start again, or "
                "restore the files:\n  " + "\n  ".join(changes)
            )
        if changes:
            previous = "changed inputs"
    if previous is not None and previous != fingerprint:
        if not overwrite:
            raise OutputError(
                f"{paths.out} holds a run of a different recipe or input; "
                "use another --output, or --overwrite to replace it"
            )
        for child in (paths.data, paths.rejected, paths.work, paths.manifest, paths.out / UNITS_FILE, paths.out / INPUTS_FILE):
            if child.is_dir():
                shutil.rmtree(child)
            else:
                child.unlink(missing_ok=True)
        previous = None
    if previous == fingerprint and paths.manifest.exists():
        return True
    if previous is None and (paths.data.exists() and any(paths.data.iterdir())):
        if not overwrite:
            raise OutputError(f"{paths.out}/data already has shards from an unknown run; use --overwrite to replace them")
        shutil.rmtree(paths.data)
        shutil.rmtree(paths.rejected, ignore_errors=True)
    remove_temporaries(paths.out)
    return False


def run_recipe(
    recipe: Recipe,
    out: str,
    *,
    executor: str | None = None,
    workers: int | None = None,
    ray_address: str | None = None,
    limit: int | None = None,
    overwrite: bool = False,
    quiet: bool = False,
    recipe_file: str | None = None,
) -> dict:
    """Run ``recipe`` into ``out`` and return the manifest. Resumes a killed run of the same recipe.

    The run holds ``out``'s lock (:mod:`curate.engine.lock`) throughout: a second run on the same output
    is refused while this one lives.
    """
    if recipe.input is None:
        raise RecipeError("the recipe has no `input`; add one or give --input")
    with RunLock(Path(out), what=f"curate run {recipe_file or recipe.name}") as lock:
        return _run_locked(lock, recipe, out, executor, workers, ray_address, limit, overwrite, quiet, recipe_file)


def _run_locked(lock, recipe, out, executor, workers, ray_address, limit, overwrite, quiet, recipe_file) -> dict:
    assert recipe.input is not None
    started = time.time()
    kind = executor or recipe.executor.kind
    n_workers = workers or recipe.executor.workers
    address = ray_address or recipe.executor.ray_address
    if address and kind != "ray":
        kind = "ray"

    files = find_inputs(recipe.input.paths)
    columns = ColumnMap(recipe.input.id_column, recipe.input.text_column)
    units = plan_units(files, columns, recipe.input.format, recipe.input.rows_per_unit, limit, recipe.input.bytes_per_unit)
    _check_columns(recipe, units)
    phases = plan_phases(build_stages(recipe))

    fingerprint = recipe.model_copy(update={"input": recipe.input.model_copy(update={"paths": files})}).fingerprint()
    if limit is not None:
        fingerprint += f"-limit{limit}"
    paths = RunPaths(Path(out), len(units))
    inputs = input_fingerprints(files + referenced_files(s.params for s in recipe.stages))
    if _prepare_output(paths, fingerprint, inputs, overwrite):
        say = (lambda *_: None) if quiet else (lambda msg: print(msg, file=sys.stderr))
        say(f"{out}: already complete for this recipe (manifest.json); nothing to do")
        return json.loads(paths.manifest.read_text(encoding="utf-8"))
    write_json({"fingerprint": fingerprint, "recipe": recipe.name, "units": len(units), "input_files": inputs}, paths.run_info)

    reduce_seconds: dict[str, float] = {}
    runner = make_executor(recipe, out, kind, n_workers, address)
    try:
        for phase in phases:
            lock.check()
            todo = _todo(paths, phase.index, units)
            names = ([READ_STAGE] if phase.index == 0 else []) + [n for n, _ in phase.steps()]
            bar = Progress(f"phase {phase.index + 1}/{len(phases)} {short_label(names)}", len(units), len(units) - len(todo), quiet=quiet)
            for _unit, unit_stats in runner.map(phase.index, todo):
                bar.update(unit_docs(unit_stats))
            bar.close()
            if phase.summarize is not None and not state_done(paths, phase.index):
                name, stage = phase.summarize
                t0 = time.perf_counter()
                summaries = [str(paths.summary(phase.index, u.index)) for u in units]
                if not quiet:
                    print(f"reducing {name} over {len(units)} unit summaries …", file=sys.stderr)
                job = ReduceJob(summaries, paths.phase_dir(phase.index), n_workers, runner.run_tasks, quiet, label=f"{name} reduce")
                reduce_step(stage, job)
                reduce_seconds[name] = time.perf_counter() - t0
    finally:
        runner.close()
    unify_run(paths.out, recipe.output.compression, recipe.output.compression_level)  # one schema per run

    manifest, per_unit = _manifest(recipe, recipe_file, fingerprint, files, units, phases, paths, reduce_seconds, kind, n_workers, started)
    write_jsonl(per_unit, paths.out / UNITS_FILE)
    write_json({"input_files": inputs}, paths.out / INPUTS_FILE)
    lock.check()
    write_json(manifest, paths.manifest)
    shutil.rmtree(paths.work, ignore_errors=True)
    return manifest


def _todo(paths: RunPaths, phase: int, units: list[WorkUnit]) -> list[WorkUnit]:
    """Units without a committed stats file: one directory listing, not a look-up per unit."""
    folder = paths.stats(phase, 0).parent
    done = {e.name for e in os.scandir(folder)} if folder.is_dir() else set()
    # a listed unit is done only if the files it committed are intact (checksums; see curate.engine.integrity)
    return [u for u in units if paths.stats(phase, u.index).name not in done or not unit_done(paths, phase, u.index)]


def _unit_row(unit: WorkUnit) -> dict:
    """Where a unit's documents came from, as written to units.jsonl."""
    row: dict = {"unit": unit.index, "path": unit.path}
    if unit.row_groups is not None and (unit.max_rows is not None or unit.start_row):
        row["start_row"] = unit.start_row
    if unit.byte_start or unit.byte_end is not None:
        lines = {"start_line": unit.start_row + 1} if unit.format == "jsonl" else {}  # WARC names records by byte
        row.update(**lines, byte_start=unit.byte_start, byte_end=unit.byte_end)
    return row


def _manifest(recipe, recipe_file, fingerprint, files, units, phases, paths, reduce_seconds, kind, workers, started) -> tuple[dict, list[dict]]:
    """The manifest (aggregates only, whatever the number of inputs) and one detail row per unit."""
    merged: dict[str, StepStats] = {}
    peak_rss = 0.0
    per_unit = [_unit_row(u) | {"docs_in": 0, "docs_kept": 0, "docs_rejected": 0, "seconds": 0.0} for u in units]
    for phase in phases:
        for unit, row in zip(units, per_unit):
            steps_of_unit, unit_peak = load_stats(paths.stats(phase.index, unit.index))
            peak_rss = max(peak_rss, unit_peak)
            for name, stats in steps_of_unit.items():
                merged.setdefault(name, StepStats()).add(stats)
                row["docs_rejected"] += stats.dropped
                row["seconds"] += stats.seconds
            if READ_STAGE in steps_of_unit:
                row["docs_in"] = steps_of_unit[READ_STAGE].docs_in
            if phase.is_last and steps_of_unit:
                row["docs_kept"] = list(steps_of_unit.values())[-1].kept
    for row in per_unit:
        row["seconds"] = round(row["seconds"], 4)
    order = [READ_STAGE] + [n for p in phases for n, _ in p.steps()]
    reduce_tasks = {}
    for phase in phases:
        info = paths.state(phase.index) / REDUCE_INFO
        if phase.summarize is not None and info.exists():
            reduce_tasks[phase.summarize[0]] = json.loads(info.read_text(encoding="utf-8"))["steps"]
    steps = []
    for name in order:
        stats = merged.get(name, StepStats())
        stats.seconds += reduce_seconds.get(name, 0.0)
        entry = {"name": name, **stats.to_json()}
        entry["reasons"] = dict(list(entry["reasons"].items())[:20])
        if reduce_tasks.get(name):  # parallel reduces: tasks per step, and where they ran
            entry["reduce_steps"] = reduce_tasks[name]
        steps.append(entry)
    read = merged.get(READ_STAGE, StepStats())
    last = steps[-1]
    manifest = {
        "recipe": recipe.model_dump(),
        "recipe_file": recipe_file,
        "fingerprint": fingerprint,
        "versions": _versions(),
        "executor": {"kind": kind, "workers": workers, "worker_peak_rss_mb": peak_rss},
        "inputs": {"files": len(files), "examples": files[:INPUT_EXAMPLES], "units_file": UNITS_FILE, "fingerprints_file": INPUTS_FILE},
        "units": len(units),
        "stages": steps,
        "totals": {
            "docs_in": read.docs_in,
            "docs_kept": last["kept"],
            "docs_rejected": sum(s["dropped"] for s in steps),
            "chars_in": read.chars_in,
            "chars_kept": last["chars_kept"],
            "seconds": round(time.time() - started, 3),
        },
        "outputs": {"data": "data/", "rejected": "rejected/" if recipe.output.write_rejected else None},
    }
    return manifest, per_unit
