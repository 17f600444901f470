"""Token counts for mixtures: a local Hugging Face ``tokenizers`` tokenizer, counted once per input piece.

A blend is planned in tokens, so every document of every source is tokenized once. Counting a large
source is the slowest part of ``curate mix``, so the per-document counts are cached per input piece (a
file's range of row groups, one parallel task) in ``OUT/.cache/tokens/<key>.npy``; the key hashes the file
(path, size, modification time), the row groups and the tokenizer file's bytes, so editing either recounts
and nothing else does. Filters apply after counting, and a piece is read once for every source that uses
it, so sources that read the same files with different filters share one count. Without a tokenizer a
mixture measures documents in UTF-8 bytes. Memory: one piece's texts.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import xxhash
from tqdm import tqdm

from curate.core.tokenizer import encode_batches, read_tokenizer, token_id

#: Documents per ``encode_batch`` call: large enough for the Rust side to parallelise, small enough to stream.
ENCODE_BATCH = 2048


class MixTokenizer:
    """A tokenizer.json loaded once, with the end-of-document token id and a fingerprint of its bytes."""

    def __init__(self, path: str | Path, eod_token: str | None) -> None:
        self.tokenizer, data = read_tokenizer(
            path, "give the local path of a tokenizer.json (`python data/build_tokenizer.py` writes data/tokenizer/sample-bpe.json)"
        )
        self.path = str(path)
        self.fingerprint = xxhash.xxh64_hexdigest(data)
        self.vocab_size = self.tokenizer.get_vocab_size(with_added_tokens=True)
        self.eod_token = eod_token
        self.eod_id: int | None = None
        if eod_token is not None:
            self.eod_id = token_id(
                self.tokenizer, eod_token, path, "set tokenizer.eod_token to one of its special tokens, or to null to append none"
            )

    @property
    def eod_count(self) -> int:
        """Tokens added to every document (1 with an end-of-document token, else 0)."""
        return 0 if self.eod_id is None else 1

    def count(self, texts: pa.Array | pa.ChunkedArray, bar: tqdm | None = None) -> np.ndarray:
        """Tokens per document (without the end-of-document token), as int64."""
        counts = np.zeros(len(texts), dtype=np.int64)
        pos = 0
        for ids in encode_batches(self.tokenizer, texts, ENCODE_BATCH):
            counts[pos : pos + len(ids)] = [len(x) for x in ids]
            pos += len(ids)
            if bar is not None:
                bar.update(len(ids))
        return counts

    def encode(self, texts: pa.Array | pa.ChunkedArray, dtype: np.dtype, bar: tqdm | None = None) -> tuple[np.ndarray, np.ndarray]:
        """All documents as one flat token array (each followed by the EOD token) and their lengths."""
        parts: list[np.ndarray] = []
        lengths = np.zeros(len(texts), dtype=np.int64)
        pos = 0
        eod = [] if self.eod_id is None else [self.eod_id]
        for batch in encode_batches(self.tokenizer, texts, ENCODE_BATCH):
            for j, ids in enumerate(batch):  # per-document path: one id list per document
                lengths[pos + j] = len(ids) + len(eod)
                parts.append(np.asarray(ids + eod, dtype=dtype))
            pos += len(batch)
            if bar is not None:
                bar.update(len(batch))
        flat = np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)
        return flat, lengths


def text_bytes(texts: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """UTF-8 bytes per document (nulls as 0): the size unit of a mixture without a tokenizer."""
    lengths = pc.binary_length(pc.cast(texts, pa.large_string())).fill_null(0)
    return np.asarray(lengths.to_numpy(zero_copy_only=False), dtype=np.int64)


def cache_key(path: str, row_groups: tuple[int, ...], tokenizer: MixTokenizer | None) -> str:
    """Hash of one input piece (absolute path, size, mtime, row groups) and the tokenizer's bytes."""
    st = os.stat(path)
    piece = [os.path.abspath(path), st.st_size, st.st_mtime_ns, list(row_groups)]
    return xxhash.xxh64_hexdigest(json.dumps({"piece": piece, "tokenizer": tokenizer.fingerprint if tokenizer else "utf8-bytes"}))


def cached_path(cache_dir: Path, path: str, row_groups: tuple[int, ...], tokenizer: MixTokenizer | None) -> Path:
    return cache_dir / f"{cache_key(path, row_groups, tokenizer)}.npy"


def load_cached(cache: Path, rows: int) -> np.ndarray | None:
    """The cached counts of a piece, or None when absent or of another length."""
    if cache.is_file():
        counts = np.load(cache)
        if len(counts) == rows:
            return counts
    return None


def count_and_cache(cache: Path, texts: pa.ChunkedArray, tokenizer: MixTokenizer | None) -> np.ndarray:
    """Per-document sizes of one piece (tokens without EOD, or UTF-8 bytes), saved atomically to ``cache``."""
    counts = tokenizer.count(texts) if tokenizer is not None else text_bytes(texts)
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_name(f"{cache.name}.{os.getpid()}.tmp")  # a killed run's leftover is removed on resume
    with open(tmp, "wb") as f:
        np.save(f, counts)
    os.replace(tmp, cache)
    return counts
