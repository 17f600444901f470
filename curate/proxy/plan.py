"""Plan a comparison before it runs: model presets with their token budgets, tokens/s here, wall time.

Why: a proxy comparison is only worth its time when its budget can resolve the differences a user cares
about, and a user should know the cost before starting. The presets are GPT-S-1.4M and the shapes of
DataDecide's 20M, 60M and 150M models (named by their size with a 50k vocabulary; with a 4k vocabulary they
have fewer parameters). The recommended budget is 20 training tokens per parameter (Chinchilla;
DataDecide trains to 100 per parameter for its final rankings). ``measure_tokens_per_s`` times a few optimizer steps of the configured shape on this device
with random tokens; :func:`plan` multiplies out the runs. Memory: one model and one batch.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

#: Training tokens per non-embedding parameter a preset's recommended budget gives.
TOKENS_PER_PARAM = 20


@dataclass(frozen=True)
class Preset:
    shape: dict  # ModelShape fields
    batch_size: int  # sequences per optimizer step that suit it
    note: str = field(default="")


PRESETS: dict[str, Preset] = {
    "GPT-S-1.4M": Preset({"hidden": 128, "layers": 5, "heads": 4, "kv_heads": 2, "intermediate": 352, "context": 384, "rope_theta": 2500.0}, 16, "one CPU or a small GPU"),
    "20M": Preset({"hidden": 256, "layers": 8, "heads": 8, "kv_heads": 4, "intermediate": 1024, "context": 1024, "rope_theta": 10000.0}, 64, "one GPU"),
    "60M": Preset({"hidden": 384, "layers": 16, "heads": 12, "kv_heads": 4, "intermediate": 1536, "context": 1024, "rope_theta": 10000.0}, 128, "one to eight GPUs (torchrun)"),
    "150M": Preset({"hidden": 768, "layers": 12, "heads": 12, "kv_heads": 4, "intermediate": 3072, "context": 2048, "rope_theta": 10000.0}, 256, "eight GPUs (torchrun)"),
}


def recommended_tokens(params: int) -> int:
    """Tokens per run a model of ``params`` parameters (embeddings included) should see, rounded."""
    return int(round(TOKENS_PER_PARAM * params, -6 if params > 1e6 else -4))


def measure_tokens_per_s(model_config, batch_size: int, device: str = "auto", steps: int = 4) -> float:
    """Training tokens/s of ``model_config`` at ``batch_size`` on ``device``: forward, backward, AdamW."""
    from curate.proxy.train import TrainConfig, make_optimizer, new_model, resolve_device

    dev = resolve_device(device)
    model = new_model(model_config, seed=0, device=dev)
    opt = make_optimizer(model, TrainConfig())
    gen = np.random.default_rng(0)
    autocast = torch.autocast("cuda", dtype=torch.bfloat16) if dev.type == "cuda" else torch.autocast("cpu", enabled=False)
    t0 = 0.0
    for i in range(steps + 1):  # the first step warms up kernels and the allocator and is not timed
        if i == 1:
            if dev.type == "cuda":
                torch.cuda.synchronize()
            t0 = time.perf_counter()
        w = torch.from_numpy(gen.integers(0, model_config.vocab_size, size=(batch_size, model_config.context + 1))).to(dev)
        with autocast:
            logits = model(w[:, :-1])
        loss = F.cross_entropy(logits.float().flatten(0, 1), w[:, 1:].flatten())
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
    float(loss.detach())
    return steps * batch_size * model_config.context / (time.perf_counter() - t0)


def plan(cfg, vocab_size: int | None = None, device: str | None = None) -> dict:
    """Runs, tokens, measured tokens/s and estimated wall time of a comparison (``CompareConfig``)."""
    from curate.proxy.model import ProxyModel

    vocab = vocab_size or cfg.tokenizer.vocab_size
    model_config = cfg.model.build(vocab)
    with torch.device("meta"):
        params = ProxyModel(model_config).num_parameters()
    step_tokens = cfg.train.batch_size * cfg.train.grad_accum * model_config.context
    run_tokens = cfg.train.steps(model_config.context) * step_tokens
    runs = (len(cfg.candidates) + len(cfg.controls)) * len(cfg.seeds)
    tps = measure_tokens_per_s(model_config, cfg.train.batch_size, device or cfg.train.device)
    train_s = runs * run_tokens / tps
    # Evaluation is forward-only (about a third of a training step per token): the held-out text at
    # ~3 bytes per token and the benchmark items at ~4 choices of ~100 tokens.
    eval_tokens = 200_000 + len(cfg.eval.tasks) * (cfg.eval.limit or 1000) * 400
    eval_s = runs * eval_tokens / (3 * tps)
    return {
        "parameters": params,
        "runs": runs,
        "tokens_per_run": run_tokens,
        "recommended_tokens_per_run": recommended_tokens(params),
        "tokens_per_s": tps,
        "train_seconds": train_s,
        "eval_seconds": eval_s,
        "total_seconds": train_s + eval_s,
    }


def plan_text(result: dict) -> str:
    r = result
    lines = [
        (f"model: {r['parameters']:,} parameters; recommended budget "
         f"{r['recommended_tokens_per_run']:,} tokens per run ({TOKENS_PER_PARAM} per parameter)"),
        f"runs: {r['runs']} (candidates and controls × seeds) of {r['tokens_per_run']:,} tokens",
        f"measured here: {r['tokens_per_s']:,.0f} training tokens/s",
        f"estimated wall time: {r['total_seconds'] / 60:.1f} min (training {r['train_seconds'] / 60:.1f}, evaluation ~{r['eval_seconds'] / 60:.1f})",
    ]
    if r["tokens_per_run"] < r["recommended_tokens_per_run"] / 10:
        lines.append("note: the budget is under a tenth of the recommended one; add controls to see what it can resolve")
    lines.append("presets: " + "; ".join(f"{n} ({p.note})" for n, p in PRESETS.items()))
    return "\n".join(lines)
