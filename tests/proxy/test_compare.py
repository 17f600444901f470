"""A whole comparison on tiny data: report files, a verdict with its uncertainty for every metric."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from curate.core.errors import RecipeError
from curate.proxy.compare import compare
from curate.proxy.config import CompareConfig, load_compare_config

from .conftest import corpus


def test_compare_writes_report_with_uncertainty(shard, tmp_path):
    noisy = tmp_path / "noisy.parquet"
    docs = corpus()
    pq.write_table(pa.Table.from_pylist([{**d, "text": d["text"][::-1]} if i % 2 else d for i, d in enumerate(docs)]), noisy)
    cfg = CompareConfig.model_validate({
        "baseline": "clean",
        "candidates": {"clean": [shard], "noisy": [str(noisy)]},
        "tokenizer": {"vocab_size": 320},
        "model": {"hidden": 32, "layers": 1, "heads": 2, "kv_heads": 1, "intermediate": 64, "context": 32},
        "train": {"tokens": 4 * 32 * 6, "batch_size": 4, "lr": 0.01, "log_every": 2},
        "seeds": [0, 1],
        "eval": {"paths": [shard], "heldout_fraction": 0.2, "tasks": [], "bootstrap": 50},
    })
    report = compare(cfg, tmp_path / "out", quiet=True)
    out = tmp_path / "out"
    for name in ("report.json", "report.md", "loss_curves.png", "bpb_domains.png", "tokenizer.json"):
        assert (out / name).is_file(), name
    row = report["metrics"]["bpb/all"]
    assert len(row["clean"]["seeds"]) == 2 and row["clean"]["seed_std"] is not None
    assert set(row["noisy"]) >= {"delta", "se", "bootstrap_ci95", "verdict"}
    assert row["noisy"]["resolvable"] == pytest.approx(1.96 * row["noisy"]["se"])
    removed = report["data"]["clean"]["eval_overlap_removed"]
    assert removed > 0 and report["data"]["noisy"]["eval_overlap_removed"] > 0  # eval documents never reach training
    assert report["data"]["clean"]["documents"] + removed == len(docs)
    assert "removed from every candidate" in report["eval"]["overlap"]
    assert "bpb/all" in (out / "report.md").read_text() and json.loads((out / "report.json").read_text())["name"]
    again = compare(cfg, tmp_path / "out", quiet=True)  # finished runs are reused
    assert again["metrics"]["bpb/all"] == report["metrics"]["bpb/all"]


def test_config_errors_name_the_line(tmp_path):
    path = tmp_path / "cmp.yaml"
    path.write_text("baseline: raw\ncandidates:\n  a: [x.parquet]\n  b: [y.parquet]\nseeds: []\n")
    with pytest.raises(RecipeError, match=r"cmp.yaml:\d+: .*seeds"):
        load_compare_config(path)
    path.write_text("baseline: raw\ncandidates:\n  a: [x.parquet]\n  b: [y.parquet]\n")
    with pytest.raises(RecipeError, match="baseline 'raw' is not one of the candidates"):
        load_compare_config(path)


def test_shipped_recipe_validates():
    cfg = load_compare_config("recipes/proxy-compare.yaml")
    assert cfg.baseline in cfg.candidates and len(cfg.seeds) >= 2
    assert cfg.eval.paths == [] and cfg.controls == ["shuffle_0.5"]  # neutral eval set, a control to show resolving power


@pytest.mark.ray
def test_runs_on_ray_workers_match_local_runs(shard, tmp_path):
    spec = {
        "baseline": "a",
        "candidates": {"a": [shard], "b": [shard]},
        "tokenizer": {"vocab_size": 320},
        "model": {"hidden": 32, "layers": 1, "heads": 2, "kv_heads": 1, "intermediate": 64, "context": 32},
        "train": {"tokens": 4 * 32 * 4, "batch_size": 4, "lr": 0.01, "log_every": 2, "device": "cpu"},
        "seeds": [0, 1],
        "eval": {"paths": [shard], "heldout_fraction": 0.2, "tasks": [], "bootstrap": 20},
    }
    local = compare(CompareConfig.model_validate(spec), tmp_path / "local", quiet=True)
    ray_cfg = CompareConfig.model_validate({**spec, "placement": {"executor": "ray", "workers": 2}})
    on_ray = compare(ray_cfg, tmp_path / "ray", quiet=True)
    assert [(r["candidate"], r["seed"]) for r in on_ray["runs"]] == [("a", 0), ("a", 1), ("b", 0), ("b", 1)]
    for name in ("a", "b"):
        assert on_ray["metrics"]["bpb/all"][name]["seeds"] == pytest.approx(local["metrics"]["bpb/all"][name]["seeds"], rel=1e-4)
    assert (tmp_path / "ray" / "runs" / "b" / "seed1" / "eval.json").is_file()
