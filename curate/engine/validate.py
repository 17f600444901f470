"""``curate validate``: every problem of a recipe in one pass, each as ``file:line: field: message``.

Loading a recipe (:func:`curate.engine.recipe.parse_recipe`) stops at the first error; this module goes on
and collects them all: the recipe's own fields, each stage's name and parameters (with the closest known
name when one is misspelt), the inputs (every glob matches, the first file of each glob is readable and has
the text column), the columns each stage needs along the chain, and the model and list files stages name.
``curate run`` runs the same checks before any work, so validate passes exactly the recipes run accepts.
Memory: one input schema at a time (a Parquet footer or a JSONL sample).
"""

from __future__ import annotations

import difflib
import glob
from pathlib import Path
from typing import Any, get_args

from pydantic import BaseModel, ValidationError

from curate.core.config import dotted, load_yaml, location, read_config
from curate.core.errors import CurateError
from curate.core.registry import all_stages
from curate.core.stage import Resources, Stage

_FILE_PARAMS = ("model",)  # parameters that name one local file or folder
_FILE_SUFFIXES = ("_file", "_files")  # parameters that name local files


def suggest(name: str, known: list[str] | tuple[str, ...]) -> str:
    """`` (did you mean 'x'?)`` for the closest known name, or nothing."""
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _model_at(model: type[BaseModel], loc: tuple) -> type[BaseModel] | None:
    """The pydantic model that holds the field at ``loc`` (for suggestions on unknown keys)."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)) or part not in current.model_fields:
            return None
        ann = current.model_fields[part].annotation
        while get_args(ann) and not (isinstance(ann, type) and issubclass(ann, BaseModel)):
            ann = next((a for a in get_args(ann) if isinstance(a, type) and issubclass(a, BaseModel)), get_args(ann)[0])
        current = ann
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def pydantic_problems(exc: ValidationError, model: type[BaseModel], source: str, lines: dict, prefix: tuple = ()) -> list[str]:
    """One message per error, with a did-you-mean for unknown keys."""
    out = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        hint = ""
        if err["type"] == "extra_forbidden" and loc and isinstance(loc[-1], str):
            owner = _model_at(model, loc[:-1])
            hint = suggest(loc[-1], tuple(owner.model_fields)) if owner else ""
        got = f" (got {err['input']!r})" if err["type"] not in ("missing", "extra_forbidden") and "input" in err else ""
        full = prefix + loc
        out.append(f"{location(source, lines, full)}: {dotted(full)}: {err['msg']}{hint}{got}")
    return out


def check_text(text: str, source: str, inputs: list[str] | None = None) -> list[str]:
    """Every problem of a recipe's text; ``inputs`` replaces its input paths (``--input``)."""
    from curate.engine.recipe import Recipe, StageSpec

    try:
        data, lines = load_yaml(text, source)
    except CurateError as exc:
        return [str(exc)]
    if not isinstance(data, dict):
        return [f"{source}: a recipe is a YAML mapping with at least `name` and `stages`"]
    for key, command in (("sources", "curate mix"), ("candidates", "curate proxy compare")):
        if key in data:  # not a run recipe: say which command the file is for, as loading does
            return [f"{source}: this is a `{command}` file (it has `{key}`), not a run recipe; use `{command} {source}`"]
    if inputs:
        data = {**data, "input": {**(data.get("input") or {}), "paths": inputs}}
    problems: list[str] = []
    raw_stages = data.get("stages") if isinstance(data.get("stages"), list) else []
    try:
        recipe = Recipe.model_validate({**data, "stages": []})
    except ValidationError as exc:
        problems += pydantic_problems(exc, Recipe, source, lines)
        recipe = None
    if not isinstance(data.get("stages", []), list):
        problems.append(f"{location(source, lines, ('stages',))}: stages: a list of stages is expected")
    known = all_stages()
    steps: list[tuple[int, str, Stage]] = []
    seen: set[str] = set()
    for i, item in enumerate(raw_stages):
        try:
            spec = StageSpec.model_validate(item)
        except ValidationError as exc:
            problems += pydantic_problems(exc, StageSpec, source, lines, ("stages", i))
            continue
        cls = known.get(spec.stage)
        if cls is None:
            problems.append(f"{location(source, lines, ('stages', i, 'stage'))}: stages[{i}].stage: unknown stage {spec.stage!r}"
                            f"{suggest(spec.stage, tuple(known))}; `curate stages` lists them")
            continue
        checked = []
        for key, model, given in (("params", cls.Params, spec.params),
                                  ("resources", Resources, {**cls.default_resources.model_dump(), **spec.resources})):
            try:
                checked.append(model.model_validate(given))
            except ValidationError as exc:
                problems += pydantic_problems(exc, model, source, lines, ("stages", i, key))
        if len(checked) < 2:
            continue
        params, resources = checked
        step = spec.name or spec.stage
        if step in seen:
            problems.append(f"{location(source, lines, ('stages', i))}: stages[{i}]: a step named {step!r} comes twice; "
                            "give one of them a distinct `name:`")
        seen.add(step)
        steps.append((i, step, cls(params, resources)))
        problems += _file_problems(cls, spec.params, source, lines, i)
    if recipe is not None and recipe.input is not None:
        problems += _input_problems(recipe, steps, source, lines)
    return problems


def check_recipe_file(path: str | Path, inputs: list[str] | None = None) -> list[str]:
    """Every problem of a recipe file (see :func:`check_text`)."""
    return check_text(read_config(path, "recipe"), str(path), inputs)


def _file_problems(cls: type[Stage], params: dict, source: str, lines: dict, i: int) -> list[str]:
    out = []
    for key, value in params.items():
        if not (key in _FILE_PARAMS or key.endswith(_FILE_SUFFIXES) or (key == "paths" and cls.name == "decontaminate")):
            continue
        for j, item in enumerate(value if isinstance(value, (list, tuple)) else [value]):
            if not isinstance(item, str) or "://" in item:
                continue  # remote paths are checked when read
            found = glob.glob(item) if key == "paths" else ([item] if Path(item).exists() else [])
            if not found:
                loc = ("stages", i, "params", key) + ((j,) if isinstance(value, (list, tuple)) else ())
                out.append(f"{location(source, lines, loc)}: {dotted(loc)}: no file or folder at {item!r} "
                           f"(relative paths are read from {Path.cwd()})")
    return out


def _input_problems(recipe: Any, steps: list[tuple[int, str, Stage]], source: str, lines: dict) -> list[str]:
    from curate.io.probe import file_columns, has_text_column, input_schema
    from curate.io.readers import find_inputs, format_of

    spec = recipe.input
    out: list[str] = []
    available: set[str] | None = None
    for j, pattern in enumerate(spec.paths):
        loc = ("input", "paths", j)
        try:
            files = find_inputs([pattern])
            first = files[0]
            schema = input_schema(first, spec.format if spec.format != "auto" else format_of(first), spec.id_column, spec.text_column)
        except CurateError as exc:
            out.append(f"{location(source, lines, loc)}: {dotted(loc)}: {exc}")
            continue
        names = file_columns(schema)
        if not has_text_column(schema):
            where = ("input", "text_column") if ("input", "text_column") in lines else loc
            out.append(f"{location(source, lines, where)}: input.text_column: {first} has no column {spec.text_column!r}"
                       f"{suggest(spec.text_column, names)}; its columns: {', '.join(names) or '(none)'}")
        cols = set(schema.names)
        available = cols if available is None else available & cols  # a column must be in every input
    if available is None:
        return out
    for i, step, stage in steps:
        missing = [c for c in stage.columns_needed() if c not in available]
        if missing:
            out.append(f"{location(source, lines, ('stages', i, 'stage'))}: stages[{i}] ({step}): needs column(s) "
                       f"{', '.join(missing)}, which neither the input nor an earlier stage provides; "
                       "add the stage that makes them before it")
        available |= set(stage.columns_added())
    return out
