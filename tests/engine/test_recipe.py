from __future__ import annotations

import pytest

from curate.cli import main
from curate.core.errors import RecipeError
from curate.engine.recipe import build_stages, parse_recipe

GOOD = """\
name: ok
input: {paths: [x.jsonl]}
stages:
  - stage: text_length
    params: {min_chars: 10}
  - stage: exact_dedup
"""


def test_a_good_recipe_builds_its_stages_in_order() -> None:
    steps = build_stages(parse_recipe(GOOD, "ok.yaml"))
    assert [name for name, _ in steps] == ["text_length", "exact_dedup"]
    assert steps[0][1].params.min_chars == 10


@pytest.mark.parametrize(
    "body, expected",
    [
        (GOOD.replace("stage: exact_dedup", "stage: exact_dedupe"), r"r.yaml:6: stages\[1\].stage: unknown stage 'exact_dedupe'"),
        (GOOD.replace("min_chars: 10", "min_chars: ten"), r"r.yaml:5: stages\[0\].params.min_chars: Input should be a valid integer"),
        (GOOD.replace("min_chars: 10", "min_char: 10"), r"r.yaml:5: stages\[0\].params.min_char: Extra inputs are not permitted"),
        (GOOD.replace("name: ok\n", ""), r"r.yaml:1: name: Field required"),
        (GOOD.replace("input: {paths: [x.jsonl]}", "input: {paths: []}"), r"r.yaml:2: input.paths: List should have at least 1 item"),
        (GOOD.replace("    params: {min_chars: 10}", "    params: {min_chars: 10\n"), r"r.yaml:\d+: not valid YAML"),
        (GOOD + "  - stage: text_length\n", r"r.yaml:7: stages\[2\]: a step named 'text_length' comes twice"),
        (GOOD.replace("  - stage: exact_dedup", "  - stage: exact_dedup\n    resources: {batch_size: 0}"), r"r.yaml:7: stages\[1\].resources.batch_size"),
    ],
)
def test_bad_recipes_are_refused_with_file_line_and_field(body: str, expected: str) -> None:
    with pytest.raises(RecipeError, match=expected):
        parse_recipe(body, "r.yaml")


def test_fingerprint_ignores_the_executor_but_not_the_stages() -> None:
    base = parse_recipe(GOOD)
    ray = parse_recipe(GOOD + "executor: {kind: ray, workers: 4}\n")
    other = parse_recipe(GOOD.replace("min_chars: 10", "min_chars: 11"))
    assert base.fingerprint() == ray.fingerprint() != other.fingerprint()


def test_validate_command(write_recipe, capsys, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)  # validate reads the inputs: x.jsonl must exist
    (tmp_path / "x.jsonl").write_text('{"text": "a document"}\n', encoding="utf-8")
    assert main(["validate", str(write_recipe(GOOD))]) == 0
    assert "valid — 2 stage(s)" in capsys.readouterr().out
    bad = write_recipe(GOOD.replace("min_chars: 10", "min_chars: x"), "bad.yaml")
    assert main(["validate", str(bad)]) == 2
    assert "bad.yaml:5: stages[0].params.min_chars" in capsys.readouterr().err


def test_stages_command_lists_parameters_and_defaults(capsys) -> None:
    assert main(["stages", "text_length", "exact_dedup"]) == 0
    out = capsys.readouterr().out
    assert "exact_dedup  (global stage)" in out and "text_length  (map stage)" in out
    assert "min_chars: int (default 0)" in out


@pytest.mark.parametrize("name, command", [("phi4-mixture.yaml", "curate mix"), ("proxy-compare.yaml", "curate proxy compare")])
def test_mixture_and_proxy_files_point_at_their_command(name: str, command: str) -> None:
    from pathlib import Path

    from curate.engine.recipe import load_recipe

    path = Path(__file__).resolve().parents[2] / "recipes" / name
    with pytest.raises(RecipeError, match=f"use `{command} "):
        load_recipe(path)


def test_every_run_recipe_in_recipes_validates() -> None:
    from pathlib import Path

    from curate.engine.recipe import load_recipe

    for path in sorted((Path(__file__).resolve().parents[2] / "recipes").glob("*.yaml")):
        if path.name not in ("phi4-mixture.yaml", "proxy-compare.yaml"):
            assert build_stages(load_recipe(path)), path
