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

from tqdm import tqdm

from curate.core.errors import OutputError, RecipeError
from curate.core.schema import ID, READ_STAGE, TEXT
from curate.engine.executors import make_executor
from curate.engine.pipeline import StepStats, plan_phases, reduce_step
from curate.engine.recipe import Recipe, build_stages
from curate.engine.reduce import REDUCE_INFO, ReduceJob
from curate.engine.worker import RunPaths, load_stats
from curate.io.readers import (
    ColumnMap,
    WorkUnit,
    find_inputs,
    open_parquet,
    plan_units,
    read_unit,
)
from curate.io.shards import remove_temporaries, write_json, write_jsonl

#: Per-unit detail (input path and range, docs in/kept/rejected, seconds), one JSON line per unit, in OUT.
UNITS_FILE = "units.jsonl"
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


def _prepare_output(paths: RunPaths, fingerprint: str, overwrite: bool) -> bool:
    """Make the output folder ready; True when it already holds this exact, finished run."""
    previous = None
    if paths.manifest.exists():
        previous = json.loads(paths.manifest.read_text(encoding="utf-8")).get("fingerprint")
    elif paths.run_info.exists():
        previous = json.loads(paths.run_info.read_text(encoding="utf-8")).get("fingerprint")
    if previous is not None and previous != fingerprint:
        if not overwrite:
            raise OutputError(
                f"{paths.out} holds a run of a different recipe or input; "
                "use another --output, or --overwrite to replace it"
            )
        for child in (paths.data, paths.rejected, paths.work, paths.manifest, paths.out / UNITS_FILE):
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
    """Run ``recipe`` into ``out`` and return the manifest. Resumes a killed run of the same recipe."""
    if recipe.input is None:
        raise RecipeError("the recipe has no `input`; add one or give --input")
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
    paths = RunPaths(Path(out))
    if _prepare_output(paths, fingerprint, overwrite):
        say = (lambda *_: None) if quiet else (lambda msg: print(msg, file=sys.stderr))
        say(f"{out}: already complete for this recipe (manifest.json); nothing to do")
        return json.loads(paths.manifest.read_text(encoding="utf-8"))
    write_json({"fingerprint": fingerprint, "recipe": recipe.name, "units": len(units)}, paths.run_info)

    reduce_seconds: dict[str, float] = {}
    runner = make_executor(recipe, out, kind, n_workers, address)
    try:
        for phase in phases:
            todo = _todo(paths, phase.index, units)
            label = " → ".join(n for n, _ in phase.steps()) or "read"
            bar = tqdm(total=len(units), initial=len(units) - len(todo), desc=f"phase {phase.index + 1}/{len(phases)} [{label}]", unit="unit", disable=quiet)
            for _unit, _stats in runner.map(phase.index, todo):
                bar.update(1)
            bar.close()
            if phase.summarize is not None and not paths.state(phase.index).exists():
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

    manifest, per_unit = _manifest(recipe, recipe_file, fingerprint, files, units, phases, paths, reduce_seconds, kind, n_workers, started)
    write_jsonl(per_unit, paths.out / UNITS_FILE)
    write_json(manifest, paths.manifest)
    shutil.rmtree(paths.work, ignore_errors=True)
    return manifest


def _todo(paths: RunPaths, phase: int, units: list[WorkUnit]) -> list[WorkUnit]:
    """Units without a committed stats file: one directory listing, not a look-up per unit."""
    folder = paths.stats(phase, 0).parent
    done = {e.name for e in os.scandir(folder)} if folder.is_dir() else set()
    return [u for u in units if paths.stats(phase, u.index).name not in done]


def _unit_row(unit: WorkUnit) -> dict:
    """Where a unit's documents came from, as written to units.jsonl."""
    row: dict = {"unit": unit.index, "path": unit.path}
    if unit.row_groups is not None and (unit.max_rows is not None or unit.start_row):
        row["start_row"] = unit.start_row
    if unit.byte_start or unit.byte_end is not None:
        row.update(start_line=unit.start_row + 1, byte_start=unit.byte_start, byte_end=unit.byte_end)
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
        "inputs": {"files": len(files), "examples": files[:INPUT_EXAMPLES], "units_file": UNITS_FILE},
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
