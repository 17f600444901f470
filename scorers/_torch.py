"""What the torch-based scorers share: device and dtype names, lazy imports with the install line."""

from __future__ import annotations

from typing import Any


def require_transformers() -> Any:
    """The transformers module, or an ImportError that says how to install it."""
    try:
        import transformers
    except ImportError as exc:
        raise ImportError(
            "this scorer needs transformers; install it with `pip install 'curate[transformers]'`"
        ) from exc
    return transformers


def torch_dtype(name: str) -> Any:
    """``float32`` / ``bfloat16`` / ``float16`` as a torch dtype."""
    import torch

    try:
        return {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[name]
    except KeyError:
        raise ValueError(f"dtype {name!r} is not one of float32, bfloat16, float16") from None


def check_device(device: str) -> str:
    """The device, after checking that CUDA exists when it is asked for (no silent fallback to CPU)."""
    import torch

    if device.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError(f"device {device!r} was asked for but torch sees no CUDA device; set `device: cpu`")
    return device


def set_threads(threads: int | None) -> None:
    """Match torch's intra-op threads to the cores the stage declared (None: leave torch's default).

    A worker runs one stage's share of the machine; torch's default of one thread per core makes several
    workers on one host fight over the cores, which on small CPU models costs a factor of two or three.
    """
    if threads is not None:
        import torch

        torch.set_num_threads(max(1, threads))


def length_batches(lengths: list[int], max_rows: int, max_tokens: int) -> list[list[int]]:
    """Indices grouped into batches of similar length (longest first), each padded size <= max_tokens.

    Sorting by length before batching means little padding, so the forward passes do useful work.
    A batch holds at least one row, however long.
    """
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    batches: list[list[int]] = []
    current: list[int] = []
    for i in order:
        longest = lengths[current[0]] if current else lengths[i]
        if current and (len(current) >= max_rows or longest * (len(current) + 1) > max_tokens):
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches
