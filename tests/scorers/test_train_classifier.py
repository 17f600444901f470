from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
from corpora import write_jsonl, write_parquet

from curate.cli.classify import register_cli
from curate.core.errors import InputError
from curate.engine.recipe import load_recipe
from tests.scorers.tiny_models import two_sets

ROOT = Path(__file__).resolve().parents[2]


def _cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="curate")
    register_cli(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


def test_positive_negative_sets(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    good, bad = two_sets(100)
    write_parquet(tmp_path / "good.parquet", [{"id": f"g{i}", "body": t} for i, t in enumerate(good)])
    write_jsonl(tmp_path / "bad.jsonl.gz", [{"id": f"b{i}", "body": t} for i, t in enumerate(bad)])
    model = tmp_path / "m" / "quality.bin"
    argv = ["train-classifier", "-o", str(model), "--positive", str(tmp_path / "good.parquet"),
            "--negative", str(tmp_path / "bad.jsonl.gz"), "--text-column", "body", "--bucket", "5000"]
    assert _cli(argv) == 0
    out = capsys.readouterr().out
    assert "precision" in out and "recall" in out
    metrics = json.loads(Path(f"{model}.metrics.json").read_text())
    assert metrics["metrics"]["hq"]["precision"] > 0.95 and metrics["metrics"]["lq"]["recall"] > 0.95


def test_label_column(tmp_path: Path) -> None:
    good, bad = two_sets(60)
    rows = [{"text": t, "label": "tech"} for t in good] + [{"text": t, "label": "spam"} for t in bad]
    write_parquet(tmp_path / "l.parquet", rows + [{"text": "unlabelled", "label": None}])
    model = tmp_path / "d.ftz"
    assert _cli(["train-classifier", "-o", str(model), "--data", str(tmp_path / "l.parquet"), "--bucket", "5000"]) == 0
    assert set(json.loads(Path(f"{model}.metrics.json").read_text())["labels"]) == {"tech", "spam"}
    with pytest.raises(InputError, match="no label column 'kind'"):
        _cli(["train-classifier", "-o", str(model), "--data", str(tmp_path / "l.parquet"), "--label-column", "kind"])


def test_scorers_recipe_validates() -> None:
    recipe = load_recipe(ROOT / "recipes" / "scorers.yaml")
    assert [s.stage for s in recipe.stages][-3:] == ["domain_tag", "lm_loss", "loss_buckets"]
