from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from curate.engine.pipeline import run_in_memory
from curate.scorers.fasttext_classifier import FastTextClassifier, TrainConfig, train
from curate.stages.fasttext_score import FastTextScore, FastTextScoreParams
from tests.scorers.tiny_models import two_sets


@pytest.fixture(scope="module")
def quality_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    good, bad = two_sets(100)
    path = tmp_path_factory.mktemp("ft") / "q.bin"
    train(good + bad, ["hq"] * 100 + ["lq"] * 100, path, TrainConfig(bucket=5_000))
    return path


def test_stage_writes_label_probability_equal_to_raw_fasttext(quality_model: Path) -> None:
    good, bad = two_sets(30)
    texts = [t.replace(" and ", "\nand ") for t in good] + bad
    units = [pa.table({"id": [f"d{i}" for i in range(60)], "text": texts})]
    stage = FastTextScore(FastTextScoreParams(model=str(quality_model), column="q"), None)
    kept, rejected = run_in_memory([("ft", stage)], units)
    assert rejected is None and kept.schema.field("q").type == pa.float32()
    raw = FastTextClassifier(quality_model).model
    labels, probs = raw.predict([t.replace("\n", " ") for t in texts], k=-1)
    expected = [p[list(l).index("__label__hq")] for l, p in zip(labels, probs)]
    np.testing.assert_allclose(kept.column("q").to_numpy(), expected, rtol=1e-6)
    assert kept.column("q").to_numpy()[:30].min() > 0.5 > kept.column("q").to_numpy()[30:].max()


def test_unknown_label_is_refused_at_setup(quality_model: Path) -> None:
    stage = FastTextScore(FastTextScoreParams(model=str(quality_model), label="nope"))
    with pytest.raises(ValueError, match="no label 'nope'"):
        stage.setup()
