"""Where a comparison's runs train: one after another in this process, or in parallel on Ray workers.

Why: a comparison is candidates × seeds independent runs; on a machine with several devices, or on a Ray
cluster, they train side by side. Each Ray task gets the run's token file path (memory-mapped in the
worker, never pickled), the tokenizer as JSON, and the eval documents and items (a few hundred, small);
it writes the same ``runs/<candidate>/seed<N>/`` folder a local run writes, so a comparison can be
resumed by either placement. Memory per worker: one model, one batch, the eval set.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field


class Placement(BaseModel):
    """How the runs of a comparison are placed."""

    model_config = ConfigDict(extra="forbid")

    executor: Literal["local", "ray"] = Field("local", description="local: runs one after another here; ray: one Ray task per run, in parallel")
    ray_address: str | None = Field(None, description="join this Ray cluster (auto or HOST:PORT); default: start a local Ray for the comparison")
    workers: int = Field(2, gt=0, description="CPUs of a local Ray started for the comparison")
    cpus_per_run: float = Field(1.0, gt=0, description="CPUs a run's Ray task reserves (its torch threads)")
    gpus_per_run: float = Field(0.0, ge=0, description="GPUs a run's Ray task reserves (1 for a GPU run)")


def _remote_run(cfg, name: str, seed: int, stream_path: str, dtype: str, tokenizer_json: str, eval_docs, items, out: str, threads: int) -> dict:
    import torch
    from tokenizers import Tokenizer

    from curate.proxy.compare import run_one

    torch.set_num_threads(max(1, threads))  # this worker process's share of the node, not every core
    stream = np.memmap(stream_path, dtype=np.dtype(dtype), mode="r")
    return run_one(cfg, name, seed, stream, Tokenizer.from_str(tokenizer_json), eval_docs, items, Path(out), quiet=True)


def run_on_ray(cfg, jobs: list[tuple[str, int, np.memmap]], tokenizer, eval_docs, items, out: Path) -> list[dict]:
    """Every (candidate, seed, token file) job as a Ray task; results in job order."""
    import ray

    from curate.engine.executors.ray import LOCAL_NODE_IP, _loopback_host

    place: Placement = cfg.placement
    owns = not ray.is_initialized()
    if owns:
        if place.ray_address:
            ray.init(address=place.ray_address, log_to_driver=False, _node_ip_address=_loopback_host(place.ray_address))
        else:
            ray.init(address="local", num_cpus=place.workers, include_dashboard=False, log_to_driver=False, _node_ip_address=LOCAL_NODE_IP)
    try:
        task = ray.remote(num_cpus=place.cpus_per_run, num_gpus=place.gpus_per_run, max_retries=2)(_remote_run)
        tok = tokenizer.to_str()
        refs = [task.remote(cfg, name, seed, str(stream.filename), stream.dtype.str, tok, eval_docs, items, str(out), int(place.cpus_per_run))
                for name, seed, stream in jobs]
        return ray.get(refs)
    finally:
        if owns:
            ray.shutdown()
