"""The Python API: compose pipelines in code or notebooks, with the guarantees of ``curate run``.

    import curate

    pipe = curate.Pipeline([curate.stage("text_length", min_chars=50), curate.stage("exact_dedup")])
    result = pipe.apply(table)                  # in memory: an Arrow table or a polars frame
    result.kept, result.rejected, result.stats  # kept rows, dropped rows with drop_stage/drop_reason, counts
    pipe.run("data/sample/*", "out/demo")       # a real run: resumable, deterministic, manifest.json
    run = curate.read_run("out/demo")           # run.data, run.rejected (polars LazyFrames), run.manifest

:meth:`Pipeline.run` turns the stages into a :class:`~curate.engine.recipe.Recipe` and hands it to the same
runner as the command line (checks before work, atomic shards, resume, local or Ray executor).
:meth:`Pipeline.apply` runs map and global stages (dedup, buckets) over tables held in memory through
:func:`curate.engine.pipeline.run_in_memory`: summarise, reduce and apply, with drop reasons prefixed by the
stage name exactly as in ``rejected/``. Memory is the caller's tables plus the stages' states: use it to
explore a sample, and :meth:`Pipeline.run` for a corpus.
"""

from __future__ import annotations

import glob
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
from pydantic import ValidationError

from curate.core.errors import RecipeError
from curate.core.registry import get_stage
from curate.core.schema import ID, TEXT, stable_ids
from curate.core.stage import Resources, Stage
from curate.engine.recipe import Recipe, StageSpec, build_stages, load_recipe


def stage(name: str, *, resources: dict[str, Any] | None = None, **params: Any) -> Stage:
    """A configured stage by its registry name: ``stage("gopher_quality", min_doc_words=50)``.

    Parameters are validated like a recipe's (unknown or mistyped ones are a :class:`RecipeError`).
    """
    cls = get_stage(name)
    try:
        checked = cls.Params.model_validate(params)
        res = Resources.model_validate({**cls.default_resources.model_dump(), **(resources or {})})
    except ValidationError as exc:  # said with the stage's name
        raise RecipeError(f"stage {name!r}: {exc}") from None
    return cls(checked, res)


@dataclass
class Result:
    """What :meth:`Pipeline.apply` returns: kept rows, dropped rows, and per-step counts (as in a manifest)."""

    kept: Any
    rejected: Any
    stats: dict[str, dict] = field(default_factory=dict)


@dataclass
class RunOutput:
    """A finished run read back: ``data`` and ``rejected`` as polars LazyFrames, and the manifest."""

    path: Path
    data: Any
    rejected: Any
    manifest: dict


class Pipeline:
    """Stages in order, with a name and a seed: what a recipe says, built in Python."""

    def __init__(self, stages: Sequence[Stage | tuple[str, Stage]], *, name: str = "pipeline", seed: int = 0) -> None:
        self.name = name
        self.seed = seed
        self.steps: list[tuple[str, Stage]] = []
        for item in stages:
            step, obj = item if isinstance(item, tuple) else (type(item).name, item)
            if not isinstance(obj, Stage) or not type(obj).name:
                raise RecipeError(f"{obj!r} is not a registered stage; build one with curate.stage(NAME, ...)")
            if any(step == seen for seen, _ in self.steps):
                raise RecipeError(f"a step named {step!r} comes twice; pass (name, stage) pairs to tell them apart")
            obj.seed = seed
            self.steps.append((step, obj))
        self._recipe: Recipe | None = None

    @classmethod
    def from_recipe(cls, recipe: str | Path | Recipe) -> Pipeline:
        """The pipeline of a recipe file (or a loaded :class:`Recipe`), keeping its input, output and executor."""
        loaded = recipe if isinstance(recipe, Recipe) else load_recipe(recipe)
        pipe = cls(build_stages(loaded), name=loaded.name, seed=loaded.seed)
        pipe._recipe = loaded
        return pipe

    def recipe(self, input: str | Sequence[str] | None = None, output: str | None = None, **input_options: Any) -> Recipe:
        """The recipe this pipeline runs as: the same stages, parameters, resources and seed."""
        specs = []
        for step, obj in self.steps:
            cls = type(obj)
            changed = {k: v for k, v in obj.resources.model_dump().items() if v != cls.default_resources.model_dump()[k]}
            specs.append(StageSpec(stage=cls.name, name=None if step == cls.name else step,
                                   params=obj.params.model_dump(mode="json", exclude_unset=True), resources=changed))
        base = self._recipe.model_dump() if self._recipe is not None else {"name": self.name}
        base.update(name=self.name, seed=self.seed, stages=[s.model_dump() for s in specs])
        if input is not None:
            paths = [input] if isinstance(input, str) else list(input)
            base["input"] = {**(base.get("input") or {}), **input_options, "paths": paths}
        if output is not None:
            base.setdefault("output", {})["path"] = output
        return Recipe.model_validate(base)

    def run(
        self,
        input: str | Sequence[str] | None = None,
        output: str | None = None,
        *,
        executor: str | None = None,
        workers: int | None = None,
        ray_address: str | None = None,
        limit: int | None = None,
        overwrite: bool = False,
        quiet: bool = True,
        **input_options: Any,
    ) -> dict:
        """Run over files like ``curate run`` and return the manifest (``input_options``: text_column, …)."""
        from curate.engine.runner import run_recipe

        recipe = self.recipe(input, output, **input_options)
        out = output or recipe.output.path
        if not out:
            raise RecipeError("no output directory: pass output=… (or build the pipeline from a recipe that has one)")
        return run_recipe(recipe, out, executor=executor, workers=workers, ray_address=ray_address,
                          limit=limit, overwrite=overwrite, quiet=quiet)

    def apply(self, data: Any, *, units: int = 1) -> Result:
        """Run every stage, global ones included, over an in-memory table; ``units`` splits it like a run would.

        ``data`` is a pyarrow Table, a polars DataFrame or a list of either (one per unit). A table without
        ``id`` gets stable ids from its row numbers. The result has the same kind as ``data``.
        """
        from curate.engine.pipeline import StepStats, run_in_memory

        as_polars = _is_polars(data[0] if isinstance(data, list) and data else data)
        tables = [_to_arrow(t) for t in data] if isinstance(data, list) else _split(_to_arrow(data), units)
        stats: dict[str, StepStats] = {}
        kept, rejected = run_in_memory(self.steps, tables, stats=stats)
        if as_polars:
            import polars as pl

            kept = pl.from_arrow(kept)
            rejected = pl.from_arrow(rejected) if rejected is not None else None
        return Result(kept, rejected, {name: s.to_json() for name, s in stats.items()})

    def __repr__(self) -> str:
        return f"Pipeline({self.name!r}, steps={[s for s, _ in self.steps]})"


def apply(stages: Stage | Sequence[Stage], data: Any, *, units: int = 1, seed: int = 0) -> Result:
    """Run one stage or a few over an in-memory table: ``curate.apply(curate.stage("exact_dedup"), df)``."""
    return Pipeline([stages] if isinstance(stages, Stage) else list(stages), seed=seed).apply(data, units=units)


def read_run(path: str | Path) -> RunOutput:
    """Read a finished run's output folder: data/ and rejected/ as polars LazyFrames, and manifest.json."""
    import json

    import polars as pl

    root = Path(path)
    manifest_file = root / "manifest.json"
    if not manifest_file.is_file():
        raise FileNotFoundError(f"{root}: no manifest.json; the run has not finished (run it again to resume)")

    def scan(folder: str):
        files = sorted(glob.glob(str(root / folder / "*.parquet")))
        return pl.scan_parquet(files) if files else None

    return RunOutput(root, scan("data"), scan("rejected"), json.loads(manifest_file.read_text(encoding="utf-8")))


def _is_polars(data: Any) -> bool:
    return type(data).__module__.startswith("polars")


def _to_arrow(data: Any) -> pa.Table:
    table = data.to_arrow() if _is_polars(data) else data
    if not isinstance(table, pa.Table):
        raise TypeError(f"expected a pyarrow Table or polars DataFrame, got {type(data).__name__}")
    if TEXT not in table.column_names:
        raise RecipeError(f"the table has no `{TEXT}` column (columns: {', '.join(table.column_names)})")
    if ID not in table.column_names:
        table = table.add_column(0, ID, stable_ids("memory", 0, table.num_rows))
    # polars exports large_string; the engine's readers give string
    return table.cast(pa.schema([f.with_type(pa.string()) if pa.types.is_large_string(f.type) else f for f in table.schema]))


def _split(table: pa.Table, units: int) -> list[pa.Table]:
    size = -(-table.num_rows // max(units, 1)) or 1
    return [table.slice(i, size) for i in range(0, max(table.num_rows, 1), size)]
