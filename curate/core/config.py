"""YAML configuration files (recipes, mixtures, proxy configs) with errors that give file, line and field.

    data, lines = load_yaml(text, "recipes/web.yaml")
    try:
        Model.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc, "recipes/web.yaml", lines) from None
    # recipes/web.yaml:14: stages[2].params.min_words: Input should be a valid integer (got 'ten')
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import ValidationError

from curate.core.errors import RecipeError


def read_config(path: str | Path, kind: str) -> str:
    """The text of a config file, or a RecipeError naming the kind of file that is missing."""
    p = Path(path)
    if not p.is_file():
        raise RecipeError(f"{kind} {str(path)!r} does not exist")
    return p.read_text(encoding="utf-8")


def load_yaml(text: str, source: str) -> tuple[object, dict[tuple, int]]:
    """Parse YAML and index the line of every key and list item; bad YAML is a RecipeError with its line."""
    try:
        return yaml.safe_load(text), line_index(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        raise RecipeError(f"{where}: not valid YAML: {getattr(exc, 'problem', exc)}") from exc


def line_index(text: str) -> dict[tuple, int]:
    """Map each YAML path (keys and list indexes) to its 1-based line, for error messages."""
    lines: dict[tuple, int] = {}

    def walk(node: yaml.Node, path: tuple) -> None:
        lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                walk(value, path + (key.value,))
                lines[path + (key.value,)] = key.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                walk(item, path + (i,))

    root = yaml.compose(text, Loader=yaml.SafeLoader)
    if root is not None:
        walk(root, ())
    return lines


def location(source: str, lines: dict[tuple, int], loc: tuple) -> str:
    for cut in range(len(loc), -1, -1):
        if loc[:cut] in lines:
            return f"{source}:{lines[loc[:cut]]}"
    return source


def dotted(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def validation_error(exc: ValidationError, source: str, lines: dict[tuple, int], prefix: tuple = ()) -> RecipeError:
    """One line per pydantic error: ``file:line: dotted.field: message (got value)``."""
    msgs = []
    for err in exc.errors():
        loc = prefix + tuple(err["loc"])
        got = f" (got {err['input']!r})" if err["type"] not in ("missing",) and "input" in err else ""
        msgs.append(f"{location(source, lines, loc)}: {dotted(loc)}: {err['msg']}{got}")
    return RecipeError("\n".join(msgs))
