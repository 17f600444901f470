"""Parquet shards to token streams for the proxy trainer, and the held-out documents it is evaluated on.

Memory: a candidate's training tokens are written to a token file on disk (``write_tokens``) one record
batch at a time and read back memory-mapped, so a process holds one batch of documents and the pages of
the file the sampled windows touch, never the corpus. The evaluation documents (a few hundred) are held
in memory.

Everything here is deterministic: files are read in sorted order, held-out documents are chosen by a hash
of their text (so the same document is held out of every candidate blend that contains it), and the
training batch of step ``s`` is drawn from a generator seeded by ``(seed, s, micro)`` alone, so a resumed
run sees exactly the batches an uninterrupted one would.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

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


#: Documents per record batch when streaming a candidate to its token file.
READ_BATCH = 2048


def iter_texts(patterns: list[str], where: str = "data", batch_size: int = READ_BATCH):
    """The non-null ``text`` of every document, in file and row order, one Arrow array per record batch."""
    for path in find_parquet(patterns, where):
        try:
            reader = pq.ParquetFile(path)
        except Exception as exc:
            raise InputError(f"{path}: not a readable Parquet file ({exc}); rebuild or remove it") from exc
        if "text" not in reader.schema_arrow.names:
            raise InputError(f"{path}: no `text` column (columns: {reader.schema_arrow.names}); proxy data needs a text column")
        for batch in reader.iter_batches(batch_size=batch_size, columns=["text"]):
            texts = batch.column(0)
            yield texts.filter(pc.invert(pc.is_null(texts)))


def write_tokens(
    tokenizer: Tokenizer,
    patterns: list[str],
    path: str | Path,
    exclude: np.ndarray | None = None,
    transform: Callable[[list[str]], list[str]] | None = None,
    key: str = "",
) -> tuple[np.memmap, dict]:
    """Tokenize the documents of ``patterns`` into the file ``path`` and return it memory-mapped, with counts.

    Each document is preceded by ``<|endoftext|>``; documents whose text hash is in ``exclude`` (the eval
    set) are skipped and counted; ``transform`` rewrites a batch of texts (controls). The file is written
    to ``path.tmp`` and renamed, so a file that exists is complete; it is reused when its recorded ``key``
    (what the caller says the tokens depend on) is the same. Ids are uint16 when the vocabulary fits, else uint32.
    """
    path = Path(path)
    dtype = np.uint16 if tokenizer.get_vocab_size() <= 65536 else np.uint32
    meta_path = path.with_suffix(".json")
    if path.is_file() and meta_path.is_file():
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if meta.get("key") == key:
            return np.memmap(path, dtype=dtype, mode="r"), meta
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    eod = np.array([eod_id(tokenizer)], dtype=dtype)
    docs = removed = tokens = 0
    with open(tmp, "wb") as f:
        for texts in iter_texts(patterns):
            if exclude is not None and len(exclude):
                keep = ~np.isin(hash_strings(texts), exclude)
                removed += int((~keep).sum())
                texts = texts.filter(pa.array(keep))
            batch = texts.to_pylist()
            if transform is not None:
                batch = transform(batch)
            for ids in encode(tokenizer, batch):
                f.write(eod.tobytes())
                f.write(ids.astype(dtype).tobytes())
                tokens += 1 + len(ids)
            docs += len(batch)
    if tokens == 0:
        tmp.unlink()
        raise RecipeError(f"no documents to train on in {patterns}; check the globs")
    os.replace(tmp, path)
    meta = {"documents": docs, "eval_overlap_removed": removed, "tokens": tokens, "key": key}
    meta_path.write_text(json.dumps(meta) + "\n", encoding="utf-8")
    return np.memmap(path, dtype=dtype, mode="r"), meta


def shuffle_words(texts: list[str], fraction: float, seed: int = 0) -> list[str]:
    """A damaged copy: the words of ``fraction`` of the documents (chosen by text hash) shuffled within each line.

    The control of a comparison's resolving power: it keeps every word and every line of the text, so
    only a model that learned word order can tell it from the original. Per-row Python (shuffling words
    has no vectorised form); the generator of each document is seeded by its hash, so the copy is the
    same in every run.
    """
    hashes = hash_strings(texts, seed=seed)
    cut = np.uint64(min(int(fraction * 2**64), 2**64 - 1))
    out = []
    for text, h in zip(texts, hashes):
        if h >= cut:
            out.append(text)
            continue
        rng = np.random.default_rng(int(h))
        lines = []
        for line in text.split("\n"):
            words = line.split(" ")
            lines.append(" ".join(words[i] for i in rng.permutation(len(words))))
        out.append("\n".join(lines))
    return out


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
