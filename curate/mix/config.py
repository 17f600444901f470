"""Mixtures: which curated sources go into a training blend, in which category, at how many epochs.

Phi-4 and OpenSeek's CCI4.0 blend do not sample sources by a hand-set weight; every source belongs to a
category with an epoch count (web 1, knowledge 1.5, rewrite 4, synthesis 10), and the mixture is what those
epochs give. A source may override its category's epochs, or a mixture may give target shares (per source
or per category) and a token budget instead. ``stages:`` gives a multi-stage schedule (as OpenSeek-Mid
trains): each stage its own budget and its own epochs or shares over the declared sources.

    name: phi4-sample
    seed: 0
    tokenizer: {path: data/tokenizer/sample-bpe.json, eod_token: "<|endoftext|>"}
    categories:                     # optional: change a default, or add a category
      knowledge: {epochs: 2}
    sources:
      - name: web-high
        path: out/sample            # a run output (its data/), a folder of Parquet, or a glob
        category: web
        filter: quality_bucket >= 15
      - name: cot
        path: out/synth-sample/data
        category: synthesis
        filter: task == "cot_template"
        epochs: 6                   # overrides the category's 10
    output: {rows_per_shard: 50000, tokenize: true}
    # Multi-stage instead of one blend (each stage writes OUT/<stage>/):
    # stages:
    #   - {name: stable, total_tokens: 2M}
    #   - {name: anneal, total_tokens: 500K, sources: {web-high: {share: 0.5}, cot: {share: 0.5}}}

Validation is complete before any work; errors name the mixture file, line and field, like recipes.
This module also resolves each stage's epochs from token counts (:func:`resolve_epochs`); reading,
sampling and writing are in :mod:`curate.mix.blend`.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import xxhash
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from curate.core.config import load_yaml, location, read_config, validation_error
from curate.core.errors import RecipeError
from curate.mix.filter import FilterSyntaxError, parse_filter

#: Phi-4 / CCI4.0 epochs per category; a mixture's ``categories:`` may change them or add more.
DEFAULT_EPOCHS: dict[str, float] = {"web": 1.0, "knowledge": 1.5, "rewrite": 4.0, "synthesis": 10.0}

_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
_SUFFIX = {"": 1, "k": 10**3, "m": 10**6, "b": 10**9, "g": 10**9, "t": 10**12}
#: Target shares must add up to 1 within this much (they are then normalised exactly).
SHARE_TOLERANCE = 1e-3


def parse_token_count(value: object) -> int:
    """``2000000``, ``2e6``, ``"2M"``, ``"1.5B"`` -> an int number of tokens (YAML reads ``2e6`` as text)."""
    if isinstance(value, bool):
        raise ValueError("give a number of tokens, e.g. 2000000 or 2M")
    if isinstance(value, (int, float)):
        number = float(value)
    else:
        m = re.fullmatch(r"\s*([0-9_]*\.?[0-9_]+(?:[eE][-+]?\d+)?)\s*([kKmMbBgGtT]?)\s*", str(value))
        if not m:
            raise ValueError(f"{value!r} is not a token count; write e.g. 2000000, 2e6, 500K, 2M or 1.5B")
        number = float(m.group(1).replace("_", "")) * _SUFFIX[m.group(2).lower()]
    if not math.isfinite(number) or number <= 0:
        raise ValueError("a token count is a positive number")
    return int(round(number))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Weighting(_Strict):
    """How much of a source (or a category) goes into the blend: epochs, or a target share."""

    epochs: float | None = Field(None, ge=0, description="Passes over the source: 1 = every document once, 1.5 = once plus a stable half, 0 = leave out.")
    share: float | None = Field(None, gt=0, le=1, description="Target fraction of the blend's tokens instead of epochs; a stage's shares add up to 1.")

    @field_validator("share")
    @classmethod
    def _not_both(cls, share: float | None, info: ValidationInfo) -> float | None:
        if share is not None and info.data.get("epochs") is not None:
            raise ValueError("give either epochs or share, not both")
        return share


class SourceSpec(Weighting):
    name: str = Field(pattern=_NAME, description="Unique name of the source; used in file names, the weights table and data_path.txt.")
    path: str | list[str] = Field(description="A curated run output (reads its data/), a folder of Parquet files, or globs; relative to the working directory.")
    category: str = Field(description="Category whose epochs apply: web, knowledge, rewrite, synthesis, or one declared under `categories:`.")
    filter: str | None = Field(None, description="Rows to keep, e.g. 'quality_bucket >= 15 and lang == \"zh\"' (see curate.mix.filter for the language).")

    @field_validator("filter")
    @classmethod
    def _parses(cls, text: str | None) -> str | None:
        if text is not None:
            try:
                parse_filter(text)
            except FilterSyntaxError as exc:
                raise ValueError(str(exc)) from None
        return text

    def paths(self) -> list[str]:
        return [self.path] if isinstance(self.path, str) else list(self.path)


class StageSpec(_Strict):
    name: str = Field(pattern=_NAME, description="Stage name; its blend is written to OUT/<name>/.")
    total_tokens: int | None = Field(None, description="Token budget of this stage (e.g. 2M); with epochs, the epochs are scaled to meet it.")
    sources: dict[str, Weighting | None] | None = Field(None, description="Sources in this stage, each with optional epochs/share overriding its declaration; default: every source as declared.")
    categories: dict[str, Weighting] = Field(default_factory=dict, description="Category epochs or shares for this stage only.")

    @field_validator("total_tokens", mode="before")
    @classmethod
    def _token_count(cls, value: object) -> int | None:
        return None if value is None else parse_token_count(value)


class TokenizerSpec(_Strict):
    path: str = Field(description="Local Hugging Face `tokenizers` tokenizer.json used to count tokens and write .bin files.")
    eod_token: str | None = Field("<|endoftext|>", description="Token appended to every document (counted, and written to .bin); null for none.")


class OutputSpec(_Strict):
    path: str | None = Field(None, description="Output directory (overridden by -o/--output).")
    rows_per_shard: int = Field(50_000, ge=1, description="Documents per Parquet shard of the blend.")
    compression: Literal["zstd", "snappy", "gzip", "none"] = Field("zstd", description="Parquet compression of the blend shards.")
    compression_level: int | None = Field(3, description="Compression level (codec default when null).")
    rows_per_task: int = Field(50_000, ge=1, description="Input rows one task reads at a time (whole row groups): bounds a worker's memory; the blend's bytes do not depend on it.")
    tokenize: bool = Field(False, description="Also write Megatron indexed datasets (bin/<source>_text_document.bin/.idx).")
    keep_columns: list[str] | None = Field(None, description="Source columns carried into the blend besides id and text; default: those every source has with the same type.")
    data_path_prefix: str | None = Field(None, description="Where training will see OUT: data_path.txt prefixes are this folder + [STAGE/]bin/<source>_text_document; default: OUT as an absolute path.")


class Mixture(_Strict):
    name: str = Field(description="Short name of the mixture.")
    description: str = Field("", description="What this blend is for.")
    seed: int = Field(0, description="Seed of the fractional-epoch subsets and of the shuffle.")
    tokenizer: TokenizerSpec | None = Field(None, description="Tokenizer that counts tokens (and writes .bin files); without one, sizes are UTF-8 bytes and the blend cannot be tokenized.")
    categories: dict[str, Weighting] = Field(default_factory=dict, description="Epochs or shares per category, over the defaults web 1, knowledge 1.5, rewrite 4, synthesis 10.")
    sources: list[SourceSpec] = Field(min_length=1, description="Curated sources that make up the blend.")
    total_tokens: int | None = Field(None, description="Token budget of the blend (of every stage that sets none).")
    stages: list[StageSpec] | None = Field(None, description="A multi-stage schedule; without it, one stage of every source as declared.")
    output: OutputSpec = Field(default_factory=OutputSpec, description="Where and how the blend is written.")

    @field_validator("total_tokens", mode="before")
    @classmethod
    def _token_count(cls, value: object) -> int | None:
        return None if value is None else parse_token_count(value)

    def fingerprint(self) -> str:
        """Hash of everything that decides the blend's bytes (not the output path)."""
        decisive = self.model_dump(exclude={"description"})
        decisive["output"].pop("path", None)
        decisive["output"].pop("data_path_prefix", None)
        decisive["output"].pop("rows_per_task", None)  # how the work is cut, not what it gives
        return xxhash.xxh64_hexdigest(json.dumps(decisive, sort_keys=True))

    def stage_list(self) -> list[StageSpec]:
        """The stages to build; a mixture without ``stages:`` is one stage named ``main``."""
        return self.stages if self.stages else [StageSpec(name="main")]

    def source(self, name: str) -> SourceSpec:
        return next(s for s in self.sources if s.name == name)


def _check(mixture: Mixture, where: Any) -> None:
    """Cross-field checks pydantic cannot express; ``where(loc)`` gives ``file:line``."""

    def fail(loc: tuple, msg: str) -> RecipeError:
        dotted = ".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in loc).replace(".[", "[")
        return RecipeError(f"{where(loc)}: {dotted}: {msg}")

    if mixture.tokenizer is None:
        if mixture.output.tokenize:
            raise fail(("output", "tokenize"), "writing .bin files needs a `tokenizer:` (a local tokenizer.json)")
        budgets = [("total_tokens",)] if mixture.total_tokens else []
        budgets += [("stages", i, "total_tokens") for i, st in enumerate(mixture.stages or []) if st.total_tokens]
        if budgets:
            raise fail(budgets[0], "a token budget needs a `tokenizer:`; without one, sizes are UTF-8 bytes (use epochs or shares)")
    known = set(DEFAULT_EPOCHS) | set(mixture.categories)
    seen: set[str] = set()
    for i, src in enumerate(mixture.sources):
        if src.name in seen:
            raise fail(("sources", i, "name"), f"a source named {src.name!r} comes twice; names must be unique")
        seen.add(src.name)
        if src.category not in known:
            raise fail(("sources", i, "category"), f"unknown category {src.category!r}; use one of {', '.join(sorted(known))} or declare it under `categories:`")
    stage_names: set[str] = set()
    for i, stage in enumerate(mixture.stages or []):
        if stage.name in stage_names:
            raise fail(("stages", i, "name"), f"a stage named {stage.name!r} comes twice")
        stage_names.add(stage.name)
        for name in stage.sources or {}:
            if name not in seen:
                raise fail(("stages", i, "sources", name), f"no source named {name!r}; declared sources: {', '.join(sorted(seen))}")
        for cat in stage.categories:
            if cat not in known:
                raise fail(("stages", i, "categories", cat), f"unknown category {cat!r}; use one of {', '.join(sorted(known))}")
    for cat, weighting in mixture.categories.items():
        if cat not in DEFAULT_EPOCHS and weighting.epochs is None and weighting.share is None:
            raise fail(("categories", cat), f"new category {cat!r} needs `epochs` or `share`")


def parse_mixture(text: str, source: str = "<mixture>") -> Mixture:
    """Parse and completely validate a mixture; errors name ``source``, the line and the field."""
    data, lines = load_yaml(text, source)
    if not isinstance(data, dict):
        raise RecipeError(f"{source}: a mixture is a YAML mapping with at least `name` and `sources`")
    try:
        mixture = Mixture.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc, source, lines) from None
    _check(mixture, lambda loc: location(source, lines, loc))
    return mixture


def load_mixture(path: str | Path) -> Mixture:
    """Read and validate a mixture file."""
    return parse_mixture(read_config(path, "mixture"), str(path))


@dataclass(frozen=True)
class Resolved:
    """One source of one stage after resolution: its epochs, and the share it was asked for (if any)."""

    source: SourceSpec
    epochs: float
    target_share: float | None


def _weighting(mixture: Mixture, stage: StageSpec, src: SourceSpec) -> tuple[str, float]:
    """('share'|'epochs'|'category_share', value) for a source in a stage, most specific setting first."""
    override = (stage.sources or {}).get(src.name)
    for own in (override, src):
        if own is not None and own.share is not None:
            return "share", own.share
        if own is not None and own.epochs is not None:
            return "epochs", own.epochs
    for cats in (stage.categories, mixture.categories):
        cat = cats.get(src.category)
        if cat is not None and cat.share is not None:
            return "category_share", cat.share
        if cat is not None and cat.epochs is not None:
            return "epochs", cat.epochs
    return "epochs", DEFAULT_EPOCHS[src.category]


def stage_sources(mixture: Mixture, stage: StageSpec) -> list[SourceSpec]:
    """The sources a stage uses, in declaration order."""
    return [s for s in mixture.sources if stage.sources is None or s.name in stage.sources]


def resolve_epochs(mixture: Mixture, stage: StageSpec, tokens: dict[str, int]) -> list[Resolved]:
    """Epochs per source of ``stage`` from the sources' token counts (EOD tokens included).

    * epochs mode: each source's epochs as configured; with a token budget they are all scaled by one
      factor so the blend meets it (their ratios, the Phi-4 recipe, are kept).
    * shares mode: ``epochs = share * total / tokens``; a category's share is split over its sources by
      their tokens. Without a budget the total is the largest blend in which no source repeats.
    """
    sources = stage_sources(mixture, stage)
    kinds = {s.name: _weighting(mixture, stage, s) for s in sources}
    by_share = [n for n, (k, _) in kinds.items() if k != "epochs"]
    budget = stage.total_tokens or mixture.total_tokens
    if by_share and len(by_share) != len(sources):
        rest = [n for n in kinds if n not in by_share]
        raise RecipeError(
            f"stage {stage.name!r}: sources {', '.join(by_share)} have target shares but {', '.join(rest)} have "
            "epochs; give every source (or its category) a share, or none"
        )
    if not by_share:
        epochs = {n: v for n, (_, v) in kinds.items()}
        if budget:
            planned = sum(epochs[n] * tokens[n] for n in epochs)
            if planned <= 0:
                raise RecipeError(f"stage {stage.name!r}: its sources have no tokens, so total_tokens {budget:,} cannot be met")
            epochs = {n: e * budget / planned for n, e in epochs.items()}
        return [Resolved(s, epochs[s.name], None) for s in sources]

    shares: dict[str, float] = {}
    for cat in {s.category for s in sources}:
        pooled = [s.name for s in sources if s.category == cat and kinds[s.name][0] == "category_share"]
        pool_tokens = sum(tokens[n] for n in pooled)
        for n in pooled:
            if pool_tokens == 0:
                raise RecipeError(f"stage {stage.name!r}: category {cat!r} has a share but its sources have no tokens")
            shares[n] = kinds[n][1] * tokens[n] / pool_tokens
    shares.update({n: v for n, (k, v) in kinds.items() if k == "share"})
    total_share = sum(shares.values())
    if abs(total_share - 1) > SHARE_TOLERANCE:
        listed = ", ".join(f"{n} {v:.4f}" for n, v in shares.items())
        raise RecipeError(f"stage {stage.name!r}: target shares add up to {total_share:.4f}, not 1 ({listed})")
    empty = [n for n in shares if tokens[n] == 0]
    if empty:
        raise RecipeError(f"stage {stage.name!r}: source(s) {', '.join(empty)} have a share but no tokens (check the path and filter)")
    shares = {n: v / total_share for n, v in shares.items()}
    total = budget or min(tokens[n] / shares[n] for n in shares)
    return [Resolved(s, shares[s.name] * total / tokens[s.name], shares[s.name]) for s in sources]
