"""Stable hashing: the one place curate turns strings and integers into well-spread 64-bit numbers.

Every decision that depends on a hash (dedup, held-out splits, subsets, shuffles, partitions) must give
the same answer on every machine and Python version, so we use xxhash (never Python's ``hash()``) and
the splitmix64 finaliser (Steele et al. 2014) for integers. Both are vectorised over numpy arrays where
possible; hashing strings is a per-row Python path, because xxhash has no Arrow kernel.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pyarrow as pa
import xxhash

#: 2**64 / golden ratio, odd: splitmix64's increment, and a good multiplier for polynomial rolling hashes.
GOLDEN = np.uint64(0x9E3779B97F4A7C15)
#: splitmix64's two finaliser multipliers.
MIX1 = np.uint64(0xBF58476D1CE4E5B9)
MIX2 = np.uint64(0x94D049BB133111EB)


def mix64(values: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser over a uint64 array: spreads keys that are not hashes (row numbers, ids)."""
    x = values.astype(np.uint64, copy=True)
    with np.errstate(over="ignore"):
        x ^= x >> np.uint64(30)
        x *= MIX1
        x ^= x >> np.uint64(27)
        x *= MIX2
        x ^= x >> np.uint64(31)
    return x


def splitmix64(values: np.ndarray) -> np.ndarray:
    """One full splitmix64 step (add the golden increment, then finalise): a stable permutation key."""
    with np.errstate(over="ignore"):
        return mix64(values.astype(np.uint64, copy=False) + GOLDEN)


def hash_strings(values: pa.Array | pa.ChunkedArray | Iterable[str | bytes], seed: int = 0, prefix: bytes = b"") -> np.ndarray:
    """xxh64 of ``prefix + value`` for each value (strings are UTF-8 encoded), as uint64; nulls hash as ''."""
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        values = values.to_pylist()
    seed64 = seed % (1 << 64)
    # per-row Python path: xxhash has no vectorised Arrow kernel (~1M short strings/s)
    items = [prefix + (v.encode("utf-8") if isinstance(v, str) else (v or b"")) for v in values]
    return np.fromiter((xxhash.xxh64_intdigest(v, seed=seed64) for v in items), dtype=np.uint64, count=len(items))
