"""Presets, the planner, the memory-mapped token files, the shuffle control and the train CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest

from curate.cli.app import main
from curate.core.errors import RecipeError
from curate.core.hashing import hash_strings
from curate.proxy.config import CompareConfig, ModelShape
from curate.proxy.data import read_documents, shuffle_words, token_stream, write_tokens
from curate.proxy.plan import PRESETS, plan


def test_presets_fill_the_shape_and_fields_win():
    shape = ModelShape(preset="60M", context=512)
    assert (shape.hidden, shape.layers, shape.heads, shape.context) == (384, 16, 12, 512)
    assert set(PRESETS) == {"GPT-S-1.4M", "20M", "60M", "150M"}
    with pytest.raises(ValueError, match="unknown model preset '7B'"):
        ModelShape(preset="7B")


def test_plan_counts_runs_and_time(shard):
    cfg = CompareConfig.model_validate({
        "baseline": "a", "candidates": {"a": [shard], "b": [shard]}, "seeds": [0, 1, 2], "controls": ["shuffle_0.5"],
        "tokenizer": {"vocab_size": 320}, "model": {"hidden": 32, "layers": 1, "heads": 2, "kv_heads": 1, "intermediate": 64, "context": 32},
        "train": {"tokens": 4 * 32 * 10, "batch_size": 4}, "eval": {"tasks": []},
    })
    result = plan(cfg, device="cpu")
    assert result["runs"] == 9 and result["tokens_per_run"] == 1280  # (2 candidates + 1 control) × 3 seeds
    assert result["tokens_per_s"] > 0
    assert result["train_seconds"] == pytest.approx(9 * 1280 / result["tokens_per_s"])


def test_token_file_matches_the_in_memory_stream(shard, tokenizer, tmp_path):
    texts = read_documents([shard]).column("text").to_pylist()
    mm, meta = write_tokens(tokenizer, [shard], tmp_path / "t.bin", key="k")
    assert isinstance(mm, np.memmap) and mm.dtype == np.uint16
    assert np.array_equal(np.asarray(mm, dtype=np.int32), token_stream(tokenizer, texts)[: len(mm)])
    assert meta == {"documents": len(texts), "eval_overlap_removed": 0, "tokens": len(mm), "key": "k"}
    again, _ = write_tokens(tokenizer, [shard], tmp_path / "t.bin", key="k")  # reused, not rewritten
    assert again.filename == mm.filename
    with pytest.raises(RecipeError, match="no documents to train on"):
        write_tokens(tokenizer, [shard], tmp_path / "none.bin", exclude=hash_strings(texts))  # all of it is eval


def test_shuffle_control_keeps_words_and_lines():
    texts = [f"doc {i} alpha beta gamma delta\nsecond line of {i} here" for i in range(200)]
    out = shuffle_words(texts, 0.5)
    changed = [a != b for a, b in zip(texts, out)]
    assert 70 < sum(changed) < 130  # about half, chosen by hash
    for a, b in zip(texts, out):
        assert [sorted(line.split()) for line in a.split("\n")] == [sorted(line.split()) for line in b.split("\n")]
    assert shuffle_words(texts, 0.5) == out  # deterministic


def test_train_cli_writes_a_token_file_and_a_model(shard, tmp_path, capsys):
    out = tmp_path / "run"
    rc = main(["proxy", "train", shard, "-o", str(out), "--vocab-size", "320", "--tokens", "1024", "--batch-size", "4",
               "--hidden", "32", "--layers", "1", "--heads", "2", "--kv-heads", "1", "--intermediate", "64", "--context", "32",
               "--device", "cpu", "--quiet"])
    assert rc == 0 and (out / "tokens.bin").is_file() and (out / "hf" / "config.json").is_file()
    assert json.loads((out / "log.json").read_text())["tokens"] == 1024
