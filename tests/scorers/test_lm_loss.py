from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from curate.scorers.lm_loss import windows

DOCS = [
    "The quick brown fox jumps over the lazy dog near the river bank. " * 6,
    "Python lists keep their order.",
    "数据质量决定了模型的上限。",
    "",
    "x",
]


@pytest.mark.parametrize("n,window,context", [(1, 8, 2), (8, 8, 2), (9, 8, 2), (50, 8, 1), (100, 16, 15)])
def test_windows_score_every_position_once(n: int, window: int, context: int) -> None:
    scored = []
    for start, end, first in windows(n, window, context):
        assert end - start <= window and start < first <= end
        assert first - start >= (1 if start == 0 else context)
        scored += list(range(first, end))
    assert scored == list(range(1, n))


def _hand_loss(model, tokenizer, text: str) -> tuple[float, int]:
    """Mean next-token NLL computed by hand: one forward, log-softmax, pick the true next tokens."""
    import torch

    ids = torch.tensor([tokenizer(text)["input_ids"]])
    with torch.no_grad():
        logp = torch.log_softmax(model(input_ids=ids).logits[0, :-1].double(), dim=-1)
    picked = logp[torch.arange(ids.shape[1] - 1), ids[0, 1:]]
    return float(-picked.mean()), ids.shape[1] - 1


def test_loss_matches_hand_computed(tiny_lm_dir: Path) -> None:
    import transformers

    from curate.scorers.lm_loss import CausalLMScorer

    scorer = CausalLMScorer(tiny_lm_dir, window=256, context=32, batch_tokens=512)
    result = scorer.score(DOCS)
    model = transformers.AutoModelForCausalLM.from_pretrained(str(tiny_lm_dir)).eval()
    tok = transformers.AutoTokenizer.from_pretrained(str(tiny_lm_dir))
    for i in (0, 1, 2):
        loss, count = _hand_loss(model, tok, DOCS[i])
        assert result.tokens[i] == count
        assert result.loss[i] == pytest.approx(loss, rel=1e-5)
        assert result.bits_per_byte[i] == pytest.approx(loss * count / math.log(2) / len(DOCS[i].encode()), rel=1e-5)
    assert np.isnan(result.loss[3]) and result.tokens[3] == 0  # empty text: only BOS, nothing to score
    assert result.tokens[4] == 1
    np.testing.assert_allclose(result.perplexity[:3], np.exp(result.loss[:3]))


def test_batching_and_windows_do_not_change_short_docs(tiny_lm_dir: Path) -> None:
    from curate.scorers.lm_loss import CausalLMScorer

    together = CausalLMScorer(tiny_lm_dir, window=256, context=32, batch_tokens=4096).score(DOCS)
    alone = [CausalLMScorer(tiny_lm_dir, window=256, context=32, batch_tokens=64).score([d]) for d in DOCS[:3]]
    for i, r in enumerate(alone):
        assert r.loss[0] == pytest.approx(together.loss[i], rel=1e-5)
    windowed = CausalLMScorer(tiny_lm_dir, window=16, context=4, batch_tokens=64).score(DOCS[:1])
    assert windowed.tokens[0] == together.tokens[0]  # every token still scored exactly once
    assert windowed.loss[0] == pytest.approx(together.loss[0], rel=0.2)  # less context, similar loss


@pytest.mark.gpu
def test_cuda_matches_cpu(tiny_lm_dir: Path) -> None:
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("needs CUDA")
    from curate.scorers.lm_loss import CausalLMScorer

    cpu = CausalLMScorer(tiny_lm_dir, window=256, context=32).score(DOCS)
    gpu = CausalLMScorer(tiny_lm_dir, device="cuda", window=256, context=32).score(DOCS)
    np.testing.assert_allclose(gpu.loss[:3], cpu.loss[:3], rtol=1e-3)
