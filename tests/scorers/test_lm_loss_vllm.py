"""The vLLM prompt-logprobs backend of lm_loss gives the torch backend's numbers (real vLLM on CPU)."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("vllm")

MODEL = Path(__file__).resolve().parents[2] / "data" / "models" / "tiny-llama"  # head dim 32: vLLM's CPU attention needs >= 32


@pytest.mark.slow
def test_vllm_backend_matches_torch_on_the_same_model() -> None:
    from curate.scorers.lm_loss import CausalLMScorer, VLLMLossScorer

    texts = [
        "Data curation decides what a model learns.",
        "数据清洗决定了模型学到什么。" * 3,
        " ".join(f"word{i}" for i in range(150)),  # longer than one window: exercises the overlap
    ]
    torch_scores = CausalLMScorer(str(MODEL), "cpu", 128, 32, 4096, "float32", 1).score(texts)
    before = {p.pid for p in _engine_cores()}
    scorer = VLLMLossScorer(MODEL, window=128, context=32, dtype="float32", kv_cache_gb=0.25)
    vllm_scores = scorer.score(texts)
    assert np.array_equal(torch_scores.tokens, vllm_scores.tokens)
    np.testing.assert_allclose(vllm_scores.loss, torch_scores.loss, rtol=2e-3)
    # close() stops the engine-core process now: left to interpreter exit, its watcher thread can abort a
    # process that also loaded Ray
    ours = [p for p in _engine_cores() if p.pid not in before]
    assert ours
    scorer.close()
    for process in ours:
        process.join(timeout=10)  # close() ends with SIGKILL for a core that lingers: give the kernel a moment
        assert not process.is_alive()


def _engine_cores() -> list[multiprocessing.Process]:
    return [p for p in multiprocessing.active_children() if p.name.startswith("EngineCore")]
