"""Resources that follow a stage's `device` parameter, so Ray places CUDA scorers on GPU actors."""

from __future__ import annotations

from curate.core.stage import Resources


def with_device(resources: Resources, device: str) -> Resources:
    """``gpus: 1`` for a CUDA device unless the recipe set a GPU share itself; CPU stages are left as they are."""
    if device.startswith("cuda") and resources.gpus == 0:
        return resources.model_copy(update={"gpus": 1.0})
    return resources


def cpu_threads(resources: Resources, device: str) -> int | None:
    """torch threads for a CPU scorer: the cores it declared (at least one); None on GPU."""
    return max(1, int(resources.cpus)) if device == "cpu" else None
