"""The stage API: what every step of a recipe is.

Two kinds of stage exist, because two kinds of decision exist:

* a **map stage** decides from one batch alone (filters, language ID, scorers). It sees Arrow tables of at
  most ``resources.batch_size`` rows and returns a :class:`Verdict`: the batch, with any columns it added,
  and optionally a keep mask with one reason per dropped row.
* a **global stage** needs to see every document before it can decide (dedup, percentile buckets). It runs
  in three steps so that it scales past one process: ``summarize`` each work unit into a small table,
  ``reduce`` all summaries (a polars LazyFrame over the files on disk) into a state table, then ``apply``
  that state to each unit. A reduce too big for one process overrides ``reduce_job`` and runs as parallel
  tasks on the run's workers (see :mod:`curate.engine.reduce`).

The base classes do the counting, timing and rejected-row bookkeeping; a subclass writes one method. The
pipeline prefixes every drop reason with the stage type (``gopher_quality:short_doc``), so a stage returns
only the rule (``short_doc``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Sequence

import numpy as np
import polars as pl
import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from curate.engine.reduce import ReduceJob


class Params(BaseModel):
    """Base of every stage's parameters: unknown keys are an error, so typos in a recipe are caught."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Resources(BaseModel):
    """What one worker of a stage needs; executors map this onto processes or Ray (no hardware probing)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cpus: float = Field(1.0, ge=0, description="CPU cores one worker of this stage uses.")
    gpus: float = Field(0.0, ge=0, description="GPUs one worker needs; >0 makes Ray run it on a GPU actor.")
    memory_gb: float = Field(0.0, ge=0, description="Memory one worker reserves on Ray (0 = no reservation).")
    batch_size: int = Field(2048, ge=1, description="Rows handed to process() at a time.")
    concurrency: int | None = Field(
        None, ge=1, description="Most workers of this stage at once (None = as many as the executor has)."
    )


@dataclass
class Verdict:
    """What a map stage returns for one batch.

    ``table`` has the same rows in the same order as the input (new columns allowed, ``id`` unchanged).
    ``keep`` is a boolean mask (None keeps everything); ``reasons`` gives, for each row, the reason it was
    dropped (only read where ``keep`` is False). ``counters`` are named counts of what the stage did to
    the batch (``{"email": 3}``); the pipeline adds them up per step into the manifest's ``counters``.
    """

    table: pa.Table
    keep: np.ndarray | None = None
    reasons: Sequence[str | None] | pa.Array | np.ndarray | None = None
    counters: dict[str, int] | None = None


class Stage:
    """Common parts of map and global stages.

    Subclasses set ``name`` (the registry name used in recipes), ``Params`` (a :class:`Params` model with a
    description on every field), and may declare ``needs`` (columns read) and ``adds`` (columns written,
    with Arrow types) so a recipe is checked before any work starts.
    """

    name: ClassVar[str] = ""
    Params: ClassVar[type[Params]] = Params
    needs: ClassVar[tuple[str, ...]] = ("text",)
    adds: ClassVar[dict[str, pa.DataType]] = {}
    default_resources: ClassVar[Resources] = Resources()
    #: True when a row's result depends on that row alone, never on the rest of its batch (heuristic
    #: filters, language ID; not a batched model whose padding may move its numbers). The pipeline then runs
    #: a run of such map stages batch by batch: one batch through all of them, then the next, so stages that
    #: analyse the same text can share the work while it is in memory (see ``batch_words.document_words``).
    row_wise: ClassVar[bool] = False

    def __init__(self, params: Params | None = None, resources: Resources | None = None) -> None:
        self.params = params if params is not None else self.Params()
        self.resources = resources if resources is not None else self.default_resources
        self.seed = 0  # the recipe's seed; set by the pipeline

    def setup(self) -> None:
        """Load models and build lookup tables. Called once per worker before the first batch."""

    def teardown(self) -> None:
        """Release what :meth:`setup` took that outlives a process's normal exit (engine processes)."""

    def columns_needed(self) -> tuple[str, ...]:
        """Columns this configured stage reads; override when parameters choose them."""
        return self.needs

    def columns_added(self) -> dict[str, pa.DataType]:
        """Columns this configured stage writes; override when parameters choose them."""
        return dict(self.adds)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.params!r})"


class MapStage(Stage):
    """A stage that decides each batch on its own. Implement :meth:`process`."""

    def process(self, batch: pa.Table) -> Verdict:
        raise NotImplementedError


class FilterStage(MapStage):
    """A map stage that only drops rows: implement :meth:`keep`, nothing else."""

    adds: ClassVar[dict[str, pa.DataType]] = {}

    def keep(self, batch: pa.Table) -> tuple[np.ndarray, Sequence[str | None] | pa.Array | np.ndarray]:
        """Return a boolean keep mask and a reason per row (read where the mask is False)."""
        raise NotImplementedError

    def process(self, batch: pa.Table) -> Verdict:
        mask, reasons = self.keep(batch)
        return Verdict(batch, np.asarray(mask, dtype=bool), reasons)


class TransformStage(MapStage):
    """A map stage that only adds or rewrites columns: implement :meth:`transform`."""

    def transform(self, batch: pa.Table) -> pa.Table:
        raise NotImplementedError

    def process(self, batch: pa.Table) -> Verdict:
        return Verdict(self.transform(batch))


class ExpandStage(MapStage):
    """A map stage that turns each input row into zero or more new documents (synthesis outputs, chunks).

    :meth:`process` returns a :class:`Verdict` whose ``table`` holds the *new* rows, each with its own
    unique ``id`` (a stable hash of the source id and what made it), and whose ``keep``/``reasons`` judge
    those new rows. The inputs are consumed: the step's manifest entry counts inputs in ``docs_in`` and
    outputs in ``outputs`` (= ``kept`` + ``dropped``), and rejected outputs go to ``rejected/`` like any drop.
    """

    expands: ClassVar[bool] = True


class GlobalStage(Stage):
    """A stage that must see the whole run before deciding.

    1. :meth:`summarize` runs on each work unit and returns a small table (hashes, scores). The pipeline
       adds ``_unit`` (work unit index) and ``_row`` (row position in that unit) and writes it to disk.
    2. :meth:`reduce` runs once, on the driver, over a LazyFrame of every unit's summary in input order,
       and returns a state table (for example the rows to drop, or percentile boundaries). It is written to
       disk, so a resumed run does not redo it. A stage whose reduce would not fit on the driver overrides
       :meth:`reduce_job` instead, and runs it as resumable tasks on the workers (MinHash clustering).
    3. :meth:`apply` runs on each unit with a :class:`GlobalState` and returns a :class:`Verdict`.

    Input order is (``_unit``, ``_row``): "first in input order" rules sort by those two columns.
    """

    def summarize(self, batch: pa.Table) -> pa.Table:
        raise NotImplementedError

    def reduce(self, summaries: pl.LazyFrame) -> pa.Table:
        raise NotImplementedError

    def reduce_job(self, job: "ReduceJob") -> None:
        """Write the state for ``job``: by default :meth:`reduce` on the driver, as one state table."""
        job.write_state(self.reduce(job.scan()))

    def apply(self, batch: pa.Table, state: "GlobalState") -> Verdict:
        raise NotImplementedError


class GlobalState:
    """The reduced state of a global stage, as one worker sees it while applying to one unit.

    The state is a folder (see :mod:`curate.engine.reduce`). ``table()`` reads the whole state (small states:
    boundaries, thresholds); ``for_unit()`` reads only this unit's rows: its own file when the reduce wrote
    one per unit, else the rows of the single state table whose ``_unit`` is this unit.
    """

    def __init__(self, path: str, unit: int, units: int = 0) -> None:
        self.path = Path(path)
        self.unit = unit
        self.units = units  # units of the run: the digits of the state file names (curate.io.names)

    def table(self) -> pa.Table:
        import pyarrow.parquet as pq

        from curate.engine.reduce import STATE_FILE

        whole = self.path / STATE_FILE
        if whole.exists():
            return pq.read_table(whole)
        from curate.io.names import in_number_order

        return pa.concat_tables([pq.read_table(f) for f in in_number_order(self.path.glob("unit-*.parquet"))])

    def for_unit(self) -> pa.Table:
        import pyarrow.parquet as pq

        from curate.engine.reduce import STATE_FILE, unit_state_name

        whole = self.path / STATE_FILE
        if whole.exists():
            return pq.read_table(whole, filters=[("_unit", "=", self.unit)])
        own = self.path / unit_state_name(self.unit, self.units)
        if not own.exists():
            raise FileNotFoundError(f"{own}: the reduced state has no file for unit {self.unit}; the reduce did not finish")
        return pq.read_table(own)
