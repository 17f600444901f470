"""Parquet shards to token streams for the proxy trainer, and the held-out documents it is evaluated on.

Everything here is deterministic: files are read in sorted order, held-out documents are chosen by a hash
of their text (so the same document is held out of every candidate blend that contains it), and the
training batch of step ``s`` is drawn from a generator seeded by ``(seed, s, micro)`` alone, so a resumed
run sees exactly the batches an uninterrupted one would.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import torch
from tokenizers import Tokenizer

from curate.core.errors import InputError, RecipeError
from curate.core.hashing import hash_strings
from curate.core.tokenizer import encode
from curate.io.files import find_parquet
from curate.proxy.tokenizer import eod_id

#: Columns tried, in order, for a document's domain (per-domain bits per byte); none: every doc is "all".
DOMAIN_COLUMNS = ("domain", "source")


def read_documents(patterns: list[str], domain_column: str | None = None, where: str = "data") -> pa.Table:
    """``text`` and ``domain`` of every document in the files, in file and row order."""
    tables = []
    for path in find_parquet(patterns, where):
        try:
            names = pq.read_schema(path).names
        except Exception as exc:
            raise InputError(f"{path}: not a readable Parquet file ({exc}); rebuild or remove it") from exc
        if "text" not in names:
            raise InputError(f"{path}: no `text` column (columns: {names}); proxy data needs a text column")
        wanted = [domain_column] if domain_column else [c for c in DOMAIN_COLUMNS if c in names][:1]
        wanted = [c for c in wanted if c in names]
        t = pq.read_table(path, columns=["text", *wanted])
        domain = t.column(wanted[0]).cast(pa.string()).fill_null("unknown") if wanted else pa.array(["all"] * t.num_rows)
        tables.append(pa.table({"text": t.column("text"), "domain": domain}))
    table = pa.concat_tables(tables)
    return table.filter(pc.invert(pc.is_null(table.column("text"))))


def heldout_mask(texts: pa.ChunkedArray | pa.Array, fraction: float) -> np.ndarray:
    """True for the documents held out: xxhash64 of the text below ``fraction`` of the hash range."""
    cut = int(fraction * 2**64)
    return hash_strings(texts) < np.uint64(min(cut, 2**64 - 1))


def token_stream(tokenizer: Tokenizer, texts: list[str]) -> np.ndarray:
    """All documents as one int32 stream, each preceded by ``<|endoftext|>``."""
    eod = np.array([eod_id(tokenizer)], dtype=np.int32)
    docs = encode(tokenizer, texts)
    return np.concatenate([part for doc in docs for part in (eod, doc)]) if docs else eod


@dataclass
class EvalDocs:
    """Held-out documents, tokenized: what per-domain bits per byte is measured on."""

    tokens: list[np.ndarray]  # token ids of each document, without special tokens
    n_bytes: np.ndarray  # UTF-8 bytes of each document's text
    domains: np.ndarray  # domain name of each document

    @classmethod
    def build(cls, tokenizer: Tokenizer, table: pa.Table, max_docs: int | None = None) -> EvalDocs:
        if max_docs is not None:
            table = table.slice(0, max_docs)
        texts = table.column("text").to_pylist()
        return cls(
            tokens=encode(tokenizer, texts),
            n_bytes=np.array([len(t.encode("utf-8")) for t in texts], dtype=np.int64),
            domains=np.array(table.column("domain").to_pylist(), dtype=object),
        )


def batch_at(stream: np.ndarray, step: int, micro: int, batch_size: int, context: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs and targets (B, T) of one micro-batch: random windows of the stream, fixed by (seed, step, micro)."""
    span = len(stream) - context - 1
    if span <= 0:
        raise RecipeError(f"training data has {len(stream)} tokens, fewer than one context of {context + 1}; add data")
    rng = np.random.default_rng([seed, step, micro])
    starts = rng.integers(0, span + 1, size=batch_size)
    windows = np.stack([stream[s : s + context + 1] for s in starts]).astype(np.int64)  # (B, T+1)
    w = torch.from_numpy(windows)
    return w[:, :-1], w[:, 1:]
