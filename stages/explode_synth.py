"""``explode_synth``: one document per synthesis output (after ``synthesize``), rejected outputs with reasons.

An expand stage: the source documents are consumed, and each output of ``synthesize`` becomes a document
with provenance columns (``source_id``, ``task``, ``kind``, ``prompt_version``, ``model``, ``sampling``,
``seed``). Outputs that failed post-processing go to ``rejected/`` as ``explode_synth:REASON``.
"""

from __future__ import annotations

import pyarrow as pa
from pydantic import Field

from curate.core.registry import register
from curate.core.stage import ExpandStage, Params, Verdict
from curate.synth.explode import explode_outputs
from curate.synth.requests import OUTPUTS_TYPE


class ExplodeSynthParams(Params):
    column: str = Field("synth", description="The list column the `synthesize` stage wrote.")


@register
class ExplodeSynth(ExpandStage):
    name = "explode_synth"
    Params = ExplodeSynthParams

    def columns_needed(self) -> tuple[str, ...]:
        return ("text", self.params.column)

    def process(self, batch: pa.Table) -> Verdict:
        if self.params.column not in batch.column_names and batch.num_rows == 0:
            batch = batch.append_column(self.params.column, pa.array([], OUTPUTS_TYPE))
        outputs, keep, reasons = explode_outputs(batch, self.params.column)
        return Verdict(outputs, keep, reasons)
