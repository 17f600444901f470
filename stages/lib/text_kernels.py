"""Compiled loops (numba, cached on disk after the first compile) over a batch's UTF-8 text in place.

:func:`whitespace_chunks` cuts every document into its whitespace-free chunks and numbers the distinct
ones: what ``str.extract_all(r"\\S+")`` and a dictionary encoding of the result give, in one pass over the
bytes with no string made per chunk.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from numba import njit


def string_buffers(text: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """A string array's byte offsets (int64, one per row plus the end) and its UTF-8 bytes, without copying
    the bytes: what the kernels here read. ``text`` has no nulls (their offsets may span bytes)."""
    n = len(text)
    offsets = np.frombuffer(text.buffers()[1], dtype=np.int32, count=text.offset + n + 1)[text.offset:].astype(np.int64)
    data = text.buffers()[2]
    return offsets, np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(1, dtype=np.uint8)


_FNV64_OFFSET = np.uint64(14695981039346656037)
_FNV64_PRIME = np.uint64(1099511628211)


@njit(cache=True, inline="always")
def _space_bytes(data, p, end):
    """Length in bytes of the whitespace character at ``p`` (0 if it is not one): Unicode White_Space,
    as the regex ``\\s`` of polars (and Python's ``str.split()`` less U+001C..U+001F)."""
    b = data[p]
    if b == 32 or (9 <= b <= 13):
        return 1
    if b < 0xC2:
        return 0
    if b == 0xC2 and p + 1 < end and (data[p + 1] == 0x85 or data[p + 1] == 0xA0):
        return 2
    if p + 2 >= end:
        return 0
    b1, b2 = data[p + 1], data[p + 2]
    if b == 0xE1 and b1 == 0x9A and b2 == 0x80:  # U+1680
        return 3
    if b == 0xE2 and b1 == 0x80 and (b2 <= 0x8A or b2 == 0xA8 or b2 == 0xA9 or b2 == 0xAF):  # U+2000..200A, 2028, 2029, 202F
        return 3 if b2 >= 0x80 else 0
    if b == 0xE2 and b1 == 0x81 and b2 == 0x9F:  # U+205F
        return 3
    if b == 0xE3 and b1 == 0x80 and b2 == 0x80:  # U+3000
        return 3
    return 0


@njit(cache=True)
def whitespace_chunks(data, offsets):
    """Every document's chunks between whitespace, in order, and the distinct chunks.

    Returns (chunks per document, each chunk's distinct index, start and end byte of each distinct chunk);
    distinct chunks are numbered in order of first occurrence, as a dictionary encoding numbers them.
    """
    n = len(offsets) - 1
    per_doc = np.zeros(n, dtype=np.int64)
    cap = 1024
    starts = np.empty(cap, dtype=np.int64)
    ends = np.empty(cap, dtype=np.int64)
    hashes = np.empty(cap, dtype=np.uint64)
    k = 0
    for d in range(n):
        p = offsets[d]
        end = offsets[d + 1]
        while p < end:
            s = _space_bytes(data, p, end)
            if s:
                p += s
                continue
            q = p
            h = _FNV64_OFFSET
            while q < end:
                b = data[q]
                if b < 0x80:
                    if b == 32 or (9 <= b <= 13):
                        break
                elif _space_bytes(data, q, end):
                    break
                h = (h ^ np.uint64(b)) * _FNV64_PRIME
                q += 1
            if k == cap:
                cap *= 2
                starts = np.concatenate((starts, np.empty(cap - k, dtype=np.int64)))
                ends = np.concatenate((ends, np.empty(cap - k, dtype=np.int64)))
                hashes = np.concatenate((hashes, np.empty(cap - k, dtype=np.uint64)))
            starts[k] = p
            ends[k] = q
            hashes[k] = h
            k += 1
            per_doc[d] += 1
            p = q
    size = 16
    while size < 2 * k:
        size *= 2
    table = np.full(size, -1, dtype=np.int64)
    index = np.empty(k, dtype=np.int64)
    first = np.empty(k, dtype=np.int64)  # the occurrence that defines each distinct chunk
    distinct = 0
    for i in range(k):
        slot = np.int64(hashes[i] & np.uint64(size - 1))
        while True:
            j = table[slot]
            if j == -1:
                table[slot] = distinct
                first[distinct] = i
                index[i] = distinct
                distinct += 1
                break
            o = first[j]
            length = ends[i] - starts[i]
            if ends[o] - starts[o] == length:
                same = True
                for t in range(length):
                    if data[starts[o] + t] != data[starts[i] + t]:
                        same = False
                        break
                if same:
                    index[i] = j
                    break
            slot = (slot + 1) & (size - 1)
    first = first[:distinct]
    return per_doc, index, starts[first].copy(), ends[first].copy()


@njit(cache=True)
def gather_spans(data, starts, ends):
    """The byte spans side by side, with Arrow string offsets (int32) over them."""
    n = len(starts)
    offsets = np.zeros(n + 1, dtype=np.int32)
    for i in range(n):
        offsets[i + 1] = offsets[i] + (ends[i] - starts[i])
    out = np.empty(offsets[n], dtype=np.uint8)
    for i in range(n):
        out[offsets[i]: offsets[i + 1]] = data[starts[i]: ends[i]]
    return offsets, out
