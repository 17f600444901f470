from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from curate.core.stage import Resources
from curate.engine.pipeline import run_in_memory
from curate.stages.hf_score import HFScore, HFScoreParams
from curate.stages.lm_loss import LMLoss, LMLossParams
from tests.scorers.tiny_models import tiny_lm_dir, tiny_regressor_dir, tiny_tokenizer  # noqa: F401

TEXTS = ["The quick brown fox jumps over the lazy dog.", "", "数据质量", "Python lists keep order. " * 20]


def test_lm_loss_stage_columns(tiny_lm_dir: Path) -> None:
    from curate.scorers.lm_loss import CausalLMScorer

    unit = pa.table({"id": ["a", "b", "c", "d"], "text": TEXTS})
    stage = LMLoss(LMLossParams(model=str(tiny_lm_dir), window=64, context=8), Resources(batch_size=3))
    kept, rejected = run_in_memory([("lm_loss", stage)], [unit])
    assert rejected is None
    loss = kept.column("lm_loss")
    assert loss.null_count == 1 and loss.to_pylist()[1] is None and kept.column("lm_tokens").to_pylist()[1] == 0
    direct = CausalLMScorer(tiny_lm_dir, window=64, context=8).score(TEXTS)
    np.testing.assert_allclose(np.asarray(loss.to_pylist(), dtype=float)[[0, 2, 3]], direct.loss[[0, 2, 3]], rtol=1e-5)
    np.testing.assert_allclose(kept.column("lm_ppl").to_numpy(zero_copy_only=False)[0], np.exp(direct.loss[0]), rtol=1e-5)


def test_hf_score_stage(tiny_regressor_dir: Path) -> None:
    unit = pa.table({"id": ["a", "b"], "text": ["hello", "world of text"]})
    kept, _ = run_in_memory([("edu", HFScore(HFScoreParams(model=str(tiny_regressor_dir), column="edu")))], [unit])
    assert kept.schema.field("edu").type == pa.float32() and kept.column("edu").null_count == 0


def test_cuda_device_declares_a_gpu() -> None:
    assert LMLoss(LMLossParams(model="m", device="cuda")).resources.gpus == 1.0
    assert LMLoss(LMLossParams(model="m")).resources.gpus == 0.0
    assert HFScore(HFScoreParams(model="m", device="cuda:0")).resources.gpus == 1.0
    shared = HFScore(HFScoreParams(model="m", device="cuda"), Resources(gpus=0.25))
    assert shared.resources.gpus == 0.25
    with pytest.raises(Exception, match="below window"):
        LMLossParams(model="m", window=8, context=8)


@pytest.mark.gpu
def test_lm_loss_on_cuda(tiny_lm_dir: Path) -> None:
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("needs CUDA")
    unit = pa.table({"id": ["a"], "text": TEXTS[:1]})
    kept, _ = run_in_memory([("lm", LMLoss(LMLossParams(model=str(tiny_lm_dir), device="cuda")))], [unit])
    assert kept.column("lm_loss").null_count == 0
