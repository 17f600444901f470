"""curate: build pretraining corpora from recipes of stages (see README.md and :mod:`curate.api`).

The Python API is imported lazily (PEP 562), so ``import curate.core.errors`` stays cheap::

    import curate
    pipe = curate.Pipeline([curate.stage("text_length", min_chars=50), curate.stage("exact_dedup")])
    result = pipe.apply(table)          # kept, rejected, stats
    pipe.run("data/sample/*", "out/x")  # like `curate run`
    curate.read_run("out/x").data       # a polars LazyFrame
"""

from __future__ import annotations

from typing import Any

__all__ = ["Pipeline", "Result", "RunOutput", "apply", "load_recipe", "read_run", "stage"]


def __getattr__(name: str) -> Any:
    if name in ("Pipeline", "Result", "RunOutput", "apply", "read_run", "stage"):
        from curate import api

        return getattr(api, name)
    if name == "load_recipe":
        from curate.engine.recipe import load_recipe

        return load_recipe
    raise AttributeError(f"module 'curate' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
