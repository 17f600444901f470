"""Train a proxy model on a token stream: AdamW, warmup-stable-decay, a token budget, resumable checkpoints.

Why these choices: a data comparison needs runs that differ only in their data. The schedule is
warmup-stable-decay (MiniCPM, DataDecide's small-model ladders) so a budget can be cut anywhere in the
stable phase; batches depend on (seed, step) alone and the checkpoint holds the optimizer moments, so a
killed run resumes to the same weights, bit for bit on the same machine. Checkpoints are safetensors (no
pickle). ``export_hf`` writes a ``LlamaForCausalLM`` folder that transformers and vLLM load.

Data parallel: when ``torch.distributed`` is initialised (``torchrun``, or
:func:`curate.proxy.distributed.train_ddp`), every rank draws the same global micro-batch of
``batch_size`` windows and trains on its own ``batch_size / world`` rows under DistributedDataParallel,
whose gradient average makes the step the one a single process takes on the whole batch; rank 0 writes
the checkpoints and the log. CUDA runs in bf16 autocast, the CPU in fp32.

    OUT/checkpoint/{model.safetensors, optimizer.safetensors, state.json}   latest step, written atomically
    OUT/log.json    the loss curve (every ``log_every`` steps), tokens/s, the configs
    OUT/hf/         the exported model (config.json, model.safetensors, tokenizer files)
"""

from __future__ import annotations

import json
import math
import os
import shutil
import time
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from pydantic import BaseModel, ConfigDict, Field
from safetensors.torch import load_file, save_file
from tokenizers import Tokenizer

from curate.core.errors import OutputError, RecipeError
from curate.proxy.data import batch_at
from curate.proxy.model import ProxyConfig, ProxyModel
from curate.proxy.tokenizer import EOD, eod_id, write_hf_files


class TrainConfig(BaseModel):
    """How one proxy model is trained; everything but ``seed`` is shared by the runs of a comparison."""

    model_config = ConfigDict(extra="forbid")

    tokens: int = Field(2_000_000, gt=0, description="token budget: training stops after this many tokens (rounded up to whole steps)")
    batch_size: int = Field(16, gt=0, description="sequences per micro-batch")
    grad_accum: int = Field(1, gt=0, description="micro-batches summed into one optimizer step")
    lr: float = Field(3e-3, gt=0, description="peak learning rate")
    min_lr_ratio: float = Field(0.1, ge=0, le=1, description="learning rate at the end of the decay, as a fraction of lr")
    warmup: float = Field(0.05, ge=0, lt=1, description="fraction of steps spent warming up linearly from 0")
    decay: float = Field(0.2, ge=0, le=1, description="fraction of steps, at the end, spent decaying linearly to min_lr")
    weight_decay: float = Field(0.1, ge=0, description="AdamW decoupled weight decay on matrices (not on norms)")
    betas: tuple[float, float] = Field((0.9, 0.95), description="AdamW beta1, beta2")
    grad_clip: float = Field(1.0, ge=0, description="clip the global gradient norm to this (0: no clipping)")
    seed: int = Field(0, description="seed of the initial weights and of the batch order")
    device: Literal["auto", "cpu", "cuda"] = Field("auto", description="auto: cuda when available, else cpu")
    checkpoint_every: int = Field(0, ge=0, description="write a checkpoint every N steps (0: only at the end)")
    log_every: int = Field(10, gt=0, description="log the loss every N steps")

    def steps(self, context: int) -> int:
        return math.ceil(self.tokens / (self.batch_size * self.grad_accum * context))


def wsd_lr(step: int, total: int, cfg: TrainConfig) -> float:
    """Warmup-stable-decay: linear warmup to lr, flat, then linear decay to lr * min_lr_ratio."""
    warm = int(cfg.warmup * total)
    decay_start = total - int(cfg.decay * total)
    if step < warm:
        return cfg.lr * (step + 1) / warm
    if step < decay_start:
        return cfg.lr
    frac = (step - decay_start + 1) / max(1, total - decay_start)
    return cfg.lr * (1.0 - frac * (1.0 - cfg.min_lr_ratio))


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def new_model(config: ProxyConfig, seed: int, device: torch.device | str = "cpu") -> ProxyModel:
    """A freshly initialised model; the seed alone fixes its weights (the global RNG is left untouched)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = ProxyModel(config)
    return model.to(device)


def make_optimizer(model: ProxyModel, cfg: TrainConfig) -> torch.optim.AdamW:
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    groups = [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=cfg.lr, betas=cfg.betas, fused=None)


@dataclass
class TrainResult:
    model: ProxyModel
    steps: int
    tokens: int
    final_loss: float
    tokens_per_s: float
    history: list[dict]


# -- checkpoints --------------------------------------------------------------------------------------


def _param_names(model: ProxyModel) -> list[tuple[str, torch.nn.Parameter]]:
    return list(model.named_parameters())  # a tied head appears once, as embed_tokens.weight


def save_checkpoint(folder: Path, model: ProxyModel, opt: torch.optim.AdamW, state: dict) -> None:
    """Weights, AdamW moments and the run state, written to a temporary folder and renamed into place."""
    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    names = _param_names(model)
    save_file({n: p.detach().cpu().contiguous() for n, p in names}, str(tmp / "model.safetensors"))
    moments: dict[str, torch.Tensor] = {}
    for n, p in names:
        s = opt.state.get(p)
        if s:
            moments[f"{n}:exp_avg"] = s["exp_avg"].cpu().contiguous()
            moments[f"{n}:exp_avg_sq"] = s["exp_avg_sq"].cpu().contiguous()
            moments[f"{n}:step"] = torch.as_tensor(s["step"]).reshape(1).float().cpu()
    save_file(moments, str(tmp / "optimizer.safetensors"))
    (tmp / "state.json").write_text(json.dumps(state, indent=1) + "\n", encoding="utf-8")
    old = folder.with_name(folder.name + ".old")
    if folder.exists():
        os.replace(folder, old)
    os.replace(tmp, folder)
    shutil.rmtree(old, ignore_errors=True)


def load_checkpoint(folder: str | Path, device: torch.device | str = "cpu") -> tuple[ProxyModel, dict]:
    """The model of a checkpoint folder (or of a run folder holding ``checkpoint/``) and its state."""
    folder = Path(folder)
    if (folder / "checkpoint").is_dir():
        folder = folder / "checkpoint"
    if not (folder / "state.json").is_file():
        raise OutputError(f"{folder}: no proxy checkpoint here (state.json missing); train one with `curate proxy train`")
    state = json.loads((folder / "state.json").read_text(encoding="utf-8"))
    model = ProxyModel(ProxyConfig(**state["model"]))
    model.load_state_dict(load_file(str(folder / "model.safetensors")), strict=False)
    return model.to(device), state


def _restore_optimizer(folder: Path, model: ProxyModel, opt: torch.optim.AdamW) -> None:
    moments = load_file(str(folder / "optimizer.safetensors"))
    index = {id(p): i for i, p in enumerate(p for g in opt.param_groups for p in g["params"])}
    state = {}
    for n, p in _param_names(model):
        if f"{n}:exp_avg" in moments:
            state[index[id(p)]] = {
                "step": moments[f"{n}:step"].reshape(()),
                "exp_avg": moments[f"{n}:exp_avg"].to(p.device),
                "exp_avg_sq": moments[f"{n}:exp_avg_sq"].to(p.device),
            }
    opt.load_state_dict({"state": state, "param_groups": opt.state_dict()["param_groups"]})


# -- training -----------------------------------------------------------------------------------------


def _state(run_key: dict, step: int, history: list, seconds: float, losses: list[torch.Tensor], total: int) -> dict:
    pending = [float(v) for v in losses]  # exact: float32 -> float64 -> float32 round-trips
    return {**run_key, "step": step, "history": history, "seconds": seconds, "pending": pending, "total_steps": total}


def _save(rank: int, world: int, folder: Path, model: ProxyModel, opt: torch.optim.AdamW, state: dict) -> None:
    """Rank 0 writes the checkpoint; the others wait for it (every rank holds the same weights)."""
    if rank == 0:
        save_checkpoint(folder, model, opt, state)
    if world > 1:
        dist.barrier()


def train(
    model_config: ProxyConfig,
    cfg: TrainConfig,
    stream: np.ndarray,
    out: str | Path,
    stop_after: int | None = None,
    quiet: bool = True,
) -> TrainResult:
    """Train on ``stream`` into ``out``, resuming from ``out/checkpoint`` when one is there.

    ``stop_after`` ends the run after that many steps with a checkpoint, as a kill would (tests, budgets).
    """
    out = Path(out)
    world, rank = (dist.get_world_size(), dist.get_rank()) if dist.is_available() and dist.is_initialized() else (1, 0)
    if cfg.batch_size % world:
        raise RecipeError(f"train.batch_size {cfg.batch_size} must be a multiple of the {world} data-parallel processes")
    rows = slice(rank * (cfg.batch_size // world), (rank + 1) * (cfg.batch_size // world))  # this rank's share
    device = resolve_device(cfg.device)
    if world > 1 and device.type == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", rank % torch.cuda.device_count())))
    total = cfg.steps(model_config.context)
    run_key = {"model": model_config.to_dict(), "train": cfg.model_dump(mode="json"), "data_tokens": len(stream)}
    model = new_model(model_config, cfg.seed, device)
    opt = make_optimizer(model, cfg)
    step, history, seconds = 0, [], 0.0
    ckpt = out / "checkpoint"
    if (ckpt / "state.json").is_file():
        state = json.loads((ckpt / "state.json").read_text(encoding="utf-8"))
        if {k: state.get(k) for k in run_key} != run_key:
            raise OutputError(f"{out}: holds a run with another model, training config or data; use a new output folder")
        model.load_state_dict(load_file(str(ckpt / "model.safetensors"), device=str(device)), strict=False)
        _restore_optimizer(ckpt, model, opt)
        step, history, seconds = state["step"], state["history"], state["seconds"]
        pending = [torch.tensor(v, device=device) for v in state.get("pending", [])]
    else:
        pending = []
    out.mkdir(parents=True, exist_ok=True)
    module = torch.nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None) if world > 1 else model
    autocast = torch.autocast("cuda", dtype=torch.bfloat16) if device.type == "cuda" else torch.autocast("cpu", enabled=False)
    tokens_per_step = cfg.batch_size * cfg.grad_accum * model_config.context
    losses: list[torch.Tensor] = pending  # step losses since the last log line (kept across a resume)
    end = total if stop_after is None else min(total, stop_after)
    model.train()
    while step < end:
        t0 = time.perf_counter()
        lr = wsd_lr(step, total, cfg)
        for group in opt.param_groups:
            group["lr"] = lr
        step_loss = torch.zeros((), device=device)
        for micro in range(cfg.grad_accum):
            x, y = batch_at(stream, step, micro, cfg.batch_size, model_config.context, cfg.seed)
            x, y = x[rows].to(device, non_blocking=True), y[rows].to(device, non_blocking=True)
            sync = module.no_sync() if world > 1 and micro < cfg.grad_accum - 1 else nullcontext()  # all-reduce once per step
            with sync:
                with autocast:
                    logits = module(x)  # (B / world, T, V)
                loss = F.cross_entropy(logits.float().flatten(0, 1), y.flatten()) / cfg.grad_accum
                loss.backward()
            step_loss += loss.detach()
        if cfg.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        opt.step()
        opt.zero_grad(set_to_none=True)
        losses.append(step_loss)
        step += 1
        if step % cfg.log_every == 0 or step == total:
            mean_loss = torch.stack(losses).mean()
            if world > 1:
                dist.all_reduce(mean_loss)  # the global batch's loss: the mean of the ranks' equal shares
                mean_loss = mean_loss / world
            loss_value = float(mean_loss)  # one device sync per log interval
            losses = []
            history.append({"step": step, "tokens": step * tokens_per_step, "loss": round(loss_value, 5), "lr": lr})
            if not quiet and rank == 0:
                elapsed = seconds + time.perf_counter() - t0
                rate, left = step * tokens_per_step / max(elapsed, 1e-9), (total - step) * elapsed / step
                print(f"step {step}/{total}  loss {loss_value:.4f}  lr {lr:.2e}  {rate:,.0f} tokens/s  "
                      f"ETA {int(left) // 60}:{int(left) % 60:02d}", flush=True)
        seconds += time.perf_counter() - t0
        if cfg.checkpoint_every and step % cfg.checkpoint_every == 0 and step < end:
            _save(rank, world, ckpt, model, opt, _state(run_key, step, history, seconds, losses, total))
    state = _state(run_key, step, history, seconds, losses, total)
    _save(rank, world, ckpt, model, opt, state)
    tokens = step * tokens_per_step
    tps = tokens / seconds if seconds > 0 else 0.0
    log = {**run_key, "steps": step, "total_steps": total, "tokens": tokens, "tokens_per_s": round(tps, 1),
           "parameters": model.num_parameters(), "history": history}
    log["data_parallel"] = world
    if rank == 0:
        (out / "log.json").write_text(json.dumps(log, indent=1) + "\n", encoding="utf-8")
    return TrainResult(model, step, tokens, history[-1]["loss"] if history else float("nan"), tps, history)


# -- export -------------------------------------------------------------------------------------------


def hf_config(config: ProxyConfig, tokenizer: Tokenizer) -> dict:
    """``config.json`` of the equivalent ``LlamaForCausalLM`` (old and new rope keys, for any transformers)."""
    eod = eod_id(tokenizer)
    return {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "vocab_size": config.vocab_size,
        "hidden_size": config.hidden,
        "intermediate_size": config.intermediate,
        "num_hidden_layers": config.layers,
        "num_attention_heads": config.heads,
        "num_key_value_heads": config.kv_heads,
        "head_dim": config.head_dim,
        "hidden_act": "silu",
        "max_position_embeddings": config.context,
        "rms_norm_eps": config.norm_eps,
        "rope_theta": config.rope_theta,
        "rope_scaling": None,
        "rope_parameters": {"rope_type": "default", "rope_theta": config.rope_theta},
        "attention_bias": False,
        "attention_dropout": 0.0,
        "mlp_bias": False,
        "tie_word_embeddings": config.tie_embeddings,
        "initializer_range": config.init_std,
        "bos_token_id": eod,
        "eos_token_id": eod,
        "pad_token_id": tokenizer.token_to_id("<|pad|>"),
        "torch_dtype": "float32",
        "use_cache": True,
    }


def export_hf(model: ProxyModel, tokenizer: Tokenizer, folder: str | Path) -> Path:
    """Write a Hugging Face ``LlamaForCausalLM`` folder: config.json, model.safetensors, tokenizer files."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if tokenizer.get_vocab_size() > model.config.vocab_size or tokenizer.token_to_id(EOD) is None:
        raise OutputError(f"tokenizer ({tokenizer.get_vocab_size()} tokens) does not fit the model (vocab {model.config.vocab_size})")
    tensors = {}
    for name, p in _param_names(model):
        hf_name = name if name == "lm_head.weight" else f"model.{name}"
        tensors[hf_name] = p.detach().float().cpu().contiguous()
    save_file(tensors, str(folder / "model.safetensors"), metadata={"format": "pt"})
    (folder / "config.json").write_text(json.dumps(hf_config(model.config, tokenizer), indent=2) + "\n", encoding="utf-8")
    (folder / "generation_config.json").write_text(
        json.dumps({"bos_token_id": eod_id(tokenizer), "eos_token_id": eod_id(tokenizer)}, indent=2) + "\n", encoding="utf-8"
    )
    write_hf_files(tokenizer, folder, model.config.context)
    return folder
