"""The trainer learns, resumes to identical weights, and exports a model transformers loads unchanged."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from curate.proxy.model import ProxyConfig
from curate.proxy.train import TrainConfig, export_hf, load_checkpoint, train, wsd_lr

SMALL = ProxyConfig(vocab_size=320, hidden=64, layers=2, heads=4, kv_heads=2, intermediate=128, context=64)


def unigram_entropy(stream: np.ndarray) -> float:
    """Entropy (nats) of the token frequencies: the loss of the best model that ignores context."""
    p = np.bincount(stream).astype(float)
    p = p[p > 0] / p.sum()
    return float(-(p * np.log(p)).sum())


def test_training_beats_unigram_entropy(stream, tmp_path):
    cfg = TrainConfig(tokens=8 * 64 * 20, batch_size=8, lr=2e-2, log_every=5)
    result = train(SMALL, cfg, stream, tmp_path)
    assert result.history[0]["loss"] > result.final_loss
    assert result.final_loss < unigram_entropy(stream) - 0.5  # it uses context, not just frequencies
    assert (tmp_path / "log.json").is_file() and result.tokens_per_s > 0


def test_resume_gives_identical_weights(stream, tmp_path):
    cfg = TrainConfig(tokens=2 * 64 * 2 * 10, batch_size=2, grad_accum=2, lr=5e-3, log_every=3, checkpoint_every=4)
    straight = train(SMALL, cfg, stream, tmp_path / "straight")
    first = train(SMALL, cfg, stream, tmp_path / "killed", stop_after=5)
    assert first.steps == 5
    resumed = train(SMALL, cfg, stream, tmp_path / "killed")
    assert resumed.steps == straight.steps
    a, b = straight.model.state_dict(), resumed.model.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert [h["loss"] for h in straight.history] == [h["loss"] for h in resumed.history]
    loaded, state = load_checkpoint(tmp_path / "killed")
    assert state["step"] == straight.steps
    assert all(torch.equal(a[k], loaded.state_dict()[k]) for k in a)


def test_wsd_schedule_shape():
    cfg = TrainConfig(lr=1.0, warmup=0.1, decay=0.2, min_lr_ratio=0.1)
    lrs = [wsd_lr(s, 100, cfg) for s in range(100)]
    assert lrs[0] == pytest.approx(0.1) and lrs[9] == pytest.approx(1.0)
    assert lrs[10:80] == [1.0] * 70
    assert lrs[-1] == pytest.approx(0.1) and lrs[85] < 1.0


def test_export_loads_in_transformers_with_identical_logits(stream, tokenizer, tmp_path):
    transformers = pytest.importorskip("transformers")
    try:
        from transformers import LlamaForCausalLM
    except Exception as exc:  # a broken optional vision stack makes the lazy import fail
        pytest.skip(f"transformers cannot import LlamaForCausalLM here: {exc}")
    cfg = TrainConfig(tokens=4 * 64 * 5, batch_size=4, log_every=5)
    model = train(SMALL, cfg, stream, tmp_path / "run").model.eval()
    folder = export_hf(model, tokenizer, tmp_path / "hf")
    hf = LlamaForCausalLM.from_pretrained(folder).eval()
    ids = torch.from_numpy(stream[:SMALL.context].astype(np.int64))[None]
    with torch.no_grad():
        ours, theirs = model(ids), hf(ids).logits
    torch.testing.assert_close(ours, theirs, rtol=1e-4, atol=1e-4)
    tok = transformers.AutoTokenizer.from_pretrained(folder)
    assert tok("the cat sat").input_ids == tokenizer.encode("the cat sat").ids


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_bf16_training_on_cuda(stream, tmp_path):
    cfg = TrainConfig(tokens=8 * 64 * 30, batch_size=8, lr=1e-2, device="cuda")
    result = train(SMALL, cfg, stream, tmp_path)
    assert next(result.model.parameters()).is_cuda
    assert result.final_loss < result.history[0]["loss"]
