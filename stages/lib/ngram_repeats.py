"""Gopher's n-gram repetition statistics over a batch: the most frequent n-gram, and repeated n-grams.

Both statistics depend only on n-grams that occur more than once in their document (a document without
one has the count-1 answer), and an (n+1)-gram can repeat only where its first n words repeat. So
:func:`repeated_ngrams` builds and hashes n-gram keys at every position only up to the smallest n, and
each larger n only at the positions the previous one left: on ordinary text a few per cent of the words by
n = 5.

Positions are word indices into the batch's flat word arrays; ``doc`` is each word's document.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from curate.core.hashing import GOLDEN, MIX1

_GOLDEN, _MIX1 = GOLDEN, MIX1  # module constants numba folds into the kernel


def repeated_ngrams(ids: np.ndarray, doc: np.ndarray, ns: list[int]) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """For each n of ``ns``: the positions (ascending) whose n-gram occurs more than once in its document,
    and the n-gram's 64-bit key at each (equal n-grams, equal keys).

    ``ids`` are the words as integers (:func:`text_stats.piece_ids`), ``doc`` ascending. A key grows by one
    word per step and only where the n-gram still fits in its document; at each n of ``ns`` the positions
    whose n-gram is unique in its document are dropped, so later steps touch only what repeated. One
    compiled pass per step (:func:`_repeated_kernel`): each document's n-grams are counted in a table of
    its own size, which stays in cache, where one table over the whole batch would not.
    """
    if not ns:
        return {}
    wanted = np.zeros(max(ns) + 1, dtype=np.bool_)
    wanted[list(ns)] = True
    positions, keys = _repeated_kernel(_as(ids, np.uint64), _as(doc, np.int64), wanted)
    sizes = [n for n in range(1, len(wanted)) if wanted[n]]
    return {n: (positions[i], keys[i]) for i, n in enumerate(sizes)}


@njit(cache=True)
def _repeated_kernel(ids, doc, wanted):
    """:func:`repeated_ngrams`: per wanted n (ascending), the repeated positions and their keys."""
    m = len(ids)
    pos = np.arange(m)
    key = np.zeros(m, dtype=np.uint64)
    last = np.empty(m, dtype=np.int64)  # at each position, its document's last word
    i = 0
    while i < m:
        j = i
        while j + 1 < m and doc[j + 1] == doc[i]:
            j += 1
        last[i:j + 1] = j
        i = j + 1
    table = _new_table()
    first = np.empty(m, dtype=np.int64)
    before = np.empty(m, dtype=np.int64)
    slot_of = np.empty(m, dtype=np.int64)
    # empty lists of arrays: numba types a list by its elements, so these comprehensions name them
    out_pos = [pos[:0].copy() for _ in range(0)]
    out_key = [key[:0].copy() for _ in range(0)]
    count = m
    for n in range(1, len(wanted)):
        w = 0
        for i in range(count):
            p = pos[i]
            end = p + n - 1
            if end <= last[p]:
                k = key[i]
                pos[w] = p
                key[w] = (k * _GOLDEN + ids[end] + np.uint64(1)) ^ ((k >> np.uint64(29)) * _MIX1)
                w += 1
        count = w
        if not wanted[n]:
            continue
        keep = np.zeros(count, dtype=np.bool_)
        i = 0
        while i < count:  # one document's positions at a time
            j = _document_end(pos, doc, i, count)
            table = _count_keys(key, pos, i, j, table, first, before, slot_of)
            for t in range(i, j):
                keep[t] = table[1][slot_of[t]] > 1  # the key's count in its document
            i = j
        w = 0
        for i in range(count):
            if keep[i]:
                pos[w] = pos[i]
                key[w] = key[i]
                w += 1
        count = w
        out_pos.append(pos[:count].copy())
        out_key.append(key[:count].copy())
    return out_pos, out_key


def top_ngram_chars(positions: np.ndarray, keys: np.ndarray, lens: np.ndarray, doc: np.ndarray, n: int, n_docs: int) -> np.ndarray:
    """Characters of each document's most frequent n-gram (words joined by spaces) times its count.

    ``positions`` / ``keys``: the repeated n-grams (:func:`repeated_ngrams`). Ties go to the n-gram seen
    first, as ``Counter.most_common(1)`` does: with no repeated n-gram, that is the document's first one, once.
    """
    words = np.bincount(doc, minlength=n_docs)
    count = (words >= n).astype(np.int64)  # a document with an n-gram has its first one at least once
    best_first = np.cumsum(words) - words
    _top_kernel(_as(positions, np.int64), _as(keys, np.uint64), _as(doc, np.int64), count, best_first)
    out = np.zeros(n_docs)
    has = count > 0
    out[has] = count[has] * (_spans(lens, best_first[has], n) + n - 1)
    return out


@njit(cache=True)
def _top_kernel(positions, keys, doc, count, best_first):
    """Per document: its most repeated n-gram's count and first position (ties: the earliest), into
    ``count`` and ``best_first`` where it has a repeated one."""
    table = _new_table()
    first = np.empty(len(positions), dtype=np.int64)
    before = np.empty(len(positions), dtype=np.int64)
    slot_of = np.empty(len(positions), dtype=np.int64)
    i = 0
    while i < len(positions):
        j = _document_end(positions, doc, i, len(positions))
        table = _count_keys(keys, positions, i, j, table, first, before, slot_of)
        best, best_at = 0, 0
        for t in range(i, j):  # a key's count so far, and its first position
            if before[t] + 1 > best or (before[t] + 1 == best and first[t] < best_at):
                best, best_at = before[t] + 1, first[t]
        if best > 0:
            count[doc[positions[i]]] = best
            best_first[doc[positions[i]]] = best_at
        i = j


def dup_ngram_fails(
    positions: np.ndarray,
    keys: np.ndarray,
    lens: np.ndarray,
    doc: np.ndarray,
    n: int,
    n_chars: np.ndarray,
    frac: float,
    alive: np.ndarray,
    chars: np.ndarray | None = None,
) -> np.ndarray:
    """Whether the characters in repeated n-grams (Gopher's greedy count) exceed ``frac`` of the text.

    Gopher's count walks the words and, at an n-gram seen before, adds its characters and jumps past it.
    Two upper bounds of that count decide most documents: every repeated position counted, and per run of
    consecutive repeated positions, the characters of the run's words (the walk counts disjoint n-grams
    inside it). Only documents above the threshold by both (and still ``alive``) are walked, and only at
    their repeated positions. ``positions`` / ``keys``: :func:`repeated_ngrams` for n; ``chars``: the
    running sum of ``lens`` from 0, if the caller has it. One compiled pass over the documents
    (:func:`_dup_kernel`).
    """
    chars = np.r_[0, np.cumsum(lens)] if chars is None else chars
    fails = np.zeros(len(n_chars), dtype=np.bool_)
    _dup_kernel(
        _as(positions, np.int64), _as(keys, np.uint64), _as(chars, np.int64), _as(doc, np.int64), n,
        _as(n_chars, np.float64), float(frac), _as(alive, np.bool_), fails,
    )
    return fails


@njit(cache=True)
def _dup_kernel(positions, keys, chars, doc, n, n_chars, frac, alive, fails):
    """:func:`dup_ngram_fails`, one document's repeated positions at a time."""
    size = len(chars) - 1  # words in the batch
    table = _new_table()
    first = np.empty(len(positions), dtype=np.int64)
    before = np.empty(len(positions), dtype=np.int64)
    slot_of = np.empty(len(positions), dtype=np.int64)
    dup = np.empty(len(positions), dtype=np.int64)  # this document's positions whose n-gram was seen earlier
    first_seen = np.empty(len(positions), dtype=np.int64)  # the first position of each one's n-gram
    dup_key = np.empty(len(positions), dtype=np.uint64)
    jumps = np.empty(len(positions) + 1, dtype=np.int64)
    i = 0
    while i < len(positions):
        d = doc[positions[i]]
        j = _document_end(positions, doc, i, len(positions))
        table = _count_keys(keys, positions, i, j, table, first, before, slot_of)
        m = 0
        for t in range(i, j):
            if before[t] > 0:
                dup[m] = positions[t]
                first_seen[m] = first[t]
                dup_key[m] = keys[t]
                m += 1
        i = j
        if m == 0:
            continue
        every = 0.0  # bound 1: every repeated position's characters
        for t in range(m):
            every += _span(chars, dup[t], n, size)
        in_runs = 0.0  # bound 2: per run of consecutive repeated positions, its words' characters
        run = 0
        for t in range(1, m + 1):
            if t == m or dup[t] != dup[t - 1] + 1:
                run_first, run_last = dup[run], dup[t - 1]
                in_runs += chars[run_last + n] - chars[run_first] + -(-(run_last - run_first + 1) // n) * (n - 1)
                run = t
        bound = min(every, in_runs)
        fail = n_chars[d] > 0 and bound / n_chars[d] > frac
        if fail and alive[d]:
            fail = _greedy_repeated(dup, first_seen, dup_key, chars, m, n, size, frac * n_chars[d], jumps) / n_chars[d] > frac
        fails[d] = fail


@njit(cache=True)
def _greedy_repeated(dup, first_seen, dup_key, chars, m, n, size, limit, jumps):
    """Gopher's greedy count in one document, visiting only its repeated positions (in order).

    Every other position is a first occurrence: visited unless a jump skipped it, and then its n-gram is
    seen. So a repeated position's n-gram is seen if its first occurrence was not skipped, or if an
    earlier repeated position added it (its first occurrence having been skipped).
    """
    added = {np.uint64(0)}  # n-grams seen at a repeated position whose first occurrence was skipped
    added.discard(np.uint64(0))  # (a literal types the set; it starts empty)
    jumped = 0  # positions the walk jumped from (increasing): the n - 1 after each were skipped
    repeated, next_visit = 0.0, 0
    for t in range(m):
        at, first, k = dup[t], first_seen[t], dup_key[t]
        if at < next_visit:
            continue
        jump = np.searchsorted(jumps[:jumped], first) - 1  # the last jump before the first occurrence
        if k in added or jump < 0 or first >= jumps[jump] + n:
            repeated += _span(chars, at, n, size)
            if repeated > limit:
                break
            jumps[jumped] = at
            jumped += 1
            next_visit = at + n
        else:
            added.add(k)
            next_visit = at + 1
    return repeated


@njit(cache=True, inline="always")
def _span(chars, at, n, size):
    """Characters of the n words from position ``at`` (fewer at the batch's end): :func:`_spans` of one."""
    return chars[min(at + n, size)] - chars[at]


@njit(cache=True)
def _new_table():
    """An empty key-count table: (keys, counts, first position of each key)."""
    return np.empty(64, dtype=np.uint64), np.zeros(64, dtype=np.int64), np.empty(64, dtype=np.int64)


@njit(cache=True)
def _document_end(positions, doc, i, end):
    """Where the run of ``positions[i:end]`` in the document of ``positions[i]`` ends."""
    d = doc[positions[i]]
    j = i
    while j < end and doc[positions[j]] == d:
        j += 1
    return j


@njit(cache=True)
def _count_keys(keys, positions, i, j, table, first, before, slot_of):
    """Count the keys of one document's positions ``i:j`` in a table of twice as many slots (linear
    probing; cleared here, or made larger and returned). Per position: the first position with its key,
    how many came before it, and its slot (the table's count there is the key's count in the document)."""
    table_key, table_count, table_first = table
    size = 64
    while size < 2 * (j - i):
        size *= 2
    if size > len(table_count):
        table_key = np.empty(size, dtype=np.uint64)
        table_count = np.zeros(size, dtype=np.int64)
        table_first = np.empty(size, dtype=np.int64)
    else:
        table_count[:size] = 0
    mask = size - 1
    for t in range(i, j):
        k = keys[t]
        slot = np.int64((k ^ (k >> np.uint64(32))) & np.uint64(mask))
        while table_count[slot] != 0 and table_key[slot] != k:
            slot = (slot + 1) & mask
        if table_count[slot] == 0:
            table_key[slot] = k
            table_first[slot] = positions[t]
        first[t] = table_first[slot]
        before[t] = table_count[slot]
        slot_of[t] = slot
        table_count[slot] += 1
    return table_key, table_count, table_first


def _as(values: np.ndarray, dtype: type) -> np.ndarray:
    """``values`` as a contiguous array of ``dtype`` for a kernel, copied only if it is not one already."""
    return np.ascontiguousarray(values, dtype=dtype)


def _spans(lens: np.ndarray, at: np.ndarray, n: int) -> np.ndarray:
    """Characters of the n words from each position ``at`` (fewer at the end), spaces not counted."""
    chars = np.r_[0, np.cumsum(lens)]
    return (chars[np.minimum(at + n, len(lens))] - chars[at]).astype(np.float64)
