"""Stage registry: recipe names → stage classes.

Built-in stages register themselves with :func:`register` in their modules under ``curate.stages``; other
packages add theirs through the ``curate.stages`` entry-point group, e.g. in their pyproject::

    [project.entry-points."curate.stages"]
    my_filter = "my_pkg.filters:MyFilter"
"""

from __future__ import annotations

import importlib
import pkgutil
from importlib.metadata import entry_points
from typing import TypeVar

from curate.core.errors import RecipeError
from curate.core.stage import Stage

_STAGES: dict[str, type[Stage]] = {}
_loaded = False

S = TypeVar("S", bound=type[Stage])


def register(cls: S) -> S:
    """Class decorator: make ``cls`` usable in recipes under ``cls.name``."""
    if not cls.name:
        raise TypeError(f"{cls.__qualname__} has no `name`; set it to the name recipes use")
    other = _STAGES.get(cls.name)
    if other is not None and other is not cls:
        raise TypeError(f"stage name {cls.name!r} is taken by {other.__module__}.{other.__qualname__}")
    _STAGES[cls.name] = cls
    return cls


def _load_all() -> None:
    global _loaded
    if _loaded:
        return
    import curate.stages as builtin

    for info in pkgutil.iter_modules(builtin.__path__):
        if not info.name.startswith("_") and not info.ispkg:  # sub-packages hold helpers, not stages
            importlib.import_module(f"{builtin.__name__}.{info.name}")
    for ep in entry_points(group="curate.stages"):
        cls = ep.load()
        if cls.name != ep.name:
            raise TypeError(f"entry point {ep.name!r} points at a stage named {cls.name!r}; make them equal")
        register(cls)
    _loaded = True


def get_stage(name: str) -> type[Stage]:
    """The stage class registered as ``name``; a :class:`RecipeError` lists the known names otherwise."""
    _load_all()
    try:
        return _STAGES[name]
    except KeyError:
        known = ", ".join(sorted(_STAGES))
        raise RecipeError(f"unknown stage {name!r}; known stages: {known}") from None


def all_stages() -> dict[str, type[Stage]]:
    """Every registered stage, by name, sorted."""
    _load_all()
    return dict(sorted(_STAGES.items()))
