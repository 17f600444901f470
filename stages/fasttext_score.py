"""``fasttext_score``: score every document with a fastText classifier (DCLM-style quality, or any other).

Writes the probability of one chosen label into a float32 column; it never drops. Deciding is later:
``score_buckets`` ranks the column, or a threshold stage cuts on it. The model loads once per worker.
"""

from __future__ import annotations

import pyarrow as pa
from pydantic import Field

from curate.core.registry import register
from curate.core.schema import TEXT
from curate.core.stage import Params, Resources, TransformStage
from curate.stages.lib.columns import set_column


class FastTextScoreParams(Params):
    model: str = Field(description="Path of a supervised fastText model (.bin or .ftz), e.g. from `curate train-classifier`.")
    label: str = Field("hq", description="Label whose probability is the score (with or without `__label__`).")
    column: str = Field("fasttext_score", description="Name of the score column written.")
    max_chars: int | None = Field(
        None, ge=1, description="Score only the first this many characters of each document (None: all)."
    )


@register
class FastTextScore(TransformStage):
    name = "fasttext_score"
    Params = FastTextScoreParams
    needs = (TEXT,)
    default_resources = Resources(cpus=1.0, batch_size=8192)

    def setup(self) -> None:
        from curate.scorers.fasttext_classifier import FastTextClassifier, label_name

        self._model = FastTextClassifier(self.params.model)
        if label_name(self.params.label) not in self._model.labels:
            raise ValueError(
                f"fasttext_score: model {self.params.model} has no label {self.params.label!r}; "
                f"its labels are {self._model.labels} — set `label` to one of them"
            )

    def columns_added(self) -> dict[str, pa.DataType]:
        return {self.params.column: pa.float32()}

    def transform(self, batch: pa.Table) -> pa.Table:
        score = self._model.label_probability(batch.column(TEXT), self.params.label, self.params.max_chars)
        return set_column(batch, self.params.column, pa.array(score, pa.float32()))

