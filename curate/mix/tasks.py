"""The parallel tasks of ``curate mix``; each reads and writes files and returns a small JSON result.

1. ``count``  (one per input piece): filter each source's rows, count tokens (cached), write a sparse
   histogram of subset keys per source (:mod:`curate.mix.select`).
2. ``window`` (pieces of sources with a fractional epoch): the (key, size) of the documents in the
   histogram buckets where each fractional epoch's run ends, so the driver can place the cut exactly.
3. ``send``   (one per piece): select each stage's (document, repeat) rows, tokenize them once, and send
   them to output shards by a range of their order key (:mod:`curate.engine.shuffle`).
4. ``write``  (one per stage and output shard): sort the shard's rows, write ``data/part-K.parquet`` and,
   when tokenizing, one ``.bin/.idx`` part per source.
5. ``merge``  (one per stage and source): concatenate a source's parts into ``bin/<source>_text_document``.

Memory of a task: one piece (``count``, ``window``, ``send``), one output shard (``write``), or one part
at a time (``merge``). Every file is written atomically and deterministically, so a task that ran in a
killed attempt and runs again rewrites the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pyarrow as pa

from curate.engine.shuffle import receive, send
from curate.io.names import numbered
from curate.io.shards import write_parquet
from curate.mix.config import OutputSpec, SourceSpec
from curate.mix.filter import parse_filter
from curate.mix.megatron import IndexedWriter, merge_indexed, token_dtype
from curate.mix.pieces import Piece, read_piece, source_rows
from curate.mix.select import Cut, buckets, histogram, order_keys, partition_of, subset_keys
from curate.mix.tokens import MixTokenizer

#: Columns the blend adds; an input column of the same name is not carried over.
ADDED = ("source", "category", "repeat")
#: Columns that travel with each row through the shuffle and are dropped before writing.
SORT = ("_key", "_src", "_piece", "_pos")


@dataclass(frozen=True)
class MixContext:
    """What every task needs (small: per source and stage, never per document or piece)."""

    sources: tuple[SourceSpec, ...]
    where: tuple[str, ...]
    seed: int
    tokenizer: tuple[str, str | None] | None
    cache_dir: str
    scratch: str
    schema: pa.Schema | None = None
    output: OutputSpec | None = None
    folders: tuple[str, ...] = ()
    parts: tuple[int, ...] = ()
    tokenize: bool = False
    #: (stage, source) -> (whole epochs, the fractional epoch's cut or None)
    plans: dict[tuple[int, int], tuple[int, Cut | None]] = field(default_factory=dict)


@lru_cache(maxsize=4)
def _load_tokenizer(path: str, eod: str | None) -> MixTokenizer:
    return MixTokenizer(path, eod)  # once per worker process


def tokenizer_of(ctx: MixContext) -> MixTokenizer | None:
    return _load_tokenizer(*ctx.tokenizer) if ctx.tokenizer else None


def _columns(ctx: MixContext, sources: list[int], text: bool) -> list[str]:
    cols = ["id"] + (["text"] if text else [])
    for k in sources:
        spec = ctx.sources[k]
        if spec.filter:
            cols += sorted(parse_filter(spec.filter).columns)
    return list(dict.fromkeys(cols))


def hist_path(scratch: str, k: int, piece: int) -> Path:
    return Path(scratch) / "hist" / f"{k:03d}" / f"{piece:06d}.parquet"


def count_task(ctx: MixContext, item: tuple[Piece, list[int]]) -> dict:
    piece, sources = item
    table, sizes, hit = read_piece(piece, _columns(ctx, sources, False), tokenizer_of(ctx), Path(ctx.cache_dir))
    out = {}
    for k in sources:
        rows = source_rows(table, sizes, ctx.sources[k], ctx.where[k], ctx.seed)
        b, docs, size = histogram(subset_keys(rows.hashes), rows.sizes)
        hist = pa.table({"bucket": pa.array(b, pa.int64()), "docs": pa.array(docs, pa.int64()), "size": pa.array(size, pa.int64())})
        write_parquet(hist, hist_path(ctx.scratch, k, piece.index), "zstd", 1)
        out[str(k)] = [len(rows.sizes), int(rows.sizes.sum())]
    return {"rows": piece.rows, "hit": hit, "sources": out}


def window_task(ctx: MixContext, item: tuple[Piece, list[tuple[str, int, int, int]]]) -> dict:
    """For each (name, source, first, last): keys and sizes of the piece's documents in those buckets."""
    piece, windows = item
    table, sizes, _ = read_piece(piece, _columns(ctx, sorted({w[1] for w in windows}), False), tokenizer_of(ctx), Path(ctx.cache_dir))
    out = {}
    for name, k, first, last in windows:
        rows = source_rows(table, sizes, ctx.sources[k], ctx.where[k], ctx.seed)
        keys = subset_keys(rows.hashes)
        b = buckets(keys)
        inside = (b >= first) & (b <= last)
        out[name] = [keys[inside].tolist(), rows.sizes[inside].tolist()]
    return out


def _rows_table(spec: SourceSpec, picked: pa.Table, repeats: np.ndarray, schema: pa.Schema) -> pa.Table:
    n = len(repeats)
    cols = []
    for f in schema:
        if f.name == "source":
            cols.append(pa.array([spec.name] * n, pa.string()))
        elif f.name == "category":
            cols.append(pa.array([spec.category] * n, pa.string()))
        elif f.name == "repeat":
            cols.append(pa.array(repeats, pa.int32()))
        elif f.name in picked.column_names:
            cols.append(picked.column(f.name).cast(f.type))
        else:
            cols.append(pa.nulls(n, f.type))
    return pa.Table.from_arrays(cols, schema=schema)


def _token_column(texts: pa.ChunkedArray, tok: MixTokenizer) -> pa.Array:
    """Each document's token ids (EOD included) as the bytes of the .bin dtype, one binary value per row."""
    dtype = token_dtype(tok.vocab_size)
    flat, lengths = tok.encode(texts, dtype)
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths * dtype.itemsize, out=offsets[1:])
    return pa.LargeBinaryArray.from_buffers(pa.large_binary(), len(lengths), [None, pa.py_buffer(offsets), pa.py_buffer(flat.tobytes())])


def send_schema(ctx: MixContext) -> pa.Schema:
    assert ctx.schema is not None
    extra = [pa.field("_key", pa.uint64()), pa.field("_src", pa.int32()), pa.field("_piece", pa.int32()), pa.field("_pos", pa.int64())]
    if ctx.tokenize:
        extra.append(pa.field("_tokens", pa.large_binary()))
    return pa.schema(list(ctx.schema) + extra)


def shuffle_root(ctx: MixContext, stage: int) -> Path:
    return Path(ctx.scratch) / "shuffle" / f"{stage:03d}"


def send_task(ctx: MixContext, item: tuple[Piece, list[int]]) -> dict:
    piece, sources = item
    assert ctx.schema is not None
    tok = tokenizer_of(ctx)
    keep = [f.name for f in ctx.schema if f.name not in ("id", "text", *ADDED)]
    table, sizes, _ = read_piece(piece, _columns(ctx, sources, True) + [c for c in keep if c in open_columns(piece)], tok, Path(ctx.cache_dir))
    schema = send_schema(ctx)
    sent: dict[str, dict[str, list[int]]] = {}
    per_stage: dict[int, list[pa.Table]] = {}
    for k in sources:
        rows = source_rows(table, sizes, ctx.sources[k], ctx.where[k], ctx.seed)
        picks = {}
        for (stage, src), (whole, cut) in ctx.plans.items():
            if src != k:
                continue
            n = len(rows.sizes)
            idx = np.tile(np.arange(n, dtype=np.int64), whole)
            rep = np.repeat(np.arange(whole, dtype=np.int32), n)
            if cut is not None:
                extra = np.flatnonzero(cut.mask(subset_keys(rows.hashes)))
                idx, rep = np.concatenate([idx, extra]), np.concatenate([rep, np.full(len(extra), whole, np.int32)])
            picks[stage] = (idx, rep)
            sent.setdefault(str(stage), {})[str(k)] = [len(idx), int(rows.sizes[idx].sum())]
        tokens = None
        if ctx.tokenize and tok is not None:
            used = np.unique(np.concatenate([i for i, _ in picks.values()] + [np.zeros(0, np.int64)]))
            tokens = (used, _token_column(rows.table.column("text").take(pa.array(used)), tok))
        for stage, (idx, rep) in picks.items():
            if not len(idx):
                continue
            t = _rows_table(ctx.sources[k], rows.table.take(pa.array(idx)), rep, ctx.schema)
            t = t.append_column("_key", pa.array(order_keys(rows.hashes[idx], rep), pa.uint64()))
            t = t.append_column("_src", pa.array(np.full(len(idx), k, np.int32)))
            t = t.append_column("_piece", pa.array(np.full(len(idx), piece.index, np.int32)))
            t = t.append_column("_pos", pa.array(rows.positions[idx].astype(np.int64)))
            if tokens is not None:
                t = t.append_column("_tokens", tokens[1].take(pa.array(np.searchsorted(tokens[0], idx))))
            per_stage.setdefault(stage, []).append(t.cast(schema))
    for stage, tables in per_stage.items():
        t = pa.concat_tables(tables)
        send(t, partition_of(t.column("_key").to_numpy(), ctx.parts[stage]), shuffle_root(ctx, stage), f"p{piece.index:06d}")
    return sent


@lru_cache(maxsize=64)
def _file_columns(path: str) -> frozenset[str]:
    from curate.io.readers import open_parquet

    return frozenset(open_parquet(path).schema_arrow.names)


def open_columns(piece: Piece) -> frozenset[str]:
    return _file_columns(piece.path)


def bin_part(ctx: MixContext, stage: int, k: int, part: int) -> Path:
    return Path(ctx.scratch) / "bins" / f"{stage:03d}" / f"{k:03d}" / f"{part:05d}"


def _flat_tokens(col: pa.ChunkedArray, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    arr = col.combine_chunks()
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset : arr.offset + len(arr) + 1]
    data = np.frombuffer(arr.buffers()[2], dtype=np.uint8) if arr.buffers()[2] is not None else np.zeros(0, np.uint8)
    return data[offsets[0] : offsets[-1]].view(dtype), np.diff(offsets) // dtype.itemsize


def write_task(ctx: MixContext, item: tuple[int, int]) -> dict:
    stage, part = item
    assert ctx.schema is not None and ctx.output is not None
    table = receive(shuffle_root(ctx, stage), part, send_schema(ctx))
    if table.num_rows == 0:
        return {"shard": None, "sources": {}}
    cols = {c: table.column(c).to_numpy() for c in SORT}
    order = np.lexsort((table.column("repeat").to_numpy(), cols["_pos"], cols["_piece"], cols["_src"], cols["_key"]))
    table = table.take(pa.array(order))
    name = f"part-{numbered(part, ctx.parts[stage])}.parquet"
    write_parquet(table.select(ctx.schema.names), Path(ctx.folders[stage]) / "data" / name, ctx.output.compression, ctx.output.compression_level)
    src = table.column("_src").to_numpy()
    out = {}
    for k in np.unique(src):
        rows = np.flatnonzero(src == k)
        tokens = 0
        if ctx.tokenize:
            tok = tokenizer_of(ctx)
            assert tok is not None
            dtype = token_dtype(tok.vocab_size)
            flat, lengths = _flat_tokens(table.column("_tokens").take(pa.array(rows)), dtype)
            with IndexedWriter(bin_part(ctx, stage, int(k), part), dtype) as writer:
                writer.add(flat, lengths)
            tokens = int(lengths.sum())
        out[str(int(k))] = [len(rows), tokens]
    return {"shard": name, "sources": out}


def merge_task(ctx: MixContext, item: tuple[int, int, list[int]]) -> int:
    stage, k, parts = item
    tok = tokenizer_of(ctx)
    assert tok is not None
    prefix = Path(ctx.folders[stage]) / "bin" / f"{ctx.sources[k].name}_text_document"
    return merge_indexed([bin_part(ctx, stage, k, p) for p in parts], prefix, token_dtype(tok.vocab_size))
