"""One schema per run: shards of JSONL inputs with and without nested fields scan together with polars."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from curate.engine.recipe import parse_recipe
from curate.engine.run_schema import conform, unify, unify_run
from curate.engine.runner import run_recipe


def _write(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def test_jsonl_with_and_without_nested_metadata_give_one_schema(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    _write(src / "a.jsonl", [{"id": f"a{i}", "text": f"alpha {i} " * (5 + 40 * (i % 2)), "metadata": {"lang": "en", "score": 0.5}} for i in range(4)])
    _write(src / "b.jsonl", [{"id": f"b{i}", "text": f"beta {i} " * 50} for i in range(4)])
    _write(src / "c.jsonl", [{"id": f"c{i}", "text": f"gamma {i} " * 50, "metadata": {"lang": "de", "tags": ["x"]}, "views": i} for i in range(4)])
    recipe = parse_recipe(f"name: s\ninput: {{paths: ['{src}/*.jsonl']}}\nstages:\n  - stage: text_length\n    params: {{min_chars: 100}}\n")
    out = tmp_path / "out"
    manifest = run_recipe(recipe, str(out), quiet=True)

    data = sorted((out / "data").glob("*.parquet"))
    rejected = sorted((out / "rejected").glob("*.parquet"))
    assert len({pq.read_schema(p).remove_metadata().to_string() for p in data}) == 1
    assert len({pq.read_schema(p).remove_metadata().to_string() for p in rejected}) == 1
    kept = pl.scan_parquet(data).collect()  # the scan the issue saw fail with `missing struct field`
    assert kept.columns == ["id", "text", "metadata", "views"]
    assert kept.schema["metadata"] == pl.Struct({"lang": pl.String, "score": pl.Float64, "tags": pl.List(pl.String)})
    assert kept.height == manifest["totals"]["docs_kept"] == 10
    by_id = {r["id"]: r for r in kept.to_dicts()}
    assert by_id["b0"]["metadata"] is None and by_id["b0"]["views"] is None
    assert by_id["a1"]["metadata"] == {"lang": "en", "score": 0.5, "tags": None}
    assert by_id["c3"]["views"] == 3
    dropped = pl.scan_parquet(rejected).collect()
    assert dropped.columns == ["id", "text", "metadata", "views", "drop_stage", "drop_reason"]
    assert dropped.height == 2
    assert unify_run(out) == 0  # a resumed run decides the same schema and rewrites nothing


def test_types_that_do_not_unify_become_strings() -> None:
    a = pa.table({"x": pa.array([1, 2]), "y": pa.array([None, None])})
    b = pa.table({"x": pa.array(["three"]), "y": pa.array([1.5])})
    schema = unify([a.schema, b.schema])
    assert schema.field("x").type == pa.string() and schema.field("y").type == pa.float64()
    assert conform(a, schema).column("x").to_pylist() == ["1", "2"]
    assert conform(b, schema).column("y").to_pylist() == [1.5]
