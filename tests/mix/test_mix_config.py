"""Mixture files and filters: bad input is refused naming the file, line and field; filters mean what they say."""

from __future__ import annotations

import polars as pl
import pytest

from curate.core.errors import RecipeError
from curate.mix.config import (
    Mixture,
    StageSpec,
    parse_mixture,
    parse_token_count,
    resolve_epochs,
)
from curate.mix.filter import FilterSyntaxError, parse_filter

GOOD = """\
name: m
tokenizer: {path: tok.json}
sources:
  - name: web
    path: out/web
    category: web
  - name: syn
    path: out/syn
    category: synthesis
"""


def _error(text: str) -> str:
    with pytest.raises(RecipeError) as info:
        parse_mixture(text, "mix.yaml")
    return str(info.value)


@pytest.mark.parametrize(
    "text, expected",
    [
        (GOOD.replace("    category: web\n", "    category: web\n    epoch: 2\n"), "mix.yaml:7: sources[0].epoch: Extra inputs are not permitted"),
        (GOOD.replace("category: web", "category: webb"), "mix.yaml:6: sources[0].category: unknown category 'webb'"),
        (GOOD.replace("    category: web\n", "    category: web\n    filter: quality >>= 3\n"), "mix.yaml:7: sources[0].filter:"),
        (GOOD.replace("    category: web\n", "    category: web\n    epochs: -1\n"), "sources[0].epochs: Input should be greater than or equal to 0"),
        (GOOD.replace("    category: web\n", "    category: web\n    epochs: 1\n    share: 0.5\n"), "sources[0].share: Value error, give either epochs or share"),
        (GOOD.replace("name: syn", "name: web"), "mix.yaml:7: sources[1].name: a source named 'web' comes twice"),
        (GOOD + "total_tokens: lots\n", "mix.yaml:10: total_tokens: Value error, 'lots' is not a token count"),
        (GOOD + "stages:\n  - {name: a, sources: {nope: {}}}\n", "stages[0].sources.nope: no source named 'nope'"),
        (GOOD.replace("tokenizer: {path: tok.json}\n", "") + "output: {tokenize: true}\n", "output.tokenize: writing .bin files needs a `tokenizer:`"),
        (GOOD.replace("tokenizer: {path: tok.json}\n", "") + "total_tokens: 2M\n", "mix.yaml:9: total_tokens: a token budget needs a `tokenizer:`"),
        ("name: [unclosed\n", "mix.yaml:2: not valid YAML"),
    ],
)
def test_bad_mixture_names_the_field(text: str, expected: str) -> None:
    assert expected in _error(text)


def test_filter_error_says_where_in_the_expression() -> None:
    msg = _error(GOOD.replace("    category: web\n", "    category: web\n    filter: 'lang == \"zh\" and'\n"))
    assert "sources[0].filter" in msg and "found the end" in msg


def test_good_mixture_and_token_counts() -> None:
    mixture = parse_mixture(GOOD + "total_tokens: 1.5M\n", "mix.yaml")
    assert isinstance(mixture, Mixture) and mixture.total_tokens == 1_500_000
    assert [parse_token_count(v) for v in (2000, "2e6", "500K", "1.5B", 3.0)] == [2000, 2_000_000, 500_000, 1_500_000_000, 3]


def test_resolve_epochs_defaults_overrides_and_budget() -> None:
    mixture = parse_mixture(GOOD + "categories:\n  synthesis: {epochs: 6}\n", "mix.yaml")
    stage = mixture.stage_list()[0]
    got = {r.source.name: r.epochs for r in resolve_epochs(mixture, stage, {"web": 1000, "syn": 100})}
    assert got == {"web": 1.0, "syn": 6.0}
    budget = StageSpec(name="b", total_tokens=3200)
    got = {r.source.name: r.epochs for r in resolve_epochs(mixture, budget, {"web": 1000, "syn": 100})}
    assert got == pytest.approx({"web": 2.0, "syn": 12.0})  # ratios kept: 1000*2 + 100*12 = 3200


def test_shares_must_cover_every_source_and_add_up() -> None:
    mixture = parse_mixture(GOOD, "mix.yaml")
    half = StageSpec.model_validate({"name": "s", "sources": {"web": {"share": 0.5}, "syn": None}})
    with pytest.raises(RecipeError, match="have target shares but syn have epochs"):
        resolve_epochs(mixture, half, {"web": 10, "syn": 10})
    off = StageSpec.model_validate({"name": "s", "sources": {"web": {"share": 0.5}, "syn": {"share": 0.6}}})
    with pytest.raises(RecipeError, match="add up to 1.1000"):
        resolve_epochs(mixture, off, {"web": 10, "syn": 10})
    ok = StageSpec.model_validate({"name": "s", "sources": {"web": {"share": 0.75}, "syn": {"share": 0.25}}})
    got = {r.source.name: r.epochs for r in resolve_epochs(mixture, ok, {"web": 300, "syn": 50})}
    # no budget: the largest blend in which no source repeats (syn limits it: 50 / 0.25 = 200 tokens)
    assert got == pytest.approx({"web": 0.5, "syn": 1.0})


FRAME = pl.DataFrame({
    "lang": ["en", "zh", "zh", None, "de"],
    "quality_bucket": [3, 15, 19, 16, 15],
    "task": ["qa", "cot_template", "qa", "wiki_style", "qa"],
    "my col": [1.0, 2.0, 3.0, 4.0, 5.0],
})


@pytest.mark.parametrize(
    "text, rows",
    [
        ("quality_bucket >= 15", [1, 2, 3, 4]),
        ('lang == "zh"', [1, 2]),
        ("lang == 'zh' and quality_bucket > 15", [2]),
        ('lang == "en" or task == "cot_template"', [0, 1]),
        ('not (lang == "zh")', [0, 4]),
        ('task in ["qa", "wiki_style"] and quality_bucket < 19', [0, 3, 4]),
        ('task not in ["qa"]', [1, 3]),
        ("lang is null", [3]),
        ("lang is not null and `my col` >= 4.5", [4]),
        ("15 <= quality_bucket", [1, 2, 3, 4]),
        ("TRUE", [0, 1, 2, 3, 4]),
        ("null", []),
    ],
)
def test_filters_select_rows(text: str, rows: list[int]) -> None:
    flt = parse_filter(text)
    mask = flt.mask(FRAME).tolist()
    assert [i for i, keep in enumerate(mask) if keep] == rows


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("quality_bucket >>= 3", "column 17"),
        ("__import__('os').system('x')", "cannot read \".system('x')\" at column 17"),
        ('lang == "zh" and', "found the end"),
        ("lang in zh", "`[` to start a list"),
        ("lang == @", "cannot read '@'"),
        ("", "the filter is empty"),
        ("(a > 1", "expected `)`"),
    ],
)
def test_bad_filters_are_refused(text: str, fragment: str) -> None:
    with pytest.raises(FilterSyntaxError, match=None) as info:
        parse_filter(text)
    assert fragment in str(info.value)


def test_filter_that_is_not_a_condition_is_refused() -> None:
    with pytest.raises(FilterSyntaxError, match="gives Int64 values, not true/false"):
        parse_filter("quality_bucket").mask(FRAME)


def test_filter_names_its_columns() -> None:
    assert parse_filter('lang == "zh" and (quality_bucket >= 15 or `my col` is null)').columns == {"lang", "quality_bucket", "my col"}
