"""Data parallel on the CPU: two gloo processes sharing each global batch follow one process's loss curve."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file

from curate.proxy.distributed import train_ddp
from curate.proxy.model import ProxyConfig
from curate.proxy.train import TrainConfig, train


def test_two_gloo_processes_match_one_process(stream, tokenizer, tmp_path):
    config = ProxyConfig(vocab_size=tokenizer.get_vocab_size(), hidden=32, layers=2, heads=2, kv_heads=1, intermediate=64, context=32)
    cfg = TrainConfig(tokens=8 * 32 * 12, batch_size=8, grad_accum=2, lr=0.01, log_every=2, device="cpu")
    one = train(config, cfg, stream, tmp_path / "one")
    log = train_ddp(2, config, cfg, stream, tmp_path / "two")
    assert log["data_parallel"] == 2 and log["steps"] == one.steps == 6
    single = [h["loss"] for h in one.history]
    assert single[-1] < single[0] - 0.3  # it learned something, so the curves say something
    assert [h["loss"] for h in log["history"]] == pytest.approx(single, abs=2e-4)
    a = load_file(str(tmp_path / "one" / "checkpoint" / "model.safetensors"))
    b = load_file(str(tmp_path / "two" / "checkpoint" / "model.safetensors"))
    assert all(torch.allclose(a[k], b[k], atol=1e-4) for k in a)
    assert json.loads((tmp_path / "one" / "log.json").read_text())["data_parallel"] == 1


def test_batch_must_split_evenly_across_processes(stream, tokenizer, tmp_path):
    config = ProxyConfig(vocab_size=tokenizer.get_vocab_size(), hidden=32, layers=1, heads=2, kv_heads=1, intermediate=64, context=32)
    cfg = TrainConfig(tokens=3 * 32 * 2, batch_size=3, lr=0.01, device="cpu")
    with pytest.raises(Exception, match="multiple of the 2 data-parallel processes"):
        train_ddp(2, config, cfg, stream, tmp_path / "odd")
