"""`curate validate`: every problem in one pass, file:line: field, did-you-mean, input schemas, files."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from curate.cli.app import main
from curate.engine.validate import check_recipe_file

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def jsonl(tmp_path: Path) -> Path:
    path = tmp_path / "in" / "docs.jsonl.gz"
    path.parent.mkdir()
    rows = [{"id": f"d{i}", "content": f"document number {i} " * 20, "url": f"https://x.org/{i}"} for i in range(5)]
    path.write_bytes(gzip.compress("".join(json.dumps(r) + "\n" for r in rows).encode()))
    return path


def test_every_problem_at_once_with_lines_and_suggestions(write_recipe, jsonl: Path, tmp_path: Path) -> None:
    recipe = write_recipe(f"""name: bad
input:
  paths: ["{jsonl.parent}/*.jsonl.gz", "{tmp_path}/nowhere/*.parquet"]
  text_column: contnet
stages:
  - stage: minhash
  - stage: text_length
    params: {{min_char: 3}}
  - stage: domain_tag
    params: {{model: {tmp_path}/nope.ftz}}
  - stage: score_buckets
    params: {{columns: [fasttext_quality]}}
    resources: {{batch_sise: 3}}
  - stage: loss_buckets
""")
    problems = check_recipe_file(recipe)
    src = str(recipe)
    assert problems[0] == f"{src}:6: stages[0].stage: unknown stage 'minhash' (did you mean 'minhash_dedup'?); `curate stages` lists them"
    assert problems[1] == f"{src}:8: stages[1].params.min_char: Extra inputs are not permitted (did you mean 'min_chars'?)"
    assert problems[2].startswith(f"{src}:10: stages[2].params.model: no file or folder at '{tmp_path}/nope.ftz'")
    assert problems[3] == f"{src}:13: stages[3].resources.batch_sise: Extra inputs are not permitted (did you mean 'batch_size'?)"
    assert problems[4] == f"{src}:4: input.text_column: {jsonl} has no column 'contnet' (did you mean 'content'?); its columns: id, content, url"
    assert problems[5].startswith(f"{src}:3: input.paths[1]: input '{tmp_path}/nowhere/*.parquet' matches no")
    assert problems[6].startswith(f"{src}:14: stages[4] (loss_buckets): needs column(s) ")
    assert len(problems) == 7


def test_column_chain_uses_the_input_schema(write_recipe, jsonl: Path) -> None:
    needs_url = f"""name: ok
input: {{paths: ["{jsonl}"], text_column: content}}
stages:
  - stage: domain_tag
    params: {{rules: {{x.org: test}}}}
"""
    assert check_recipe_file(write_recipe(needs_url)) == []
    without_url = jsonl.parent / "nourl.jsonl"
    without_url.write_text(json.dumps({"content": "x " * 50}) + "\n", encoding="utf-8")
    bad = write_recipe(needs_url.replace(str(jsonl), str(without_url)), "b.yaml")
    expected = (f"{bad}:4: stages[0] (domain_tag): needs column(s) url, which neither the input nor an earlier "
                "stage provides; add the stage that makes them before it")
    assert check_recipe_file(bad) == [expected]


def test_cli_validate_and_run_refuse_the_same(write_recipe, jsonl: Path, tmp_path: Path, capsys) -> None:
    recipe = write_recipe(f"""name: t
input: {{paths: ["{jsonl}"]}}
stages: [{{stage: text_length}}]
""")
    assert main(["validate", str(recipe)]) == 2
    err = capsys.readouterr().err
    assert f"{recipe}:2: input.text_column: {jsonl} has no column 'text'" in err
    assert main(["run", str(recipe), "-o", str(tmp_path / "out"), "--quiet"]) == 2
    assert f"{recipe}:2: input.text_column" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_shipped_recipe_validates() -> None:
    import os

    os.chdir(ROOT)
    assert check_recipe_file("recipes/sample.yaml") == []


def test_stages_with_no_match_is_an_error(capsys) -> None:
    assert main(["stages", "minhash"]) == 2
    assert "no stage named 'minhash' (did you mean 'minhash_dedup'?)" in capsys.readouterr().err
    assert main(["stages", "minhash_dedup"]) == 0
    assert "threshold" in capsys.readouterr().out


def test_mixture_file_points_at_its_command() -> None:
    problems = check_recipe_file(ROOT / "recipes" / "phi4-mixture.yaml")
    assert len(problems) == 1 and "use `curate mix " in problems[0]
