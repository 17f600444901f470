"""``lm_loss``: a small causal LM's loss on every document (mean token loss, perplexity, bits per byte).

Adds ``lm_loss`` (nats per token), ``lm_ppl``, ``lm_bpb`` and ``lm_tokens``; null where a document has
no token to score. Never drops: ``loss_buckets`` cuts the top of each domain. Long documents are scored
in overlapping windows (see ``curate.scorers.lm_loss``). ``backend: vllm`` uses vLLM's prompt logprobs
(installed separately); ``auto`` picks vLLM when it is installed and torch otherwise.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pyarrow as pa
from pydantic import Field, model_validator

from curate.core.registry import register
from curate.core.schema import TEXT
from curate.core.stage import Params, Resources, TransformStage
from curate.stages.lib.columns import set_column
from curate.stages.lib.device import cpu_threads, with_device

COLUMNS = {"lm_loss": pa.float32(), "lm_ppl": pa.float32(), "lm_bpb": pa.float32(), "lm_tokens": pa.int32()}


class LMLossParams(Params):
    model: str = Field(description="Local directory of a causal LM checkpoint (transformers format).")
    backend: Literal["torch", "vllm", "auto"] = Field("torch", description="torch, vllm, or auto (vllm if installed).")
    window: int = Field(1024, ge=2, description="Tokens per forward window (at most the model's context length).")
    context: int = Field(256, ge=1, description="Tokens a window repeats from the previous one as context only.")
    batch_tokens: int = Field(8192, ge=1, description="Padded tokens per forward pass (torch backend).")
    device: str = Field("cpu", description="torch device: cpu, cuda or cuda:N (cuda declares one GPU).")
    dtype: Literal["float32", "bfloat16", "float16"] = Field("float32", description="Weights dtype.")
    kv_cache_gb: float | None = Field(None, gt=0, description="vLLM backend on CPU: KV cache size in GiB (None: vLLM's default).")

    @model_validator(mode="after")
    def _context_fits(self) -> "LMLossParams":
        if self.context >= self.window:
            raise ValueError(f"context ({self.context}) must be below window ({self.window})")
        return self


@register
class LMLoss(TransformStage):
    name = "lm_loss"
    Params = LMLossParams
    needs = (TEXT,)
    adds = COLUMNS
    default_resources = Resources(cpus=1.0, batch_size=512)

    def __init__(self, params: LMLossParams | None = None, resources: Resources | None = None) -> None:
        super().__init__(params, resources)
        self.resources = with_device(self.resources, self.params.device)

    def setup(self) -> None:
        from curate.scorers.lm_loss import (
            CausalLMScorer,
            VLLMLossScorer,
            vllm_available,
        )

        p = self.params
        if p.backend == "vllm" or (p.backend == "auto" and vllm_available()):
            self._scorer = VLLMLossScorer(p.model, p.window, p.context, p.dtype, kv_cache_gb=p.kv_cache_gb)
        else:
            self._scorer = CausalLMScorer(
                p.model, p.device, p.window, p.context, p.batch_tokens, p.dtype, cpu_threads(self.resources, p.device)
            )

    def teardown(self) -> None:
        close = getattr(getattr(self, "_scorer", None), "close", None)
        if callable(close):  # the vLLM backend owns an engine process; the torch one needs nothing
            close()

    def transform(self, batch: pa.Table) -> pa.Table:
        result = self._scorer.score(batch.column(TEXT).to_pylist())
        missing = result.tokens == 0
        out = batch
        for name, values in (
            ("lm_loss", result.loss),
            ("lm_ppl", result.perplexity),
            ("lm_bpb", result.bits_per_byte),
        ):
            out = set_column(out, name, pa.array(np.asarray(values, np.float32), pa.float32(), mask=missing))
        return set_column(out, "lm_tokens", pa.array(result.tokens.astype(np.int32), pa.int32()))
