"""``exact_dedup``: drop documents whose normalised text was seen earlier in input order.

A global stage: every unit is summarised into (xxhash64 of normalised text, id); the reduce keeps the
first document of each hash in input order (unit, then row) and lists the others with the id they
duplicate; apply drops those rows with reason ``dup_of=<kept id>``. The summary is 16 bytes plus the id
per document, so a billion documents reduce on one machine with polars' streaming group-by.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field

from curate.core.hashing import hash_strings
from curate.core.registry import register
from curate.core.schema import ID, ROW, TEXT, UNIT
from curate.core.stage import GlobalStage, GlobalState, Params, Verdict


class ExactDedupParams(Params):
    normalize: bool = Field(
        True, description="Compare lower-cased text with runs of whitespace collapsed and ends trimmed."
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

    def reduce(self, summaries: pl.LazyFrame) -> pa.Table:
        order = summaries.sort([UNIT, ROW])
        ranked = order.with_columns(
            pl.col(ID).first().over("hash").alias("dup_of"),
            pl.int_range(pl.len()).over("hash").alias("_rank"),
        )
        drops = ranked.filter(pl.col("_rank") > 0).select(UNIT, ROW, "dup_of")
        return drops.collect().to_arrow()

    def apply(self, batch: pa.Table, state: GlobalState) -> Verdict:
        drops = state.for_unit()
        keep = np.ones(batch.num_rows, dtype=bool)
        reasons = np.empty(batch.num_rows, dtype=object)
        rows = drops.column(ROW).to_numpy()
        keep[rows] = False
        reasons[rows] = [f"dup_of={d}" for d in drops.column("dup_of").to_pylist()]
        return Verdict(batch, keep, reasons)
