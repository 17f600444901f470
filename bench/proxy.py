"""Tokens/s of the proxy trainer vs a minimal plain-torch loop on the same model and data, in one process.

Why: the trainer adds a schedule, gradient clipping, accumulation, loss logging and checkpoints; none of
that may cost real throughput. Both sides train the same GPT-S-1.4M-shaped model (same init) on windows
of the same token stream (the shipped sample, tokenized with data/tokenizer/sample-bpe.json). Runs
alternate (reference, ours, reference, ours) and each side keeps its best, to damp the noise of a shared
machine. Ours is timed around the whole ``train()`` call, setup and final checkpoint included. On CUDA
(bf16 autocast) the model-FLOPs utilisation is printed too. With ``--ddp N`` the data-parallel path
(N local gloo processes sharing each batch, :func:`curate.proxy.distributed.train_ddp`) is timed too,
by its own training-loop tokens/s. The last line is ``ratio=X.XX`` (ours / plain).

    python bench/proxy.py [--steps 40] [--batch-size 4] [--context 384] [--ddp 2]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from curate.proxy.data import read_documents, token_stream
from curate.proxy.model import ProxyConfig
from curate.proxy.tokenizer import load_tokenizer
from curate.proxy.train import TrainConfig, new_model, train

ROOT = Path(__file__).resolve().parent.parent
#: Dense bf16 peak FLOP/s by GPU name, for MFU.
PEAK_BF16 = {"H200": 989e12, "H100": 989e12, "A100": 312e12, "L40S": 362e12, "A10": 125e12, "L4": 121e12}


def plain_loop(config: ProxyConfig, stream: np.ndarray, steps: int, batch: int, device: torch.device) -> float:
    """nanoGPT-style: random windows, forward, cross-entropy, backward, AdamW step. Returns tokens/s."""
    model = new_model(config, seed=0, device=device)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, betas=(0.9, 0.95), weight_decay=0.1)
    data = torch.from_numpy(stream.astype(np.int64))
    gen = torch.Generator().manual_seed(0)
    autocast = torch.autocast("cuda", dtype=torch.bfloat16) if device.type == "cuda" else torch.autocast("cpu", enabled=False)
    t0 = time.perf_counter()
    for _ in range(steps):
        starts = torch.randint(0, len(data) - config.context - 1, (batch,), generator=gen)
        w = torch.stack([data[s : s + config.context + 1] for s in starts.tolist()])
        x, y = w[:, :-1].to(device), w[:, 1:].to(device)
        with autocast:
            logits = model(x)
        loss = F.cross_entropy(logits.float().flatten(0, 1), y.flatten())
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
    float(loss.detach())  # wait for the device
    return steps * batch * config.context / (time.perf_counter() - t0)


def ours(config: ProxyConfig, stream: np.ndarray, steps: int, batch: int, device: torch.device) -> float:
    cfg = TrainConfig(tokens=steps * batch * config.context, batch_size=batch, lr=3e-3, device=device.type, log_every=max(1, steps // 4))
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        train(config, cfg, stream, tmp)
        return steps * batch * config.context / (time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=40, help="optimizer steps per timed run (enough to amortise setup and the final checkpoint)")
    parser.add_argument("--batch-size", type=int, default=4, help="sequences per step (use 64+ on a GPU)")
    parser.add_argument("--context", type=int, default=384, help="sequence length")
    parser.add_argument("--repeats", type=int, default=2, help="timed runs per side (best kept)")
    parser.add_argument("--ddp", type=int, default=0, help="also time N local data-parallel gloo processes (0: skip)")
    args = parser.parse_args()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    tokenizer = load_tokenizer(ROOT / "data" / "tokenizer" / "sample-bpe.json")
    texts = read_documents([str(ROOT / "data" / "sample" / "web-00002.parquet")]).column("text").to_pylist()
    stream = token_stream(tokenizer, texts)
    config = ProxyConfig(vocab_size=tokenizer.get_vocab_size(), context=args.context)
    plain_loop(config, stream, 2, args.batch_size, device)  # warm up kernels and allocator
    ref_best, ours_best = 0.0, 0.0
    for _ in range(args.repeats):
        ref_best = max(ref_best, plain_loop(config, stream, args.steps, args.batch_size, device))
        ours_best = max(ours_best, ours(config, stream, args.steps, args.batch_size, device))
    print(f"device={device.type} {torch.cuda.get_device_name() if device.type == 'cuda' else ''}".rstrip())
    print(f"model: {new_model(config, 0).num_parameters():,} parameters, {config.context} context, batch {args.batch_size}, {args.steps} steps")
    print(f"plain torch loop: {ref_best:,.0f} tokens/s")
    print(f"curate trainer:   {ours_best:,.0f} tokens/s")
    if device.type == "cuda":
        flops = new_model(config, 0).flops_per_token()
        name = torch.cuda.get_device_name()
        peak = next((v for k, v in PEAK_BF16.items() if k in name), None)
        if peak:
            print(f"MFU (bf16 peak {peak / 1e12:.0f} TFLOP/s): ours {ours_best * flops / peak:.2%}, plain {ref_best * flops / peak:.2%}")
        else:
            print(f"model TFLOP/s: ours {ours_best * flops / 1e12:.2f} (no peak known for {name})")
    if args.ddp > 1:
        from curate.proxy.distributed import train_ddp

        cfg = TrainConfig(tokens=args.steps * args.batch_size * config.context, batch_size=args.batch_size, lr=3e-3, device="cpu",
                          log_every=max(1, args.steps // 4))
        with tempfile.TemporaryDirectory() as tmp:
            log = train_ddp(args.ddp, config, cfg, stream, tmp)
        print(f"data parallel ({args.ddp} gloo processes, CPU): {log['tokens_per_s']:,.0f} tokens/s")
    print(f"ratio={ours_best / ref_best:.2f}")


if __name__ == "__main__":
    main()
