"""Megatron-style indexed datasets (``PREFIX.bin`` + ``PREFIX.idx``): what Megatron-LM and FlagScale read.

Megatron's ``--data-path`` names *prefixes*; each is a pair of files written here exactly as
``megatron.core.datasets.indexed_dataset`` writes them (the ``MMIDIDX`` "mmap" format, version 1), so
``IndexedDataset(prefix)`` in Megatron opens our output unchanged.

``PREFIX.bin`` is the token ids of every document, back to back, no header, little-endian, in the dtype
the index names (uint16 when the vocabulary has fewer than 65,500 ids, else int32 — Megatron's choice).

``PREFIX.idx`` (all integers little-endian)::

    offset  size        field
    0       9           magic b"MMIDIDX\\x00\\x00"
    9       8  uint64   version = 1
    17      1  uint8    dtype code: 1 uint8, 2 int8, 3 int16, 4 int32, 5 int64, 6 float64, 7 float32, 8 uint16
    18      8  uint64   S = number of sequences (one per document here)
    26      8  uint64   D = number of document boundaries = documents + 1
    34      4*S int32   sequence lengths, in tokens
    ..      8*S int64   sequence pointers: byte offset of each sequence in .bin
    ..      8*D int64   document index: document d spans sequences [doc[d], doc[d+1]); here 0, 1, ..., S

Both files are written under temporary names and renamed when complete, so a reader never sees half a pair.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

import numpy as np

MAGIC = b"MMIDIDX\x00\x00"
VERSION = 1
DTYPE_CODES: dict[np.dtype, int] = {
    np.dtype(np.uint8): 1, np.dtype(np.int8): 2, np.dtype(np.int16): 3, np.dtype(np.int32): 4,
    np.dtype(np.int64): 5, np.dtype(np.float64): 6, np.dtype(np.float32): 7, np.dtype(np.uint16): 8,
}
CODE_DTYPES = {code: dtype for dtype, code in DTYPE_CODES.items()}


def token_dtype(vocab_size: int) -> np.dtype:
    """The dtype Megatron's preprocessing picks for a vocabulary of this size."""
    return np.dtype(np.uint16) if vocab_size < 65500 else np.dtype(np.int32)


class IndexedWriter:
    """Appends documents to ``PREFIX.bin`` and writes ``PREFIX.idx`` on :meth:`close`.

    Use as a context manager; an exception leaves no files behind (the temporaries are removed).
    """

    def __init__(self, prefix: str | Path, dtype: np.dtype) -> None:
        self.prefix = Path(prefix)
        self.dtype = np.dtype(dtype)
        if self.dtype not in DTYPE_CODES:
            raise ValueError(f"dtype {self.dtype} has no Megatron code; use uint16 or int32")
        self.prefix.parent.mkdir(parents=True, exist_ok=True)
        self._tmp_bin = self.prefix.with_name(f"{self.prefix.name}.bin.{os.getpid()}.tmp")
        self._tmp_idx = self.prefix.with_name(f"{self.prefix.name}.idx.{os.getpid()}.tmp")
        self._bin = open(self._tmp_bin, "wb")
        self._lengths: list[np.ndarray] = []

    def add(self, tokens: np.ndarray, lengths: np.ndarray) -> None:
        """Append documents given as one flat token array and their lengths (which sum to its size)."""
        lengths = np.asarray(lengths, dtype=np.int64)
        if int(lengths.sum()) != len(tokens):
            raise ValueError(f"lengths add up to {int(lengths.sum())} but {len(tokens)} tokens were given")
        np.asarray(tokens).astype(self.dtype, copy=False).tofile(self._bin)
        self._lengths.append(lengths)

    def close(self) -> None:
        self._bin.close()
        lengths = np.concatenate(self._lengths) if self._lengths else np.zeros(0, dtype=np.int64)
        if lengths.size and lengths.max() > np.iinfo(np.int32).max:
            raise ValueError("a document longer than 2^31 tokens cannot be indexed")
        pointers = np.zeros(len(lengths), dtype=np.int64)
        if len(lengths) > 1:
            np.cumsum(lengths[:-1] * self.dtype.itemsize, out=pointers[1:])
        with open(self._tmp_idx, "wb") as f:
            f.write(MAGIC)
            f.write(struct.pack("<Q", VERSION))
            f.write(struct.pack("<B", DTYPE_CODES[self.dtype]))
            f.write(struct.pack("<Q", len(lengths)))
            f.write(struct.pack("<Q", len(lengths) + 1))
            f.write(lengths.astype("<i4").tobytes(order="C"))
            f.write(pointers.astype("<i8").tobytes(order="C"))
            f.write(np.arange(len(lengths) + 1, dtype="<i8").tobytes(order="C"))
        os.replace(self._tmp_bin, self.prefix.with_name(self.prefix.name + ".bin"))
        os.replace(self._tmp_idx, self.prefix.with_name(self.prefix.name + ".idx"))

    def abort(self) -> None:
        self._bin.close()
        for tmp in (self._tmp_bin, self._tmp_idx):
            tmp.unlink(missing_ok=True)

    def __enter__(self) -> IndexedWriter:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def _read_header(prefix: Path) -> tuple[np.dtype, int]:
    with open(prefix.with_name(prefix.name + ".idx"), "rb") as f:
        head = f.read(34)
    if head[:9] != MAGIC:
        raise ValueError(f"{prefix}.idx: not a Megatron mmap index")
    _, code, seqs, _ = struct.unpack("<QBQQ", head[9:34])
    return CODE_DTYPES[code], seqs


def merge_indexed(parts: list[Path], prefix: str | Path, dtype: np.dtype, chunk: int = 1 << 24) -> int:
    """Concatenate indexed datasets ``parts`` (in order) into ``prefix``; returns the tokens written.

    Streams: the ``.bin`` files are copied in chunks and the index is written part by part, so memory is
    one part's index, never the merged dataset. The result is the bytes one writer would have written.
    """
    prefix, dtype = Path(prefix), np.dtype(dtype)
    prefix.parent.mkdir(parents=True, exist_ok=True)
    counts = []
    for part in parts:
        part_dtype, seqs = _read_header(part)
        if part_dtype != dtype:
            raise ValueError(f"{part}: dtype {part_dtype}, expected {dtype}")
        counts.append(seqs)
    total = sum(counts)
    tmp_bin = prefix.with_name(f"{prefix.name}.bin.{os.getpid()}.tmp")
    tmp_idx = prefix.with_name(f"{prefix.name}.idx.{os.getpid()}.tmp")
    tokens = 0
    try:
        with open(tmp_bin, "wb") as out:
            for part in parts:
                with open(part.with_name(part.name + ".bin"), "rb") as f:
                    while block := f.read(chunk):
                        out.write(block)
        with open(tmp_idx, "wb") as f:
            f.write(MAGIC + struct.pack("<Q", VERSION) + struct.pack("<B", DTYPE_CODES[dtype]) + struct.pack("<QQ", total, total + 1))
            for part in parts:
                lengths = IndexedDataset(part).lengths
                f.write(lengths.astype("<i4").tobytes())
            offset = 0
            for part in parts:
                lengths = IndexedDataset(part).lengths.astype(np.int64)
                pointers = offset + np.concatenate([[0], np.cumsum(lengths[:-1])]).astype(np.int64) * dtype.itemsize if len(lengths) else np.zeros(0, np.int64)
                f.write(pointers.astype("<i8").tobytes())
                offset += int(lengths.sum()) * dtype.itemsize
                tokens += int(lengths.sum())
            for start in range(0, total + 1, chunk):
                f.write(np.arange(start, min(total + 1, start + chunk), dtype="<i8").tobytes())
        os.replace(tmp_bin, prefix.with_name(prefix.name + ".bin"))
        os.replace(tmp_idx, prefix.with_name(prefix.name + ".idx"))
    except BaseException:
        tmp_bin.unlink(missing_ok=True)
        tmp_idx.unlink(missing_ok=True)
        raise
    return tokens


class IndexedDataset:
    """Read-only view of a ``PREFIX.bin``/``PREFIX.idx`` pair; ``ds[i]`` is document i's token ids."""

    def __init__(self, prefix: str | Path) -> None:
        self.prefix = Path(prefix)
        idx_path = self.prefix.with_name(self.prefix.name + ".idx")
        bin_path = self.prefix.with_name(self.prefix.name + ".bin")
        raw = idx_path.read_bytes()
        if raw[:9] != MAGIC:
            raise ValueError(f"{idx_path}: not a Megatron mmap index (bad magic {raw[:9]!r})")
        version, code, seqs, docs = struct.unpack("<QBQQ", raw[9:34])
        if version != VERSION:
            raise ValueError(f"{idx_path}: index version {version}, expected {VERSION}")
        self.dtype = CODE_DTYPES[code]
        off = 34
        self.lengths = np.frombuffer(raw, dtype="<i4", count=seqs, offset=off)
        off += 4 * seqs
        self.pointers = np.frombuffer(raw, dtype="<i8", count=seqs, offset=off)
        off += 8 * seqs
        self.document_index = np.frombuffer(raw, dtype="<i8", count=docs, offset=off)
        size = bin_path.stat().st_size
        self._bin = np.memmap(bin_path, dtype=self.dtype, mode="r") if size else np.zeros(0, dtype=self.dtype)

    def __len__(self) -> int:
        return len(self.lengths)

    def __getitem__(self, i: int) -> np.ndarray:
        start = int(self.pointers[i]) // self.dtype.itemsize
        return np.asarray(self._bin[start : start + int(self.lengths[i])])

    @property
    def num_tokens(self) -> int:
        return int(self.lengths.sum())
