from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

TEXTS = ["short", "a somewhat longer text about packages and kernels " * 10, "数据质量", "middle length text here"]


def _direct(path: Path, texts: list[str], max_length: int):
    import torch
    import transformers

    tok = transformers.AutoTokenizer.from_pretrained(str(path))
    model = transformers.AutoModelForSequenceClassification.from_pretrained(str(path)).eval()
    out = []
    for t in texts:  # one at a time: no padding at all
        ids = torch.tensor([tok(t, truncation=True, max_length=max_length)["input_ids"]])
        with torch.no_grad():
            out.append(model(input_ids=ids).logits[0].float())
    return torch.stack(out)


def test_regression_head_scores_raw_output_in_input_order(tiny_regressor_dir: Path) -> None:
    from curate.scorers.hf_classifier import HFClassifier

    scores = HFClassifier(tiny_regressor_dir, max_length=32, batch_size=3).score(TEXTS)
    np.testing.assert_allclose(scores, _direct(tiny_regressor_dir, TEXTS, 32)[:, 0].numpy(), rtol=1e-4, atol=1e-5)


def test_classifier_scores_probability_of_label(tiny_classifier_dir: Path) -> None:
    import torch

    from curate.scorers.hf_classifier import HFClassifier

    expected = torch.softmax(_direct(tiny_classifier_dir, TEXTS, 16), dim=-1).numpy()
    pos = HFClassifier(tiny_classifier_dir, max_length=16, batch_size=2).score(TEXTS)
    neg = HFClassifier(tiny_classifier_dir, max_length=16, batch_size=2, label="LABEL_0").score(TEXTS)
    np.testing.assert_allclose(pos, expected[:, 1], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(neg, expected[:, 0], rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="no label"):
        HFClassifier(tiny_classifier_dir, label="nope")


def test_missing_model_says_what_to_do(tmp_path: Path) -> None:
    pytest.importorskip("transformers")
    from curate.scorers.hf_classifier import HFClassifier

    with pytest.raises(FileNotFoundError, match="download"):
        HFClassifier(tmp_path / "absent")
