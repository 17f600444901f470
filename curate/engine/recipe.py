"""Recipes: YAML files that say what to read, which stages to run in order, and where to write.

A recipe is validated completely before any work starts: unknown stages, unknown or mistyped parameters,
missing input. Every error names the recipe file, the line and the field, e.g.
``recipes/web.yaml:14: stages[2].params.min_words: Input should be a valid integer``.

    name: sample
    seed: 0
    input:
      paths: ["data/sample/*"]        # files, globs, directories; local, hf://, s3://
      text_column: text               # renamed to `text` on read
    output:
      path: out/sample
    executor: {kind: local, workers: 1}
    stages:
      - stage: exact_dedup
      - stage: gopher_quality
        name: gopher                  # optional: the drop_stage name (defaults to the stage type)
        params: {min_doc_words: 50}
        resources: {batch_size: 4096}
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import xxhash
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from curate.core.config import load_yaml, location, read_config, validation_error
from curate.core.errors import RecipeError
from curate.core.registry import get_stage
from curate.core.stage import Resources, Stage


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class InputSpec(_Strict):
    paths: list[str] = Field(min_length=1, description="Files, globs or directories to read (any fsspec URL).")
    format: Literal["auto", "parquet", "jsonl", "warc"] = Field("auto", description="auto: from each file's extension.")
    id_column: str = Field("id", description="Input column holding the document id (made from file+row if absent).")
    text_column: str = Field("text", description="Input column holding the document text.")
    rows_per_unit: int = Field(
        50_000, ge=1, description="Rows per work unit when splitting Parquet files (whole row groups, or row ranges of a bigger one)."
    )
    bytes_per_unit: int = Field(
        256 << 20, ge=1, description="Bytes per work unit when splitting plain JSONL files (cut at line starts) and WARC files (cut at record starts)."
    )


class OutputSpec(_Strict):
    path: str | None = Field(None, description="Output directory (overridden by -o/--output).")
    write_rejected: bool = Field(True, description="Write dropped documents to rejected/ (counts are kept anyway).")
    compression: Literal["zstd", "snappy", "gzip", "none"] = Field("zstd", description="Parquet compression.")
    compression_level: int | None = Field(3, description="Compression level (codec default when null).")


class ExecutorSpec(_Strict):
    kind: Literal["local", "ray"] = Field("local", description="local: this process or a process pool; ray: Ray.")
    workers: int = Field(1, ge=1, description="Worker processes (local) or actors per phase (ray).")
    ray_address: str | None = Field(None, description="auto or HOST:PORT of a running cluster; none starts one.")


class StageSpec(_Strict):
    stage: str = Field(description="Registered stage name (see `curate stages`).")
    name: str | None = Field(None, description="Name of this step in drop_stage and the manifest.")
    params: dict[str, Any] = Field(default_factory=dict, description="The stage's parameters.")
    resources: dict[str, Any] = Field(default_factory=dict, description="Overrides of the stage's resources.")


class Recipe(_Strict):
    name: str = Field(description="Short name of the recipe.")
    description: str = Field("", description="What this recipe is for.")
    seed: int = Field(0, description="Seed handed to every stage that samples.")
    license: str | None = Field(None, description="License id of the data, for published dataset cards (e.g. odc-by).")
    input: InputSpec | None = Field(None, description="What to read (or give --input on the command line).")
    output: OutputSpec = Field(default_factory=OutputSpec)
    executor: ExecutorSpec = Field(default_factory=ExecutorSpec)
    stages: list[StageSpec] = Field(default_factory=list, description="Stages, run in this order.")

    def fingerprint(self) -> str:
        """Hash of everything that decides the output bytes (not the executor, which must not matter)."""
        decisive = self.model_dump(exclude={"executor", "description"})
        decisive["output"].pop("path", None)
        return xxhash.xxh64_hexdigest(json.dumps(decisive, sort_keys=True))


def parse_recipe(text: str, source: str = "<recipe>") -> Recipe:
    """Parse and completely validate a recipe, stages and their parameters included."""
    data, lines = load_yaml(text, source)
    if not isinstance(data, dict):
        raise RecipeError(f"{source}: a recipe is a YAML mapping with at least `name` and `stages`")
    for key, command in (("sources", "curate mix"), ("candidates", "curate proxy compare")):
        if key in data:  # a run recipe has neither: say which command the file is for
            raise RecipeError(f"{source}: this is a `{command}` file (it has `{key}`), not a run recipe; use `{command} {source}`")
    try:
        recipe = Recipe.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc, source, lines) from None
    seen: set[str] = set()
    for i, spec in enumerate(recipe.stages):
        try:
            cls = get_stage(spec.stage)
        except RecipeError as exc:
            raise RecipeError(f"{location(source, lines, ('stages', i, 'stage'))}: stages[{i}].stage: {exc}") from None
        for key, model in (("params", cls.Params), ("resources", Resources)):
            try:
                model.model_validate(getattr(spec, key) if key == "params" else _resources(cls, spec))
            except ValidationError as exc:
                raise validation_error(exc, source, lines, ("stages", i, key)) from None
        step = spec.name or spec.stage
        if step in seen:
            raise RecipeError(
                f"{location(source, lines, ('stages', i))}: stages[{i}]: a step named {step!r} comes twice; "
                "give one of them a distinct `name:`"
            )
        seen.add(step)
    return recipe


def load_recipe(path: str | Path) -> Recipe:
    """Read and validate a recipe file; errors name the file and line."""
    return parse_recipe(read_config(path, "recipe"), str(path))


def _resources(cls: type[Stage], spec: StageSpec) -> dict[str, Any]:
    return {**cls.default_resources.model_dump(), **spec.resources}


def build_stages(recipe: Recipe) -> list[tuple[str, Stage]]:
    """Instantiate the recipe's stages as (step name, stage) pairs. Nothing heavy happens here."""
    steps = []
    for spec in recipe.stages:
        cls = get_stage(spec.stage)
        stage = cls(cls.Params.model_validate(spec.params), Resources.model_validate(_resources(cls, spec)))
        stage.seed = recipe.seed
        steps.append((spec.name or spec.stage, stage))
    return steps
