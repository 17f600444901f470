"""``exact_dedup``: drop documents whose normalised text was seen earlier in input order.

A global stage in three steps:

* **summarize** (per unit, on the workers): (xxhash64 of the normalised text, id) per document: 16 bytes
  plus the id on disk.
* **reduce** (parallel tasks on the workers, :mod:`curate.stages.lib.exact_duplicates`): a shuffle by hash
  partition brings every copy of a text together; the first in input order (unit, then row) is kept, the
  others are listed with the id they duplicate, in one state file per unit. The driver holds per-unit
  plans only.
* **apply** (per unit): reads only this unit's state file and drops its rows with reason
  ``dup_of=<kept id>``.

Memory per worker: one batch while summarising, at most 1M (hash, position, id) rows while reducing (a
larger partition or group is read in passes), one unit and its drop rows while applying.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field

from curate.core.hashing import hash_strings
from curate.core.registry import register
from curate.core.schema import ID, ROW, TEXT
from curate.core.stage import GlobalStage, GlobalState, Params, Verdict
from curate.engine.reduce import ReduceJob
from curate.stages.lib import exact_duplicates as duplicates


class ExactDedupParams(Params):
    normalize: bool = Field(
        True, description="Compare lower-cased text with runs of whitespace collapsed and ends trimmed."
    )
    partitions: int | None = Field(
        None,
        ge=1,
        description="Hash partitions of the reduce (parallel tasks per step); None: one per 4M documents, rounded "
        "up to a multiple of the workers. More partitions: more, smaller shuffle files and fewer passes per task (a task "
        "holds at most 1M rows at a time either way); never changes the result.",
    )


def normalised(text: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Lower case, whitespace runs collapsed to one space, trimmed (vectorised)."""
    return pc.utf8_trim_whitespace(pc.replace_substring_regex(pc.utf8_lower(text), r"\s+", " "))


@register
class ExactDedup(GlobalStage):
    name = "exact_dedup"
    Params = ExactDedupParams

    def summarize(self, batch: pa.Table) -> pa.Table:
        text = batch.column(TEXT)
        if self.params.normalize:
            text = normalised(text)
        hashes = hash_strings(text)
        return pa.table({"hash": pa.array(hashes, pa.uint64()), ID: batch.column(ID)})

    def reduce_job(self, job: ReduceJob) -> None:
        duplicates.run(job, duplicates.plan(job, self.params.partitions))

    def apply(self, batch: pa.Table, state: GlobalState) -> Verdict:
        drops = state.for_unit()
        keep = np.ones(batch.num_rows, dtype=bool)
        reasons = np.empty(batch.num_rows, dtype=object)
        rows = drops.column(ROW).to_numpy()
        keep[rows] = False
        reasons[rows] = [f"dup_of={d}" for d in drops.column("dup_of").to_pylist()]
        return Verdict(batch, keep, reasons)
