"""Generated reference docs and JSON Schemas: no drift from the models, shipped files valid, plain help text."""

from __future__ import annotations

import argparse
import filecmp
import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from curate.cli.app import build_parser, main
from curate.docgen import generate, plain

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def test_committed_docs_match_the_models(tmp_path: Path) -> None:
    stale = [p.name for p in generate(tmp_path) if not filecmp.cmp(p, DOCS / p.relative_to(tmp_path), shallow=False)]
    assert stale == [], f"run `curate docs` and commit: {stale}"


@pytest.mark.parametrize("page, fields", [
    ("mix.md", ["total_tokens", "share", "epochs", "rows_per_shard", "eod_token", "tokenize", "data_path_prefix", "keep_columns", "filter"]),
    ("proxy.md", ["heldout_fraction", "baseline", "candidates", "vocab_size", "kv_heads", "grad_accum", "bootstrap", "seeds"]),
    ("recipe.md", ["text_column", "rows_per_unit", "write_rejected", "ray_address", "batch_size", "concurrency"]),
])
def test_every_named_field_has_a_row(page: str, fields: list[str]) -> None:
    text = (DOCS / page).read_text(encoding="utf-8")
    for name in fields:
        assert f"| `{name}` |" in text, name


def test_mix_page_documents_the_filter_grammar() -> None:
    text = (DOCS / "mix.md").read_text(encoding="utf-8")
    assert 'value ["not"] "in" "[" literal ("," literal)* "]"' in text
    prose = "\n".join(line for line in text.splitlines() if not line.startswith("```"))
    assert "``" not in prose and ":func:" not in prose


def _schema(name: str) -> dict:
    return json.loads((DOCS / "schema" / f"{name}.schema.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", sorted((ROOT / "recipes").glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_files_pass_their_schema(path: Path) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    kind = "mixture" if "sources" in data else "compare" if "candidates" in data else "recipe"
    jsonschema.validate(data, _schema(kind))


def test_recipe_schema_checks_stage_names_and_parameters() -> None:
    schema = _schema("recipe")
    good = {"name": "x", "stages": [{"stage": "text_length", "params": {"min_chars": 5}}]}
    jsonschema.validate(good, schema)
    for bad in ({"name": "x", "stages": [{"stage": "text_lenght"}]},
                {"name": "x", "stages": [{"stage": "text_length", "params": {"min_char": 5}}]},
                {"name": "x", "stages": [{"stage": "text_length", "params": {"min_chars": "five"}}]},
                {"name": "x", "stages": [{"stage": "text_length", "resources": {"batch_sise": 5}}]}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, schema)


def test_mixture_schema_accepts_token_counts_as_text() -> None:
    schema = _schema("mixture")
    base = {"name": "m", "tokenizer": {"path": "t.json"}, "sources": [{"name": "a", "path": "x", "category": "web"}]}
    jsonschema.validate({**base, "total_tokens": "2M"}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**base, "total_tokens": "lots"}, schema)


def test_help_text_has_no_restructuredtext(capsys) -> None:
    assert plain("``x`` and :func:`curate.a.b`") == "`x` and `curate.a.b`"
    texts = []
    parser = build_parser()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                texts.append(sub.format_help())
    assert main(["stages"]) == 0
    texts.append(capsys.readouterr().out)
    for text in texts:
        assert "``" not in text and ":func:" not in text and ":class:" not in text
