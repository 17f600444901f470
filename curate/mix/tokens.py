"""Token counts for mixtures: a local Hugging Face ``tokenizers`` tokenizer, counted once per source.

A blend is planned in tokens, so every document of every source is tokenized once. Counting a large
source is the slowest part of ``curate mix``, so the per-document counts are cached in
``OUT/.cache/tokens/<key>.npy``; the key hashes the source's files (path, size, modification time) and the
tokenizer file's bytes, so editing either recounts and nothing else does. Filters apply after counting, so
sources that read the same files with different filters share one cache entry.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pyarrow as pa
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


def cache_key(files: list[str], tokenizer: MixTokenizer) -> str:
    """Hash of the files (absolute path, size, mtime) and the tokenizer's bytes."""
    stats = []
    for f in files:
        st = os.stat(f)
        stats.append([os.path.abspath(f), st.st_size, st.st_mtime_ns])
    return xxhash.xxh64_hexdigest(json.dumps({"files": stats, "tokenizer": tokenizer.fingerprint}))


def cached_counts(
    files: list[str],
    texts: pa.ChunkedArray,
    tokenizer: MixTokenizer,
    cache_dir: Path,
    label: str,
    quiet: bool = False,
) -> tuple[np.ndarray, bool]:
    """Per-document token counts of ``files`` (rows in file order), from the cache or counted now.

    ``texts`` is the text column of all rows of ``files`` in order; it is only tokenized when the cache
    misses. Returns (counts, cache_hit).
    """
    path = cache_dir / f"{cache_key(files, tokenizer)}.npy"
    if path.is_file():
        counts = np.load(path)
        if len(counts) == len(texts):
            return counts, True
    with tqdm(total=len(texts), desc=f"count tokens [{label}]", unit="doc", disable=quiet) as bar:
        counts = tokenizer.count(texts, bar)
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp.npy")
    np.save(tmp, counts)
    os.replace(tmp, path)
    return counts, False
