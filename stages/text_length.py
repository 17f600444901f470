"""``text_length``: the cheapest first filter — drop documents shorter or longer than set bounds."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field

from curate.core.registry import register
from curate.core.schema import TEXT
from curate.core.stage import FilterStage, Params, Resources


class TextLengthParams(Params):
    min_chars: int = Field(0, ge=0, description="Drop documents with fewer characters (after trimming).")
    max_chars: int | None = Field(None, ge=1, description="Drop documents with more characters (None: no cap).")


@register
class TextLength(FilterStage):
    name = "text_length"
    row_wise = True
    Params = TextLengthParams
    # consecutive row-wise steps share the smallest batch size among them: a cheap first filter must not
    # halve the batches of the word-splitting filters after it
    default_resources = Resources(batch_size=4096)

    def keep(self, batch: pa.Table) -> tuple[np.ndarray, np.ndarray]:
        n = pc.utf8_length(pc.utf8_trim_whitespace(batch.column(TEXT))).to_numpy(zero_copy_only=False)
        short = n < self.params.min_chars
        long = n > self.params.max_chars if self.params.max_chars is not None else np.zeros(len(n), dtype=bool)
        reasons = np.where(short, "too_short", np.where(long, "too_long", ""))
        return ~(short | long), reasons
