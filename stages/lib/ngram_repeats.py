"""Gopher's n-gram repetition statistics over a batch: the most frequent n-gram, and repeated n-grams.

Both statistics depend only on n-grams that occur more than once in their document (a document without
one has the count-1 answer), and an (n+1)-gram can repeat only where its first n words repeat. So
:func:`repeated_ngrams` builds and hashes n-gram keys at every position only up to the smallest n, and
each larger n only at the positions the previous one left: on ordinary text a few per cent of the words by
n = 5.

Positions are word indices into the batch's flat word arrays; ``doc`` is each word's document.
"""

from __future__ import annotations

from bisect import bisect_left

import numpy as np
import polars as pl

from curate.core.hashing import GOLDEN, MIX1
from curate.stages.lib import text_stats as ts


def repeated_ngrams(ids: np.ndarray, doc: np.ndarray, ns: list[int]) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """For each n of ``ns``: the positions (ascending) whose n-gram occurs more than once in its document,
    and the n-gram's 64-bit key at each (equal n-grams, equal keys).

    ``ids`` are the words as integers (:func:`text_stats.piece_ids`). A key grows by one word per step and
    only where the n-gram still fits in its document; at each n of ``ns`` the positions whose n-gram is
    unique are dropped, so later steps touch only what repeated.
    """
    out: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    pos = np.arange(len(ids))
    key = np.zeros(len(ids), dtype=np.uint64)
    words = np.bincount(doc) if len(doc) else np.zeros(0, dtype=np.int64)
    last = (np.cumsum(words) - 1)[doc]  # at each position, its document's last word
    wanted = set(ns)
    with np.errstate(over="ignore"):
        for n in range(1, max(wanted, default=0) + 1):
            end = pos + n - 1
            inside = end <= last
            pos, key, end, last = pos[inside], key[inside], end[inside], last[inside]
            key = (key * GOLDEN + ids[end] + np.uint64(1)) ^ (key >> np.uint64(29)) * MIX1
            if n in wanted:
                repeated = pl.Series(_joint(key, doc[pos])).is_duplicated().to_numpy()
                pos, key, last = pos[repeated], key[repeated], last[repeated]
                out[n] = (pos, key)
    return out


def top_ngram_chars(positions: np.ndarray, keys: np.ndarray, lens: np.ndarray, doc: np.ndarray, n: int, n_docs: int) -> np.ndarray:
    """Characters of each document's most frequent n-gram (words joined by spaces) times its count.

    ``positions`` / ``keys``: the repeated n-grams (:func:`repeated_ngrams`). Ties go to the n-gram seen
    first, as ``Counter.most_common(1)`` does: with no repeated n-gram, that is the document's first one, once.
    """
    words = np.bincount(doc, minlength=n_docs)
    count = (words >= n).astype(np.int64)  # a document with an n-gram has its first one at least once
    best_first = np.cumsum(words) - words
    if len(positions):
        # one key per (document, n-gram); a stable sort puts each n-gram's first position at its run's start
        joint = _joint(keys, doc[positions])
        order = np.argsort(joint, kind="stable")
        start = np.flatnonzero(np.r_[True, joint[order][1:] != joint[order][:-1]])
        counts = np.diff(np.r_[start, len(order)]).astype(np.int64)
        first = positions[order][start].astype(np.int64)
        # best per document: most frequent, then earliest; packed into one int64 so np.maximum.at picks it
        score = (counts << 32) + ((1 << 32) - 1 - first)
        best = np.full(n_docs, -1, dtype=np.int64)
        np.maximum.at(best, doc[first], score)
        has = best >= 0
        count[has] = best[has] >> 32
        best_first[has] = (1 << 32) - 1 - (best[has] & ((1 << 32) - 1))
    out = np.zeros(n_docs)
    has = count > 0
    out[has] = count[has] * (_spans(lens, best_first[has], n) + n - 1)
    return out


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
    Two vectorised upper bounds of that count decide most documents: every repeated position counted, and
    per run of consecutive repeated positions, the characters of the run's words (the walk counts disjoint
    n-grams inside it). Only documents above the threshold by both are walked, and only at their repeated
    positions (:func:`_greedy_repeated`). ``positions`` / ``keys``: :func:`repeated_ngrams` for n;
    ``chars``: the running sum of ``lens`` from 0, if the caller has it.
    """
    later = ~pl.Series(_joint(keys, doc[positions])).is_first_distinct().to_numpy()
    dup, dup_keys = positions[later], keys[later]  # positions whose n-gram was seen earlier in the document
    chars = np.r_[0, np.cumsum(lens)] if chars is None else chars
    span = _spans(lens, dup, n, chars)
    bound = np.bincount(doc[dup], weights=span, minlength=len(n_chars))
    if len(dup):
        run_start = np.r_[True, (dup[1:] != dup[:-1] + 1) | (doc[dup[1:]] != doc[dup[:-1]])]
        first, last = dup[run_start], dup[np.r_[run_start[1:], True]]
        in_runs = chars[last + n] - chars[first] + -(-(last - first + 1) // n) * (n - 1)
        bound = np.minimum(bound, np.bincount(doc[first], weights=in_runs, minlength=len(n_chars)))
    fails = ts.ratio(bound, n_chars) > frac
    walk = np.flatnonzero(fails & alive)
    if len(walk):
        starts = np.searchsorted(doc, np.arange(len(n_chars) + 1))
        walked = np.zeros(len(n_chars), dtype=bool)
        walked[walk] = True
        mine = walked[doc[positions]]
        first_seen = _first_occurrence(positions[mine], keys[mine], doc)
        for i in walk:
            lo, hi = starts[i], starts[i + 1]
            at = (dup >= lo) & (dup < hi)
            d = dup[at]
            fails[i] = _greedy_repeated(d - lo, first_seen[d] - lo, dup_keys[at], span[at], n, frac * n_chars[i]) / n_chars[i] > frac
    return fails


def _joint(key: np.ndarray, doc: np.ndarray) -> np.ndarray:
    """One 64-bit key per (document, n-gram key)."""
    with np.errstate(over="ignore"):
        return key ^ doc.astype(np.uint64) * ts.DOC_MIX


def _spans(lens: np.ndarray, at: np.ndarray, n: int, chars: np.ndarray | None = None) -> np.ndarray:
    """Characters of the n words from each position ``at`` (fewer at the end), spaces not counted."""
    chars = np.r_[0, np.cumsum(lens)] if chars is None else chars
    return (chars[np.minimum(at + n, len(lens))] - chars[at]).astype(np.float64)


def _first_occurrence(positions: np.ndarray, keys: np.ndarray, doc: np.ndarray) -> np.ndarray:
    """At each of ``positions`` (ascending), the first of them in its document with the same key."""
    joint = _joint(keys, doc[positions])
    order = np.argsort(joint, kind="stable")
    run = np.r_[True, joint[order][1:] != joint[order][:-1]]
    first = np.empty(len(doc), dtype=np.int64)
    first[positions[order]] = positions[order][np.flatnonzero(run)[np.cumsum(run) - 1]]
    return first


def _greedy_repeated(at: np.ndarray, first: np.ndarray, keys: np.ndarray, spans: np.ndarray, n: int, limit: float) -> float:
    """Gopher's greedy count in one document, visiting only its repeated positions ``at`` (in order).

    Every other position is a first occurrence: visited unless a jump skipped it, and then its n-gram is
    seen. So a repeated position's n-gram is seen if its first occurrence was not skipped, or if an
    earlier repeated position added it (its first occurrence having been skipped).
    """
    # per-row Python path: the jumps depend on earlier matches; only repetitive documents get here
    jumps: list[int] = []  # positions the walk jumped from (increasing): the n - 1 after each were skipped
    added: set[int] = set()
    repeated, next_visit = 0.0, 0
    for j, f, k, s in zip(at.tolist(), first.tolist(), keys.tolist(), spans.tolist()):
        if j < next_visit:
            continue
        jump = bisect_left(jumps, f) - 1  # the last jump before f
        if k in added or jump < 0 or f >= jumps[jump] + n:
            repeated += s
            if repeated > limit:
                break
            jumps.append(j)
            next_visit = j + n
        else:
            added.add(k)
            next_visit = j + 1
    return repeated
