"""Data-parallel proxy training: several processes share each step's batch (torch.distributed).

Why: the larger presets (20M-150M parameters, billions of tokens) need more than one device. Two ways in:
``torchrun --nproc_per_node N $(which curate) proxy train ...`` (``init_from_env`` picks up torchrun's
environment; NCCL on CUDA), or :func:`train_ddp`, which starts N local processes itself with gloo (the CPU
path, and the tests: two gloo processes give the loss curve of one process with the same global batch).
What each rank does is in :func:`curate.proxy.train.train`. Memory per process: one model, its share of a
batch, and the memory-mapped token file.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from curate.proxy.model import ProxyConfig


def init_from_env() -> bool:
    """Join the process group torchrun describes (``WORLD_SIZE`` > 1); False when not launched that way."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1 or dist.is_initialized():
        return dist.is_initialized()
    dist.init_process_group(backend="nccl" if torch.cuda.is_available() else "gloo")
    return True


def _worker(rank: int, world: int, store: str, model_config: ProxyConfig, cfg, stream_path: str, dtype: str, out: str) -> None:
    from curate.proxy.train import train

    dist.init_process_group("gloo", init_method=f"file://{store}", rank=rank, world_size=world)
    try:
        train(model_config, cfg, np.memmap(stream_path, dtype=np.dtype(dtype), mode="r"), out, quiet=True)
    finally:
        dist.destroy_process_group()


def train_ddp(nprocs: int, model_config: ProxyConfig, cfg, stream: np.ndarray, out: str | Path) -> dict:
    """Train with ``nprocs`` local gloo processes into ``out``; returns the run's log.json.

    The token stream reaches the workers as a file they memory-map (a memmap's own file, or a temporary
    copy of an in-memory array), not pickled into each process.
    """
    import json

    from curate.core.errors import RecipeError

    if cfg.batch_size % nprocs:
        raise RecipeError(f"train.batch_size {cfg.batch_size} must be a multiple of the {nprocs} data-parallel processes")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out) as tmp:
        if isinstance(stream, np.memmap) and stream.filename:
            path, dtype = str(stream.filename), stream.dtype.str
        else:
            path, dtype = str(Path(tmp) / "tokens.bin"), np.asarray(stream).dtype.str
            np.asarray(stream).tofile(path)
        mp.spawn(_worker, args=(nprocs, str(Path(tmp) / "store"), model_config, cfg, path, dtype, str(out)), nprocs=nprocs, join=True)
    return json.loads((out / "log.json").read_text(encoding="utf-8"))
