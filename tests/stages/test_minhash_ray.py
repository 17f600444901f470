"""MinHash dedup gives the same bytes on Ray, on a local process pool and in one process (recipes/dedup.yaml)."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from minhash_fixtures import near_duplicate_corpus

from curate.cli import main

RECIPE = Path(__file__).resolve().parents[2] / "recipes" / "dedup.yaml"


def _shards(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.glob("*/part-*.parquet"))}


@pytest.mark.ray
def test_dedup_recipe_is_identical_on_ray_and_local(tmp_path: Path) -> None:
    table = near_duplicate_corpus(clusters=150, seed=3).table
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    step = -(-table.num_rows // 4)
    for i in range(4):
        pq.write_table(table.slice(i * step, step), corpus / f"part-{i}.parquet")
    args = ["run", str(RECIPE), "--input", str(corpus), "--quiet"]
    assert main(args + ["-o", str(tmp_path / "local")]) == 0
    assert main(args + ["-o", str(tmp_path / "ray"), "--executor", "ray", "--workers", "2"]) == 0
    assert main(args + ["-o", str(tmp_path / "pool"), "--workers", "2"]) == 0  # reduce tasks on the process pool
    local = _shards(tmp_path / "local")
    assert len(local) == 8 and local == _shards(tmp_path / "ray") == _shards(tmp_path / "pool")
    assert pq.read_table(tmp_path / "local" / "rejected").num_rows > 0
    # the clustering ran as Ray tasks (a node id recorded), not on the driver; locally, in this process
    ray_steps = _reduce_steps(tmp_path / "ray")
    assert {"bands", "candidates", "verify", "large-star-0", "label", "state"} <= set(ray_steps)
    assert all(step["nodes"] == 1 for step in ray_steps.values())
    assert ray_steps["candidates"]["tasks"] == 2  # one partition per worker at this size
    assert all(step["nodes"] == 0 and step["processes"] == 1 for step in _reduce_steps(tmp_path / "local").values())


def _reduce_steps(out: Path) -> dict:
    manifest = json.loads((out / "manifest.json").read_text())
    return next(s for s in manifest["stages"] if s["name"] == "minhash_dedup")["reduce_steps"]
