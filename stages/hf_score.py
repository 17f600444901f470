"""``hf_score``: score documents with a Hugging Face sequence classifier (RoBERTa quality, FineWeb-Edu).

Writes one float32 column: the regression output of single-output models, or the probability of
``label`` for classifiers. Never drops; ``score_buckets`` ranks the column. Runs on CPU or CUDA
(``device: cuda`` declares one GPU, so Ray runs it as a GPU actor pool); the model loads once per worker.
"""

from __future__ import annotations

from typing import Literal

import pyarrow as pa
from pydantic import Field

from curate.core.registry import register
from curate.core.schema import TEXT
from curate.core.stage import Params, Resources, TransformStage
from curate.stages.lib.columns import set_column
from curate.stages.lib.device import cpu_threads, with_device


class HFScoreParams(Params):
    model: str = Field(description="Local directory of an AutoModelForSequenceClassification checkpoint.")
    column: str = Field("hf_score", description="Name of the score column written.")
    label: str | int | None = Field(
        None, description="Label (name or index) whose probability is the score; None: positive class of a binary "
        "model, or the raw output of a one-output regression head.",
    )
    max_length: int = Field(512, ge=8, description="Tokens per document read by the model; the rest is cut.")
    batch_size: int = Field(32, ge=1, description="Documents per forward pass.")
    device: str = Field("cpu", description="torch device: cpu, cuda or cuda:N (cuda declares one GPU).")
    dtype: Literal["float32", "bfloat16", "float16"] = Field("float32", description="Weights dtype.")


@register
class HFScore(TransformStage):
    name = "hf_score"
    Params = HFScoreParams
    needs = (TEXT,)
    default_resources = Resources(cpus=1.0, batch_size=1024)

    def __init__(self, params: HFScoreParams | None = None, resources: Resources | None = None) -> None:
        super().__init__(params, resources)
        self.resources = with_device(self.resources, self.params.device)

    def setup(self) -> None:
        from curate.scorers.hf_classifier import HFClassifier

        p = self.params
        self._model = HFClassifier(p.model, p.device, p.max_length, p.batch_size, p.dtype, p.label, cpu_threads(self.resources, p.device))

    def columns_added(self) -> dict[str, pa.DataType]:
        return {self.params.column: pa.float32()}

    def transform(self, batch: pa.Table) -> pa.Table:
        score = self._model.score(batch.column(TEXT).to_pylist())
        return set_column(batch, self.params.column, pa.array(score, pa.float32()))
