"""The compiled loops of :mod:`fasttext_compiled` (numba, cached on disk after the first compile).

Each mirrors a function of fastText's C++ (named in its docstring) with the same integer and float32
arithmetic, so its results are the library's to the bit.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

_FNV_OFFSET = 2166136261
_FNV_PRIME = 16777619
_MASK32 = 0xFFFFFFFF


@njit(cache=True, inline="always")
def _fnv(h: int, byte: int) -> int:
    """One step of Dictionary::hash: xor the byte sign-extended to 32 bits (``uint32_t(int8_t(c))``), multiply."""
    x = byte | 0xFFFFFF00 if byte >= 128 else byte
    return ((h ^ x) * _FNV_PRIME) & _MASK32


@njit(cache=True, inline="always")
def _is_space(byte: int) -> bool:
    """Dictionary::readWord's separators: space, \\n, \\r, \\t, \\v, \\f and \\0."""
    return byte == 32 or byte == 10 or byte == 13 or byte == 9 or byte == 11 or byte == 12 or byte == 0


@njit(cache=True)
def _ngram_rows(data, start, length, params, bucket_row, kept, out, k, word):
    """Dictionary::computeSubwords of ``<token>`` with pushHash: rows of its kept n-grams into ``out[k:]``.

    An n-gram is 1..maxn characters (continuation bytes stay with their character), kept from minn on,
    a 1-gram only inside the word; its bucket is its hash modulo ``bucket``, its row ``nwords`` past the
    bucket's pruned index (none where pruned away; ``kept``, one bit per bucket, answers that from a table
    small enough to stay in cache). ``word`` is scratch for ``<token>``. Returns the new end of ``out``.
    """
    nwords, minn, maxn, bucket = params[0], params[1], params[2], params[3]
    size = length + 2
    word[0] = 60  # "<"
    word[1:size - 1] = data[start:start + length]
    word[size - 1] = 62  # ">"
    for i in range(size):
        if (word[i] & 0xC0) == 0x80:
            continue
        h = _FNV_OFFSET
        j = i
        n = 1
        while j < size and n <= maxn:
            h = _fnv(h, word[j])
            j += 1
            while j < size and (word[j] & 0xC0) == 0x80:
                h = _fnv(h, word[j])
                j += 1
            if n >= minn and not (n == 1 and (i == 0 or j == size)):
                b = h % bucket
                if kept[b >> 3] & (1 << (b & 7)):
                    out[k] = nwords + bucket_row[b]
                    k += 1
            n += 1
    return k


@njit(cache=True)
def vocabulary_table(word_bytes, word_offsets):
    """An open-addressing table over the vocabulary: slot (hash & mask, then the next ones) → word index."""
    n = len(word_offsets) - 1
    size = 16
    while size < 2 * n:
        size *= 2
    table = np.full(size, -1, dtype=np.int32)
    for w in range(n):
        h = _FNV_OFFSET
        for p in range(word_offsets[w], word_offsets[w + 1]):
            h = _fnv(h, word_bytes[p])
        slot = h & (size - 1)
        while table[slot] != -1:
            slot = (slot + 1) & (size - 1)
        table[slot] = w
    return table


@njit(cache=True)
def _find(data, start, end, h, table, word_bytes, word_offsets):
    """Dictionary::find: the vocabulary index of ``data[start:end]`` (hash ``h``), or -1."""
    size = len(table)
    slot = h & (size - 1)
    length = end - start
    while table[slot] != -1:
        w = table[slot]
        ws = word_offsets[w]
        if word_offsets[w + 1] - ws == length:
            same = True
            for p in range(length):
                if word_bytes[ws + p] != data[start + p]:
                    same = False
                    break
            if same:
                return w
        slot = (slot + 1) & (size - 1)
    return -1


@njit(cache=True)
def word_rows(word_bytes, word_offsets, params, bucket_row, kept, eos):
    """Dictionary::initNgrams: each vocabulary word's rows (its own, then its n-grams'; the end-of-line
    token has none), flat, with the offset of each word's run."""
    n = len(word_offsets) - 1
    maxn = params[2]
    total = n
    for w in range(n):
        total += (word_offsets[w + 1] - word_offsets[w] + 2) * max(maxn, 0)
    rows = np.empty(total, dtype=np.int32)
    offsets = np.zeros(n + 1, dtype=np.int64)
    word = np.empty(max(word_offsets[1:] - word_offsets[:-1]) + 2 if n else 2, dtype=np.uint8)
    k = 0
    for w in range(n):
        rows[k] = w
        k += 1
        if w != eos:
            start = word_offsets[w]
            k = _ngram_rows(word_bytes, start, word_offsets[w + 1] - start, params, bucket_row, kept, rows, k, word)
        offsets[w + 1] = k
    return rows[:k].copy(), offsets


@njit(cache=True)
def _is_label(data, start, end):
    """Dictionary::getType: a token starting with ``__label__`` is a label, never a word of the text."""
    prefix = (95, 95, 108, 97, 98, 101, 108, 95, 95)  # "__label__"
    if end - start < 9:
        return False
    for p in range(9):
        if data[start + p] != prefix[p]:
            return False
    return True


@njit(cache=True)
def _is_eos(data, start, end):
    return end - start == 4 and data[start] == 60 and data[start + 1] == 47 and data[start + 2] == 115 and data[start + 3] == 62


@njit(cache=True)
def _add_row(hidden, rows, r):
    for j in range(hidden.shape[0]):
        hidden[j] += rows[r, j]


@njit(cache=True)
def _dot(hidden, output, r):
    """DenseMatrix::dotRow: float32, in column order."""
    d = np.float32(0.0)
    for j in range(hidden.shape[0]):
        d += output[r, j] * hidden[j]
    return d


@njit(cache=True)
def predict(data, offsets, word_bytes, word_offsets, table, sub_rows, sub_offsets, params, bucket_row, kept, eos,
            rows, output, left, right, label, prob):
    """FastText::predictLine with k=1 for every text: fills ``label`` (leaf index) and ``prob``.

    Dictionary::getLine reads the tokens (a final end-of-line token, or a literal ``</s>``, ends the line),
    QuantMatrix/DenseMatrix::averageRowsToVector averages their rows in float32, and
    HierarchicalSoftmaxLoss::dfs walks the tree left before right, pruning a branch whose score falls
    below log(1e-5) or below the best leaf so far; a later leaf with an equal score replaces it.
    """
    dim = rows.shape[1]
    osz = (len(left) + 1) // 2
    hidden = np.zeros(dim, dtype=np.float32)
    scratch = np.empty(1024, dtype=np.int32)  # one token's n-gram rows
    word = np.empty(1024, dtype=np.uint8)  # one token as <token>
    threshold = np.float32(math.log(0.0 + 1e-5))
    stack_node = np.empty(2 * osz + 2, dtype=np.int64)
    stack_score = np.empty(2 * osz + 2, dtype=np.float32)
    for d in range(len(offsets) - 1):
        hidden[:] = 0
        count = 0
        p = offsets[d]
        end = offsets[d + 1]
        ended = False
        while True:
            while p < end and _is_space(data[p]):
                p += 1
            if p >= end:
                break
            q = p
            h = _FNV_OFFSET
            while q < end and not _is_space(data[q]):
                h = _fnv(h, data[q])
                q += 1
            w = _find(data, p, q, h, table, word_bytes, word_offsets)
            ends_line = _is_eos(data, p, q)
            if w >= 0:
                for k in range(sub_offsets[w], sub_offsets[w + 1]):
                    _add_row(hidden, rows, sub_rows[k])
                count += sub_offsets[w + 1] - sub_offsets[w]
            elif not ends_line and not _is_label(data, p, q):
                need = (q - p + 2) * max(params[2], 0)
                if need > len(scratch):
                    scratch = np.empty(2 * need, dtype=np.int32)
                if q - p + 2 > len(word):
                    word = np.empty(2 * (q - p + 2), dtype=np.uint8)
                k = _ngram_rows(data, p, q - p, params, bucket_row, kept, scratch, 0, word)
                for i in range(k):
                    _add_row(hidden, rows, scratch[i])
                count += k
            if ends_line:
                ended = True
                break
            p = q
        if not ended and eos >= 0:  # the line's end-of-line token
            for k in range(sub_offsets[eos], sub_offsets[eos + 1]):
                _add_row(hidden, rows, sub_rows[k])
            count += sub_offsets[eos + 1] - sub_offsets[eos]
        if count == 0:
            continue  # fastText predicts nothing for an empty line
        scale = np.float32(1.0 / count)
        for j in range(dim):
            hidden[j] *= scale
        best = -1
        best_score = np.float32(0.0)
        stack_node[0] = 2 * osz - 2  # the root
        stack_score[0] = np.float32(0.0)
        top = 1
        while top > 0:
            top -= 1
            node = stack_node[top]
            score = stack_score[top]
            if score < threshold:
                continue
            if best >= 0 and score < best_score:
                continue
            if left[node] == -1 and right[node] == -1:
                best = node
                best_score = score
                continue
            f = _dot(hidden, output, node - osz)
            f = np.float32(1.0 / np.float64(np.float32(1.0) + math.exp(-f)))
            go_left = np.float32(math.log(np.float64(np.float32(1.0 - np.float64(f))) + 1e-5))
            go_right = np.float32(math.log(np.float64(f) + 1e-5))
            stack_node[top] = right[node]
            stack_score[top] = score + go_right
            stack_node[top + 1] = left[node]
            stack_score[top + 1] = score + go_left
            top += 2
        if best >= 0:
            label[d] = best
            prob[d] = math.exp(best_score)
