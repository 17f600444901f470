"""fastText's top-1 prediction, compiled with numba over a whole Arrow text column: the same numbers, faster.

Language ID is fastText's ``predict(text, k=1)`` on every document, and the library spends its time per
token: it copies each token into a string, then builds every character n-gram of it as another string,
hashes it from scratch and looks it up in two hash maps (bucket → pruned row), before adding a handful of
rows. Here the model file is read once into flat arrays (vocabulary in an open-addressing table, pruned
buckets in a dense bucket → row array, quantized rows decoded with their norms) and one compiled loop walks
the column's UTF-8 bytes in place: n-gram hashes grow a character at a time, a bucket is one array read.

Everything else follows fastText's code step for step, in its float32 order, so the label and probability
are the library's, bit for bit on the shipped model (tests compare every document of the sample):
tokens split on its whitespace (`` \\t\\n\\r\\v\\f\\0``) with an end-of-line token last, a literal ``</s>``
ending the line, ``__label__`` tokens skipped; a vocabulary word adds its own row and its n-grams', any
other token its n-grams' (``minn``..``maxn`` characters of ``<token>``, FNV-1a over sign-extended bytes,
dropped when pruned away); the rows' average, then the hierarchical-softmax tree walked depth-first with
fastText's pruning and tie rule. Models outside that (softmax and other losses, word n-grams, a quantized
output matrix) raise :class:`Unsupported` and callers use the library.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pyarrow as pa

from curate.stages.lib import fasttext_kernels as kernels
from curate.stages.lib.text_kernels import string_buffers
from curate.stages.lib.text_stats import as_array

_MAGIC, _VERSION = 793712314, 12
_HS = 1  # args.h loss_name::hs
_LABEL = 1  # entry_type::label
_EOS = b"</s>"


class Unsupported(ValueError):
    """A fastText model the compiled path does not run; the caller uses the fastText library."""


class _Reader:
    """Little-endian reads over the model file's bytes (the layout of fastText's ``save`` methods)."""

    def __init__(self, data: bytes) -> None:
        self.data, self.at = data, 0

    def read(self, fmt: str):
        values = struct.unpack_from("<" + fmt, self.data, self.at)
        self.at += struct.calcsize("<" + fmt)
        return values if len(values) > 1 else values[0]

    def array(self, dtype: str, count: int) -> np.ndarray:
        out = np.frombuffer(self.data, dtype=dtype, count=count, offset=self.at)
        self.at += out.nbytes
        return out

    def matrix(self, quantized: bool) -> tuple[np.ndarray, np.ndarray | None]:
        """DenseMatrix or QuantMatrix: (rows as float32, the norm of each row or None).

        A quantized row is its product-quantizer centroids side by side; fastText adds ``norm * c`` (a
        float32 product) for it, so the caller scales by the norm once, in float32 too.
        """
        if not quantized:
            m, n = self.read("2q")
            return self.array("<f4", m * n).reshape(m, n), None
        qnorm = self.read("?")
        m, _ = self.read("2q")
        codes = self.array("u1", self.read("i"))
        rows = self._decode(codes, m)
        norms = self._decode(self.array("u1", m), m)[:, 0] if qnorm else None
        return rows, norms

    def _decode(self, codes: np.ndarray, m: int) -> np.ndarray:
        dim, nsubq, dsub, lastdsub = self.read("4i")
        centroids = self.array("<f4", dim * 256)
        codes = codes.reshape(m, nsubq)
        rows = np.empty((m, dim), dtype=np.float32)
        for q in range(nsubq):  # ProductQuantizer::get_centroids: the last sub-quantizer is lastdsub wide
            width = lastdsub if q == nsubq - 1 else dsub
            table = centroids[q * 256 * dsub: q * 256 * dsub + 256 * width].reshape(256, width)
            rows[:, q * dsub: q * dsub + width] = table[codes[:, q]]
        return rows


class CompiledFastText:
    """A fastText hierarchical-softmax classifier (such as lid.176) predicting its top label per text."""

    def __init__(self, path: str | Path) -> None:
        path = Path(path)
        data = path.read_bytes()  # a missing or unreadable file raises its OSError
        try:
            self._load(path, data)
        except (struct.error, ValueError, IndexError) as e:
            if isinstance(e, Unsupported):
                raise
            raise Unsupported(f"{path}: not a fastText model this reads ({e})") from e

    def _load(self, path: Path, data: bytes) -> None:
        r = _Reader(data)
        if r.read("2i") != (_MAGIC, _VERSION):
            raise Unsupported(f"{path}: not a fastText model file of version {_VERSION}")
        _dim, _ws, _epoch, _min_count, _neg, word_ngrams, loss, _model, bucket, minn, maxn, _lr = r.read("12i")
        r.read("d")
        if word_ngrams > 1 or loss != _HS:
            raise Unsupported(f"{path}: word n-grams {word_ngrams}, loss {loss}: only single-word hierarchical softmax")
        size, nwords, _nlabels = r.read("3i")
        _ntokens, prune_size = r.read("2q")
        words, counts, types = [], [], []
        for _ in range(size):
            end = r.data.index(b"\0", r.at)
            words.append(r.data[r.at:end])
            r.at = end + 1
            counts.append(r.read("q"))
            types.append(r.read("b"))
        prune = r.array("<i4", 2 * max(prune_size, 0)).reshape(-1, 2)
        quantized = r.read("?")
        rows, norms = r.matrix(quantized)
        if r.read("?") and quantized:  # the flag is always stored; it counts only for a quantized input
            raise Unsupported(f"{path}: quantized output matrix")
        output, _ = r.matrix(False)
        if r.at != len(r.data):
            raise Unsupported(f"{path}: {len(r.data) - r.at} bytes after the model; not a format this reads")
        self.labels = [w.decode("utf-8", "replace") for w, t in zip(words, types) if t == _LABEL]
        self._rows = np.ascontiguousarray(rows if norms is None else rows * norms[:, None], dtype=np.float32)
        self._output = np.ascontiguousarray(output, dtype=np.float32)
        # buckets → row past the words: -1 where pruned away; prune_size 0 keeps no n-grams, -1 keeps all
        if prune_size > 0:
            self._bucket_row = np.full(bucket, -1, dtype=np.int32)
            self._bucket_row[prune[:, 0]] = prune[:, 1]
        elif prune_size == 0:
            self._bucket_row = np.full(bucket, -1, dtype=np.int32)
        else:
            self._bucket_row = np.arange(bucket, dtype=np.int32)
        self._kept = np.packbits(self._bucket_row >= 0, bitorder="little")
        self._params = np.array([nwords, minn, maxn, bucket], dtype=np.int64)
        vocab = words[:nwords]
        self._word_bytes = np.frombuffer(b"".join(vocab), dtype=np.uint8)
        self._word_offsets = np.concatenate([[0], np.cumsum([len(w) for w in vocab])]).astype(np.int64)
        self._table = kernels.vocabulary_table(self._word_bytes, self._word_offsets)
        # each word's rows (Dictionary::initNgrams): its own, then its n-grams' (none for the end-of-line token)
        eos = vocab.index(_EOS) if _EOS in vocab else -1
        self._sub_rows, self._sub_offsets = kernels.word_rows(
            self._word_bytes, self._word_offsets, self._params, self._bucket_row, self._kept, eos
        )
        self._eos = eos
        self._left, self._right = _huffman_tree(np.asarray([c for c, t in zip(counts, types) if t == _LABEL], np.int64))

    def predict(self, text: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
        """(label index into :attr:`labels`, probability as float32) per text; nulls read as empty text.

        A text with no end-of-line word to predict from (never for lid.176) gets label -1, probability 0.
        """
        offsets, data = string_buffers(as_array(text))
        label = np.full(len(offsets) - 1, -1, dtype=np.int32)
        prob = np.zeros(len(offsets) - 1, dtype=np.float32)
        kernels.predict(
            data, offsets, self._word_bytes, self._word_offsets, self._table, self._sub_rows,
            self._sub_offsets, self._params, self._bucket_row, self._kept, self._eos, self._rows, self._output,
            self._left, self._right, label, prob,
        )
        return label, prob


def _huffman_tree(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """HierarchicalSoftmaxLoss::buildTree over the label counts: each node's left and right child (-1: leaf)."""
    osz = len(counts)
    count = np.concatenate([counts, np.full(max(osz - 1, 0), 10**15, dtype=np.int64)])
    left = np.full(2 * osz - 1, -1, dtype=np.int64)
    right = np.full(2 * osz - 1, -1, dtype=np.int64)
    leaf, node = osz - 1, osz
    for i in range(osz, 2 * osz - 1):
        pick = []
        for _ in range(2):
            if leaf >= 0 and count[leaf] < count[node]:
                pick.append(leaf)
                leaf -= 1
            else:
                pick.append(node)
                node += 1
        left[i], right[i] = pick
        count[i] = count[pick[0]] + count[pick[1]]
    return left, right
