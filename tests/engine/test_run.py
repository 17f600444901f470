"""End-to-end runs through the CLI entry point: layout, counts, dedup rule, resume and refusal."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from corpora import BASIC_RECIPE

from curate.cli import main
from curate.core.errors import OutputError
from curate.engine.recipe import load_recipe
from curate.engine.runner import run_recipe


def shard_bytes(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.glob("*/part-*.parquet"))}


def test_run_writes_data_rejected_and_a_manifest_where_nothing_is_lost(corpus, write_recipe, tmp_path) -> None:
    out = tmp_path / "out"
    assert main(["run", str(write_recipe(BASIC_RECIPE.format(input=corpus))), "-o", str(out), "--quiet"]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    steps = {s["name"]: s for s in manifest["stages"]}
    assert list(steps) == ["read", "text_length", "exact_dedup", "length_cap"]
    for s in manifest["stages"]:
        assert s["docs_in"] == s["kept"] + s["dropped"]
    for before, after in zip(manifest["stages"], manifest["stages"][1:]):
        assert after["docs_in"] == before["kept"]
    kept = pq.read_table(out / "data").num_rows
    rejected = pq.read_table(out / "rejected")
    assert kept == manifest["totals"]["docs_kept"]
    assert kept + rejected.num_rows == manifest["totals"]["docs_in"] == 302
    assert steps["read"]["dropped"] == 2
    by_stage = rejected.group_by("drop_stage").aggregate([("id", "count")]).to_pydict()
    assert dict(zip(by_stage["drop_stage"], by_stage["id_count"])) == {
        name: s["dropped"] for name, s in steps.items() if s["dropped"]
    }
    assert not (out / "_work").exists()
    assert sorted(p.name for p in (out / "data").iterdir()) == [f"part-{i:05d}.parquet" for i in range(manifest["units"])]


def test_exact_dedup_keeps_the_first_in_input_order_and_names_it(corpus, write_recipe, tmp_path) -> None:
    out = tmp_path / "out"
    recipe = "name: d\ninput: {paths: ['%s'], rows_per_unit: 50}\nstages:\n  - stage: exact_dedup\n" % corpus
    main(["run", str(write_recipe(recipe)), "-o", str(out), "--quiet"])
    kept = pq.read_table(out / "data")
    texts = kept.column("text").to_pylist()
    assert len(texts) == len(set(t.lower() for t in texts))
    rejected = pq.read_table(out / "rejected")
    dups = [r for r in rejected.to_pylist() if r["drop_stage"] == "exact_dedup"]
    assert dups, "the fixture has exact duplicates"
    ids = kept.column("id").to_pylist()
    for row in dups:
        original = row["drop_reason"].removeprefix("exact_dedup:dup_of=")
        assert original in ids
        # the kept original comes earlier in input order than its duplicate
        assert int(original[1:]) < int(row["id"][1:])


def test_local_workers_give_byte_identical_shards(corpus, write_recipe, tmp_path) -> None:
    recipe = write_recipe(BASIC_RECIPE.format(input=corpus))
    main(["run", str(recipe), "-o", str(tmp_path / "one"), "--quiet"])
    main(["run", str(recipe), "-o", str(tmp_path / "two"), "--workers", "2", "--quiet"])
    one, two = shard_bytes(tmp_path / "one"), shard_bytes(tmp_path / "two")
    assert len(one) == 8 and one == two  # 4 units × (data, rejected)


@pytest.mark.ray
def test_ray_gives_the_same_bytes_as_local(corpus, write_recipe, tmp_path) -> None:
    recipe = write_recipe(BASIC_RECIPE.format(input=corpus))
    main(["run", str(recipe), "-o", str(tmp_path / "local"), "--quiet"])
    main(["run", str(recipe), "-o", str(tmp_path / "ray"), "--executor", "ray", "--workers", "2", "--quiet"])
    assert shard_bytes(tmp_path / "local") == shard_bytes(tmp_path / "ray")


def test_rerun_is_a_no_op_and_a_changed_recipe_is_refused(corpus, write_recipe, tmp_path, capsys) -> None:
    out = tmp_path / "out"
    recipe = write_recipe(BASIC_RECIPE.format(input=corpus))
    main(["run", str(recipe), "-o", str(out), "--quiet"])
    before = shard_bytes(out)
    assert main(["run", str(recipe), "-o", str(out)]) == 0
    assert "already complete" in capsys.readouterr().err
    changed = write_recipe(BASIC_RECIPE.format(input=corpus).replace("min_chars: 70", "min_chars: 120"), "changed.yaml")
    with pytest.raises(OutputError, match="different recipe"):
        run_recipe(load_recipe(changed), str(out), quiet=True)
    assert main(["run", str(changed), "-o", str(out), "--quiet"]) == 2
    assert shard_bytes(out) == before
    assert main(["run", str(changed), "-o", str(out), "--quiet", "--overwrite"]) == 0
    assert shard_bytes(out) != before


def test_input_override_and_missing_columns_are_checked_before_work(corpus, write_recipe, tmp_path, capsys) -> None:
    recipe = write_recipe("name: x\nstages:\n  - stage: text_length\n")
    out = tmp_path / "out"
    assert main(["run", str(recipe), "-o", str(out), "--input", str(corpus / "c.parquet"), "--quiet"]) == 0
    assert json.loads((out / "manifest.json").read_text())["inputs"] == {
        "files": 1, "examples": [str(corpus / "c.parquet")], "units_file": "units.jsonl", "fingerprints_file": "inputs.json"
    }
    assert main(["run", str(recipe), "-o", str(tmp_path / "o2")]) == 2
    assert "no `input`" in capsys.readouterr().err


def test_inspect_summarises_a_run(corpus, write_recipe, tmp_path, capsys) -> None:
    out = tmp_path / "out"
    main(["run", str(write_recipe(BASIC_RECIPE.format(input=corpus))), "-o", str(out), "--quiet"])
    capsys.readouterr()
    assert main(["inspect", str(out)]) == 0
    text = capsys.readouterr().out
    assert "exact_dedup" in text and "top drop reasons of read" in text and "sample rows of data/" in text
