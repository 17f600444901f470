"""The transformers fallback: ``model.generate`` where vLLM is not installed.

Slow, and meant for small runs and as a reference. Greedy decoding (``temperature: 0``) is batched with
left padding; sampled decoding runs one prompt at a time with that prompt's seed, so each answer depends
only on its own seed, as with the other engines.
"""

from __future__ import annotations

from curate.synth.engines import EngineSpec, Generation, SamplingSpec


class HFEngine:
    """Holds one AutoModelForCausalLM and its tokenizer; loaded once per worker."""

    def __init__(self, spec: EngineSpec) -> None:
        from curate.scorers._torch import (
            check_device,
            require_transformers,
            torch_dtype,
        )

        transformers = require_transformers()
        self.spec = spec
        self.device = check_device(spec.device)
        dtype = torch_dtype("float32" if spec.dtype == "auto" else spec.dtype)
        self.tok = transformers.AutoTokenizer.from_pretrained(spec.tokenizer or spec.model)
        self.tok.padding_side = "left"
        if self.tok.pad_token is None:
            self.tok.pad_token = self.tok.eos_token
        self.model = transformers.AutoModelForCausalLM.from_pretrained(spec.model, dtype=dtype).to(self.device).eval()

    def generate(self, prompts: list[str], seeds: list[int], sampling: SamplingSpec) -> list[Generation]:
        if sampling.temperature == 0:
            out: list[Generation] = []
            for start in range(0, len(prompts), self.spec.hf_batch_size):
                out += self._run(prompts[start : start + self.spec.hf_batch_size], None, sampling)
            return out
        return [self._run([p], s, sampling)[0] for p, s in zip(prompts, seeds)]

    def _run(self, prompts: list[str], seed: int | None, sampling: SamplingSpec) -> list[Generation]:
        import torch

        enc = self.tok(prompts, return_tensors="pt", padding=True, add_special_tokens=True).to(self.device)
        room = self.max_context() - enc["input_ids"].shape[1]
        if room < 1:
            raise ValueError(f"a prompt of {enc['input_ids'].shape[1]} tokens leaves no room in a {self.max_context()}-token context")
        budget = min(sampling.max_tokens, room)
        kwargs = dict(max_new_tokens=budget, pad_token_id=self.tok.pad_token_id, eos_token_id=self.tok.eos_token_id)
        if seed is None:
            kwargs["do_sample"] = False
        else:
            torch.manual_seed(int(seed))
            kwargs.update(do_sample=True, temperature=sampling.temperature, top_p=sampling.top_p)
        with torch.inference_mode():
            ids = self.model.generate(**enc, **kwargs)
        new = ids[:, enc["input_ids"].shape[1] :]
        out = []
        for row in new.tolist():
            ended = self.tok.eos_token_id in row
            row = row[: row.index(self.tok.eos_token_id)] if ended else row
            text = self.tok.decode(row, skip_special_tokens=True)
            finish = "stop" if ended else "length"
            for stop in sampling.stop:
                if stop in text:
                    text, finish = text.split(stop, 1)[0], "stop"
            out.append(Generation(text, len(row), finish))
        return out

    def max_context(self) -> int:
        if self.spec.max_model_len:
            return self.spec.max_model_len
        return int(getattr(self.model.config, "max_position_embeddings", 2048))

    def close(self) -> None:
        self.model = None
