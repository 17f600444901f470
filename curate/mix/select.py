"""Which documents a blend takes, decided without gathering a corpus's documents in one process.

Every document of a source has two stable keys, from ``h = xxh64(seed, source, id)``:

* the **subset key** ``u = splitmix64(h ^ SALT)``, which orders a source for its fractional epoch;
* the **order key** ``splitmix64(h + (repeat + 1) * GOLDEN)`` of each (document, repeat), which orders the
  blend: output shards are ranges of it, and rows inside a shard are sorted by it (then source, then input
  position), so the blend's order does not depend on how the work was split.

``epochs = w + f`` (``w`` whole, ``0 <= f < 1``) takes every document ``w`` times (repeats ``0..w-1``), then,
with repeat ``w``, the documents with the smallest subset keys: the longest run of keys whose sizes
(tokens with EOD, or bytes) add up to at most ``T = f * source size``, then — scanning the keys of the next
:data:`FILL_WINDOW` documents in key order — each one that still fits in what is left of ``T``, at most
:data:`FILL_STEPS` of them. Documents sharing a key (a repeated id) are taken or left together. The result
is below ``T`` by less than the smallest document in that window that did not fit (in practice a few
tokens; the tests hold it to 0.5% of the effective size of sources of ~100 documents).

The driver finds the run's end from per-piece histograms of ``u`` (:data:`HIST_BITS` top bits → documents,
size), merged into one array of 2^20 buckets; only the documents of the bucket where ``T`` falls and the
:data:`FILL_WINDOW` documents after it are gathered to place the cut exactly. A piece then applies the
result as ``u < cut or u in fills``. Memory on the driver: the histogram and that window, never the corpus.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from curate.core.hashing import GOLDEN, splitmix64

SALT = np.uint64(0x5DEECE66D2B1A5F3)
#: Top bits of the subset key a histogram bucket keeps (2^20 buckets: 16 MiB merged per source).
HIST_BITS = 20
#: Documents after the run whose keys a fractional epoch scans to fill the gap to its target.
FILL_WINDOW = 4096
#: Documents a fractional epoch may add after its run to land on the target.
FILL_STEPS = 64


def subset_keys(hashes: np.ndarray) -> np.ndarray:
    return splitmix64(hashes ^ SALT)


def order_keys(hashes: np.ndarray, repeats: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        return splitmix64(hashes + (repeats.astype(np.uint64) + np.uint64(1)) * GOLDEN)


def buckets(keys: np.ndarray) -> np.ndarray:
    return (keys >> np.uint64(64 - HIST_BITS)).astype(np.int64)


def partition_of(keys: np.ndarray, parts: int) -> np.ndarray:
    """Output shard of each order key: ``parts`` equal ranges of the key, so shards concatenate in order."""
    return ((keys >> np.uint64(32)) * np.uint64(parts) >> np.uint64(32)).astype(np.int64)


def histogram(keys: np.ndarray, sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sparse histogram of subset keys: (bucket, documents, size) for the non-empty buckets."""
    b = buckets(keys)
    uniq, inverse = np.unique(b, return_inverse=True)
    docs = np.bincount(inverse, minlength=len(uniq)).astype(np.int64)
    size = np.zeros(len(uniq), dtype=np.int64)
    np.add.at(size, inverse, sizes.astype(np.int64))
    return uniq, docs, size


def whole_and_fraction(epochs: float) -> tuple[int, float]:
    whole = math.floor(epochs + 1e-9)
    frac = max(0.0, epochs - whole)
    return whole, (frac if frac > 1e-9 else 0.0)


@dataclass(frozen=True)
class Window:
    """Where a fractional epoch's run ends, from the merged histogram: gather buckets [first, last]."""

    target: float
    first: int
    last: int
    base_docs: int  # documents (and size) in buckets before ``first``: all taken
    base_size: int


def plan_window(docs: np.ndarray, size: np.ndarray, target: float) -> Window:
    cum = np.cumsum(size)
    first = int(np.searchsorted(cum, target, side="right"))  # the bucket where the run ends
    first = min(first, len(size) - 1)
    after = np.cumsum(docs[first + 1 :])
    more = int(np.searchsorted(after, FILL_WINDOW, side="left"))
    last = min(first + 1 + more, len(size) - 1)
    base_docs = int(docs[:first].sum())
    return Window(target, first, last, base_docs, int(cum[first - 1]) if first else 0)


@dataclass(frozen=True)
class Cut:
    """A fractional epoch's documents: subset key below ``cut``, or one of ``fills``; with their totals."""

    cut: int
    fills: tuple[int, ...]
    docs: int
    size: int

    def mask(self, keys: np.ndarray) -> np.ndarray:
        taken = keys < np.uint64(self.cut)
        if self.fills:
            taken |= np.isin(keys, np.array(self.fills, dtype=np.uint64))
        return taken


def place_cut(window: Window, keys: np.ndarray, sizes: np.ndarray) -> Cut:
    """The exact run and fills from the documents (keys, sizes) of the window's buckets."""
    gkeys, inverse, gdocs = np.unique(keys, return_inverse=True, return_counts=True)
    gsize = np.zeros(len(gkeys), dtype=np.int64)
    np.add.at(gsize, inverse, sizes.astype(np.int64))
    cum = window.base_size + np.cumsum(gsize)
    k = int(np.searchsorted(cum, window.target, side="right"))  # groups [0, k) make the run
    if k >= len(gkeys):  # the whole window fits: nothing left to fill from
        return Cut((1 << 64) - 1, (), window.base_docs + int(gdocs.sum()), int(cum[-1]))
    taken_size = int(cum[k - 1]) if k else window.base_size
    gap = window.target - taken_size
    scan = np.flatnonzero(np.cumsum(gdocs[k:]) <= FILL_WINDOW) + k
    fills: list[int] = []
    docs = window.base_docs + int(gdocs[:k].sum())
    for j in scan:  # per-key Python path over at most FILL_WINDOW keys, stops after FILL_STEPS picks
        if len(fills) == FILL_STEPS:
            break
        if gsize[j] <= gap:
            fills.append(int(gkeys[j]))
            gap -= float(gsize[j])
            taken_size += int(gsize[j])
            docs += int(gdocs[j])
    return Cut(int(gkeys[k]), tuple(fills), docs, taken_size)
