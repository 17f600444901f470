from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from curate.scorers.fasttext_classifier import (
    FastTextClassifier,
    TrainConfig,
    flatten,
    save_report,
    train,
)
from tests.scorers.tiny_models import two_sets


def test_trained_classifier_separates_two_text_sets(tmp_path: Path) -> None:
    good, bad = two_sets()
    report = train(good + bad, ["hq"] * len(good) + ["lq"] * len(bad), tmp_path / "q.bin", TrainConfig(bucket=10_000))
    assert report.metrics["hq"].precision > 0.95 and report.metrics["hq"].recall > 0.95
    assert report.valid_examples == 40 and report.labels == {"hq": 180, "lq": 180}
    model = FastTextClassifier(tmp_path / "q.bin")
    unseen_good = pa.array(["The parser documentation explains how the kernel handles errors\nand state."])
    unseen_bad = pa.array(["cheap casino bonus CLICK HERE win money now !!!"])
    assert model.label_probability(unseen_good, "hq")[0] > 0.8
    assert model.label_probability(unseen_bad, "__label__hq")[0] < 0.2
    labels, probs = model.probabilities(pa.array(good[:5] + bad[:5]))
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-3)
    assert list(model.top_label(pa.array(good[:5] + bad[:5]))[0]) == ["hq"] * 5 + ["lq"] * 5


def test_training_is_deterministic_and_report_saved(tmp_path: Path) -> None:
    good, bad = two_sets(60)
    digests = []
    for name in ("a.bin", "b.bin"):
        train(good + bad, ["hq"] * 60 + ["lq"] * 60, tmp_path / name, TrainConfig(bucket=5_000, seed=3))
        digests.append(hashlib.sha256((tmp_path / name).read_bytes()).hexdigest())
    assert digests[0] == digests[1]
    report = train(good + bad, ["hq"] * 60 + ["lq"] * 60, tmp_path / "c.ftz", TrainConfig(bucket=5_000))
    path = save_report(report, tmp_path / "c.ftz")
    assert path.name == "c.ftz.metrics.json"
    assert set(json.loads(path.read_text())["metrics"]) == {"hq", "lq"}
    assert sorted(FastTextClassifier(tmp_path / "c.ftz").labels) == ["__label__hq", "__label__lq"]


def test_flatten_and_errors(tmp_path: Path) -> None:
    assert flatten(pa.array(["a\nb\r\n\nc", "abcdef"]), max_chars=4).to_pylist() == ["a b\r", "abcd"]
    assert flatten(pa.array(["a\nb\r\n\nc"])).to_pylist() == ["a b\r  c"]
    with pytest.raises(ValueError, match="two labels"):
        train(["a", "b"], ["x", "x"], tmp_path / "m.bin")
    with pytest.raises(FileNotFoundError, match="train-classifier"):
        FastTextClassifier(tmp_path / "missing.bin")
