"""Error kinds. Each says what went wrong and what to do; the pipeline treats them differently.

* :class:`RecipeError` — the recipe is wrong: refused before any work starts.
* :class:`InputError` — an input file cannot be read at all: refused before work, naming the file.
* :class:`OutputError` — the output directory holds a run of another recipe (or is otherwise unusable).
"""


class CurateError(Exception):
    """Base of the errors the CLI prints as a one-line message instead of a traceback."""


class RecipeError(CurateError):
    """A recipe that cannot run: unknown stage, wrong parameter, bad YAML. Names file, line and field."""


class InputError(CurateError):
    """An input that cannot be read at all (missing, truncated, wrong schema). Names the file."""


class OutputError(CurateError):
    """An output directory that cannot be used as asked (another recipe's run, without --overwrite)."""
