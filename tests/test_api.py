"""The Python API (curate/api.py): in-memory runs with global stages, runs over files, the README example."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import curate
from curate.core.errors import RecipeError
from curate.engine.recipe import parse_recipe
from curate.engine.runner import run_recipe

ROOT = Path(__file__).resolve().parents[1]


def _table() -> pa.Table:
    texts = ["the same long document about rivers and boats " * 3, "tiny", "the same long document about rivers and boats " * 3,
             "a different document, about mountains and the snow on them, long enough " * 2]
    return pa.table({"id": ["a", "b", "c", "d"], "text": texts})


def test_import_is_lazy() -> None:
    code = "import sys, curate.core.errors; print('curate.api' in sys.modules, 'polars' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_apply_runs_global_stages_with_prefixed_reasons() -> None:
    pipe = curate.Pipeline([curate.stage("text_length", min_chars=20), curate.stage("exact_dedup")])
    result = pipe.apply(_table(), units=2)
    assert result.kept.column("id").to_pylist() == ["a", "d"]
    assert result.rejected.column("drop_reason").to_pylist() == ["text_length:too_short", "exact_dedup:dup_of=a"]
    assert result.stats["exact_dedup"]["docs_in"] == 3 and result.stats["exact_dedup"]["dropped"] == 1


def test_apply_on_polars_returns_polars_and_step_names() -> None:
    frame = pl.from_arrow(_table()).drop("id")
    result = curate.apply([("short", curate.stage("text_length", min_chars=20)), ("near", curate.stage("minhash_dedup"))], frame)
    assert isinstance(result.kept, pl.DataFrame)
    assert result.kept.height == 2
    assert sorted(result.rejected["drop_stage"].to_list()) == ["near", "short"]
    assert sorted(r.split(":")[0] for r in result.rejected["drop_reason"]) == ["minhash_dedup", "text_length"]


def test_stage_rejects_unknown_parameter() -> None:
    with pytest.raises(RecipeError, match="min_char"):
        curate.stage("text_length", min_char=3)


def test_pipeline_run_equals_recipe_run(tmp_path: Path, corpus: Path) -> None:
    pipe = curate.Pipeline([curate.stage("text_length", min_chars=30), curate.stage("exact_dedup")], name="t", seed=3)
    manifest = pipe.run(str(corpus / "*"), str(tmp_path / "api"), workers=2)
    recipe = parse_recipe(f"""
name: t
seed: 3
input: {{paths: ["{corpus}/*"]}}
stages:
  - stage: text_length
    params: {{min_chars: 30}}
  - stage: exact_dedup
""")
    other = run_recipe(recipe, str(tmp_path / "cli"), quiet=True)
    assert manifest["fingerprint"] == other["fingerprint"]
    for sub in ("data", "rejected"):
        for part in sorted((tmp_path / "cli" / sub).glob("*.parquet")):
            assert pq.read_table(part).equals(pq.read_table(tmp_path / "api" / sub / part.name))
    run = curate.read_run(tmp_path / "api")
    assert run.data.select(pl.len()).collect().item() == manifest["totals"]["docs_kept"]
    assert run.rejected.select(pl.len()).collect().item() == manifest["totals"]["docs_rejected"]


def test_from_recipe_keeps_steps() -> None:
    pipe = curate.Pipeline.from_recipe(ROOT / "recipes" / "sample.yaml")
    assert [s for s, _ in pipe.steps][-3:] == ["quality_fasttext", "score_buckets", "domain_tag"]
    assert pipe.recipe().stages[8].name == "quality_fasttext"


def test_readme_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Python API", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.DOTALL).group(1)
    code = code.replace("out/api-demo", str(tmp_path / "api-demo"))
    monkeypatch.chdir(ROOT)
    scope: dict = {}
    exec(compile(code, "README.md", "exec"), scope)  # noqa: S102 - the README example is the test
    assert scope["result"].rejected["drop_reason"].to_list()[0] == "text_length:too_short"
    assert scope["result"].rejected["drop_reason"].to_list()[1].startswith("exact_dedup:dup_of=")
    assert scope["manifest"]["totals"]["docs_kept"] == scope["run"].data.select(pl.len()).collect().item() > 0
