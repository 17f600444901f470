"""Per-document language-model loss: mean token loss (nats), perplexity and bits per byte.

A small causal LM's loss says how natural a document looks: boilerplate is very low, garbled or
machine-made text very high. CCI4.0 cuts the top of each domain's loss distribution (see
``stages/loss_buckets.py``).

Documents longer than the model's window are cut into windows of ``window`` tokens that overlap by
``context`` tokens; each token is scored exactly once, the overlap only gives the next window's first
tokens something to condition on. All windows of a batch are sorted by length and packed so that a
forward pass holds at most ``batch_tokens`` (padded) tokens. The first token of a document has no
prediction and is not scored; tokenizers that add a BOS token (Llama's) score every text token.

Two backends: torch / transformers (CPU or CUDA) and vLLM's ``prompt_logprobs`` (used only when the
``vllm`` package is installed; it gives the same numbers up to kernel precision, much faster on GPU).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from curate.scorers._torch import (
    check_device,
    length_batches,
    require_transformers,
    set_threads,
    torch_dtype,
)
from curate.synth.vllm_offline import shutdown_llm


@dataclass
class DocLoss:
    """Per-document results, one entry per input text; NaN where no token was scored (empty text)."""

    loss: np.ndarray  # mean negative log-likelihood per scored token, nats
    tokens: np.ndarray  # scored tokens
    nll: np.ndarray  # summed negative log-likelihood, nats
    bytes: np.ndarray  # UTF-8 bytes of the text

    @property
    def perplexity(self) -> np.ndarray:
        return np.exp(self.loss)

    @property
    def bits_per_byte(self) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.bytes > 0, self.nll / (math.log(2) * self.bytes), np.nan)


def windows(n: int, window: int, context: int) -> list[tuple[int, int, int]]:
    """(start, end, first scored position) of each window over n tokens; every position >= 1 scored once."""
    if not 1 <= context < window:
        raise ValueError(f"context ({context}) must be at least 1 and below window ({window})")
    if n <= window:
        return [(0, n, 1)] if n > 1 else []
    stride = window - context
    out = [(0, window, 1)]
    start = stride
    while out[-1][1] < n:
        out.append((start, min(start + window, n), start + context))
        start += stride
    return out


def _finish(nll: np.ndarray, tokens: np.ndarray, texts: list[str]) -> DocLoss:
    with np.errstate(divide="ignore", invalid="ignore"):
        loss = np.where(tokens > 0, nll / np.maximum(tokens, 1), np.nan)
    nbytes = np.fromiter((len(t.encode("utf-8")) for t in texts), dtype=np.int64, count=len(texts))
    return DocLoss(loss=loss, tokens=tokens, nll=nll, bytes=nbytes)


class CausalLMScorer:
    """A local causal LM (transformers) that scores documents' loss with torch."""

    def __init__(
        self,
        path: str | Path,
        device: str = "cpu",
        window: int = 1024,
        context: int = 256,
        batch_tokens: int = 8192,
        dtype: str = "float32",
        threads: int | None = None,
    ) -> None:
        transformers = require_transformers()
        import torch

        _check_dir(path)
        self.device = check_device(device)
        set_threads(threads)
        self.window, self.context, self.batch_tokens = window, context, batch_tokens
        windows(window + 1, window, context)  # validates window / context
        self.tokenizer = transformers.AutoTokenizer.from_pretrained(str(path))
        self.model = transformers.AutoModelForCausalLM.from_pretrained(str(path), dtype=torch_dtype(dtype))
        self.model.to(self.device).eval()
        self._torch = torch

    def tokenize(self, texts: list[str]) -> list[list[int]]:
        """Token ids of each whole text (special tokens as the tokenizer adds them, no truncation)."""
        return self.tokenizer(texts, add_special_tokens=True, truncation=False)["input_ids"]

    def score(self, texts: list[str]) -> DocLoss:
        """Loss of each text, in input order."""
        torch = self._torch
        ids = self.tokenize(texts)
        pieces = [(d, s, e, f) for d, doc in enumerate(ids) for s, e, f in windows(len(doc), self.window, self.context)]
        nll = np.zeros(len(texts), dtype=np.float64)
        tokens = np.zeros(len(texts), dtype=np.int64)
        lengths = [e - s for _, s, e, _ in pieces]
        for rows in length_batches(lengths, len(pieces) or 1, self.batch_tokens):
            width = lengths[rows[0]]
            inputs = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            labels = np.full((len(rows), width), -100, dtype=np.int64)
            for r, i in enumerate(rows):  # per-window copy into the padded batch
                d, s, e, f = pieces[i]
                inputs[r, : e - s] = ids[d][s:e]
                mask[r, : e - s] = 1
                labels[r, f - s : e - s] = inputs[r, f - s : e - s]
            inputs, mask, labels = torch.from_numpy(inputs), torch.from_numpy(mask), torch.from_numpy(labels)
            with torch.inference_mode():
                logits = self.model(input_ids=inputs.to(self.device), attention_mask=mask.to(self.device)).logits
                # position t predicts token t+1: shift, score only the labelled targets
                target = labels[:, 1:].to(self.device)
                per_token = torch.nn.functional.cross_entropy(
                    logits[:, :-1].float().reshape(-1, logits.shape[-1]), target.reshape(-1), reduction="none"
                ).view(target.shape)
                sums = per_token.sum(dim=1).double().cpu().numpy()
                counts = (target != -100).sum(dim=1).cpu().numpy()
            docs = np.asarray([pieces[i][0] for i in rows])
            np.add.at(nll, docs, sums)
            np.add.at(tokens, docs, counts)
        return _finish(nll, tokens, texts)


class VLLMLossScorer:
    """The same loss from vLLM's ``prompt_logprobs``: each window is a prompt, one token is generated."""

    def __init__(
        self,
        path: str | Path,
        window: int = 1024,
        context: int = 256,
        dtype: str = "auto",
        gpu_memory: float = 0.8,
        kv_cache_gb: float | None = None,
    ) -> None:
        try:
            from vllm import LLM, SamplingParams
        except ImportError as exc:
            raise ImportError("backend: vllm needs vLLM; install it with `pip install 'curate[vllm]'`") from exc
        _check_dir(path)
        windows(window + 1, window, context)
        self.window, self.context = window, context
        # vLLM on CPU sizes its KV cache in bytes; scoring needs little (prompts of one window, one new token)
        extra = {"kv_cache_memory_bytes": int(kv_cache_gb * (1 << 30))} if kv_cache_gb else {}
        self.llm = LLM(
            model=str(path),
            dtype=dtype,
            max_model_len=window + 1,
            gpu_memory_utilization=gpu_memory,
            enforce_eager=True,  # one scoring pass per batch: graph capture would cost more than it saves
            enable_chunked_prefill=False,  # prompt logprobs need each window's prefill in one piece
            max_num_batched_tokens=max(window + 1, 2048),
            **extra,
        )
        self.tokenizer = self.llm.get_tokenizer()
        self.sampling = SamplingParams(max_tokens=1, temperature=0.0, prompt_logprobs=0)

    def score(self, texts: list[str]) -> DocLoss:
        ids = self.tokenizer(texts, add_special_tokens=True, truncation=False)["input_ids"]
        pieces = [(d, s, e, f) for d, doc in enumerate(ids) for s, e, f in windows(len(doc), self.window, self.context)]
        prompts = [{"prompt_token_ids": ids[d][s:e]} for d, s, e, _ in pieces]
        outputs = self.llm.generate(prompts, self.sampling, use_tqdm=False) if prompts else []
        nll = np.zeros(len(texts), dtype=np.float64)
        tokens = np.zeros(len(texts), dtype=np.int64)
        for (d, s, e, f), out in zip(pieces, outputs):
            # prompt_logprobs[t] holds the logprob of prompt token t given tokens < t (None at t = 0);
            # the prompt's own token is always among the entries
            seq = ids[d]
            nll[d] -= sum(out.prompt_logprobs[p - s][seq[p]].logprob for p in range(f, e))
            tokens[d] += e - f
        return _finish(nll, tokens, texts)

    def close(self) -> None:
        """Stop the engine now rather than at interpreter exit (see :mod:`curate.synth.vllm_offline`)."""
        shutdown_llm(self.llm)
        self.llm = None


def _check_dir(path: str | Path) -> None:
    if not Path(path).is_dir():
        raise FileNotFoundError(
            f"language model {str(path)!r} is not a local model directory; build the sample one with "
            "`python data/build_models.py` or download a small LM (e.g. `hf download HuggingFaceTB/SmolLM2-135M "
            "--local-dir models/smollm`) and point `model` at it"
        )


def vllm_available() -> bool:
    """Whether the vLLM backend can be used in this environment."""
    import importlib.util

    return importlib.util.find_spec("vllm") is not None
