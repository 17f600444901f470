"""Build a mixture: read and filter the sources, take their epochs, shuffle across sources, write the blend.

Sampling is token-exact and stable. Whole epochs repeat every document of a source; a fractional epoch
takes the documents that come first in an order set by xxhash of (seed, source, id) while they fit the
token target, then the next ones in that order that still fit, so 1.5 epochs of a source is 1.5x its
tokens to within a few tokens, and the same seed always picks the same documents. The blend order sorts every (document, repeat) by a 64-bit mix of its
hash and repeat number: deterministic, independent of the number of shards, and never Python's ``hash()``.

The blend is gathered in memory (the filtered sources' text), which suits corpora up to a few times RAM
less than the machine has; the output is written shard by shard:

    OUT/[STAGE/]data/part-00000.parquet   id, text, source, category, repeat, kept columns (zstd)
    OUT/[STAGE/]bin/<source>_text_document.bin/.idx   (tokenize: the source's documents, blend order)
    OUT/[STAGE/]weights.md, weights.csv, data_path.txt
    OUT/mixture.json                      the resolved mixture, counts and files
"""

from __future__ import annotations

import json
import math
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from curate.core.errors import InputError, OutputError, RecipeError
from curate.core.hashing import GOLDEN, hash_strings, splitmix64
from curate.io.files import find_parquet
from curate.io.shards import write_parquet
from curate.mix.config import Mixture, OutputSpec, SourceSpec, resolve_epochs
from curate.mix.filter import FilterSyntaxError, parse_filter
from curate.mix.megatron import IndexedWriter, token_dtype
from curate.mix.report import SourceRow, write_stage_report, write_summary
from curate.mix.tokens import MixTokenizer, cached_counts

#: Columns the blend adds; an input column of the same name is not carried over.
ADDED = ("source", "category", "repeat")
_SUBSET_SALT = np.uint64(0x5DEECE66D2B1A5F3)
#: Documents a fractional epoch may add after its hash-order prefix to land on the token target.
_FILL_STEPS = 64


@dataclass
class SourceData:
    """A source after reading and filtering: its rows and per-row tokens (end-of-document included)."""

    spec: SourceSpec
    index: int
    files: list[str]
    table: pa.Table
    tokens: np.ndarray
    rows_read: int
    cache_hit: bool


def doc_hashes(source: str, ids: pa.ChunkedArray | pa.Array, seed: int) -> np.ndarray:
    """xxh64 of (source, id) under ``seed``, per document."""
    return hash_strings(ids, seed=seed, prefix=source.encode() + b"\x00")


def select(hashes: np.ndarray, tokens: np.ndarray, epochs: float) -> tuple[np.ndarray, np.ndarray]:
    """Rows and repeat numbers for ``epochs`` passes over a source: whole passes, then a stable subset."""
    n = len(tokens)
    whole = int(math.floor(epochs + 1e-9))
    frac = max(0.0, epochs - whole)
    rows = np.tile(np.arange(n, dtype=np.int64), whole)
    repeats = np.repeat(np.arange(whole, dtype=np.int32), n)
    if frac > 1e-9 and n:
        order = np.argsort(splitmix64(hashes ^ _SUBSET_SALT), kind="stable")
        cum = np.cumsum(tokens[order])
        target = frac * float(cum[-1])
        k = int(np.searchsorted(cum, target, side="right"))
        picked = [order[:k]]
        gap = target - (float(cum[k - 1]) if k else 0.0)
        rest, rest_tokens, pos = order[k:], tokens[order[k:]], 0
        for _ in range(_FILL_STEPS):  # first fit in hash order: close the gap a long document left
            fits = np.flatnonzero(rest_tokens[pos:] <= gap)
            if not len(fits):
                break
            j = pos + int(fits[0])
            picked.append(rest[j : j + 1])
            gap -= float(rest_tokens[j])
            pos = j + 1
        extra = np.sort(np.concatenate(picked))
        rows = np.concatenate([rows, extra])
        repeats = np.concatenate([repeats, np.full(len(extra), whole, dtype=np.int32)])
    return rows, repeats


def load_source(spec: SourceSpec, index: int, tokenizer: MixTokenizer, cache_dir: Path, mixture_file: str, quiet: bool) -> SourceData:
    """Read a source's files, count (or recall) its tokens, apply its filter."""
    where = f"{mixture_file}: sources[{index}]"
    files = find_parquet(spec.paths(), f"{where}.path")
    flt = parse_filter(spec.filter) if spec.filter else None
    tables = []
    for f in files:
        try:
            tables.append(pq.read_table(f))
        except (OSError, pa.ArrowInvalid) as exc:
            raise InputError(f"{where}: cannot read {f}: {exc}") from exc
        missing = [c for c in ("id", "text", *sorted(flt.columns if flt else ())) if c not in tables[-1].column_names]
        if missing:
            field, hint = ("path", "") if set(missing) & {"id", "text"} else ("filter", "; quote text values, as in lang == \"zh\"")
            raise InputError(f"{where}.{field}: {f} has no column(s) {', '.join(missing)} (it has: {', '.join(tables[-1].column_names)}){hint}")
    try:
        table = pa.concat_tables(tables, promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise InputError(f"{where}.path: the files' columns do not agree: {exc}") from exc
    table = table.set_column(table.schema.get_field_index("id"), "id", table.column("id").cast(pa.string()))
    table = table.set_column(table.schema.get_field_index("text"), "text", table.column("text").cast(pa.large_string()))
    counts, hit = cached_counts(files, table.column("text"), tokenizer, cache_dir, spec.name, quiet)
    tokens = counts + tokenizer.eod_count
    if flt is not None:
        try:
            keep = flt.mask(pl.from_arrow(table.select(["id", *sorted(flt.columns - {"id"})])))
        except (pl.exceptions.PolarsError, FilterSyntaxError) as exc:
            raise RecipeError(f"{where}.filter: {spec.filter!r} cannot be applied to {spec.name}: {exc}") from exc
        table = table.filter(pa.array(keep))
        tokens = tokens[keep]
    return SourceData(spec, index, files, table, tokens, len(counts), hit)


def blend_schema(sources: list[SourceData], keep: list[str] | None, mixture_file: str) -> pa.Schema:
    """The blend's columns: id, text, the added ones, then the kept source columns."""
    base = [pa.field("id", pa.string()), pa.field("text", pa.string()), pa.field("source", pa.string()),
            pa.field("category", pa.string()), pa.field("repeat", pa.int32())]
    types: dict[str, set[pa.DataType]] = {}
    for s in sources:
        for field in s.table.schema:
            types.setdefault(field.name, set()).add(field.type)
    if keep is None:
        keep = [f.name for f in sources[0].table.schema if f.name not in ("id", "text", *ADDED)
                and all(f.name in s.table.column_names for s in sources) and len(types[f.name]) == 1]
    extra = []
    for name in keep:
        if name in ("id", "text", *ADDED):
            raise RecipeError(f"{mixture_file}: output.keep_columns: {name!r} is always in the blend (or added by it); leave it out")
        if name not in types:
            raise RecipeError(f"{mixture_file}: output.keep_columns: no source has a column {name!r}")
        if len(types[name]) > 1:
            raise RecipeError(f"{mixture_file}: output.keep_columns: {name!r} has different types across sources ({', '.join(map(str, types[name]))})")
        extra.append(pa.field(name, next(iter(types[name]))))
    return pa.schema(base + extra)


def _rows_table(src: SourceData, rows: np.ndarray, repeats: np.ndarray, schema: pa.Schema) -> pa.Table:
    picked = src.table.take(pa.array(rows))
    n = len(rows)
    cols = []
    for field in schema:
        if field.name == "source":
            cols.append(pa.array([src.spec.name] * n, pa.string()))
        elif field.name == "category":
            cols.append(pa.array([src.spec.category] * n, pa.string()))
        elif field.name == "repeat":
            cols.append(pa.array(repeats, pa.int32()))
        elif field.name in picked.column_names:
            cols.append(picked.column(field.name).cast(field.type))
        else:
            cols.append(pa.nulls(n, field.type))
    return pa.Table.from_arrays(cols, schema=schema)


def write_shards(folder: Path, sources: list[SourceData], src: np.ndarray, rows: np.ndarray, repeats: np.ndarray,
                 schema: pa.Schema, output: OutputSpec, label: str, quiet: bool) -> list[str]:
    """Write the blend (already in order) as Parquet shards of ``output.rows_per_shard`` rows."""
    per = output.rows_per_shard
    names = []
    shards = range(0, len(rows), per)
    for n, start in enumerate(tqdm(shards, desc=f"write blend [{label}]", unit="shard", disable=quiet)):
        s, r, rep = src[start : start + per], rows[start : start + per], repeats[start : start + per]
        parts, positions = [], []
        for k in np.unique(s):
            m = s == k
            parts.append(_rows_table(sources[k], r[m], rep[m], schema))
            positions.append(np.flatnonzero(m))
        table = pa.concat_tables(parts).take(pa.array(np.argsort(np.concatenate(positions), kind="stable")))
        name = f"part-{n:05d}.parquet"
        write_parquet(table, folder / name, output.compression, output.compression_level)
        names.append(name)
    return names


def write_indexed(prefix: Path, source: SourceData, rows: np.ndarray, tokenizer: MixTokenizer, quiet: bool) -> int:
    """One source's documents, in blend order, as a Megatron indexed dataset; returns tokens written."""
    dtype = token_dtype(tokenizer.vocab_size)
    unique, inverse = np.unique(rows, return_inverse=True)
    with tqdm(total=len(unique), desc=f"tokenize [{source.spec.name}]", unit="doc", disable=quiet) as bar:
        flat, lengths = tokenizer.encode(source.table.column("text").take(pa.array(unique)), dtype, bar)
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    written = 0
    with IndexedWriter(prefix, dtype) as writer:
        for start in range(0, len(inverse), 65536):
            chunk = inverse[start : start + 65536]
            lens, starts = lengths[chunk], offsets[chunk]
            if not len(chunk):
                continue
            before = np.concatenate([[0], np.cumsum(lens)[:-1]])
            gather = np.repeat(starts - before, lens) + np.arange(int(lens.sum()))
            writer.add(flat[gather], lens)
            written += int(lens.sum())
    return written


def _prepare_output(out: Path, fingerprint: str, overwrite: bool) -> None:
    """Refuse to write over a curation run, or over another mixture's blend unless ``overwrite``."""
    if (out / "manifest.json").exists():
        raise OutputError(f"{out} holds a curation run (manifest.json); write the blend to another folder")
    marker = out / "mixture.json"
    if marker.exists():
        previous = json.loads(marker.read_text(encoding="utf-8")).get("fingerprint")
        if previous != fingerprint and not overwrite:
            raise OutputError(f"{out} holds the blend of another mixture; use another folder or --overwrite")
    elif out.exists() and any(p.name != ".cache" for p in out.iterdir()) and not overwrite:
        raise OutputError(f"{out} is not empty and holds no blend; use an empty folder or --overwrite")


def build_mixture(mixture: Mixture, out: str | Path, mixture_file: str = "<mixture>", tokenize: bool | None = None,
                  dry_run: bool = False, overwrite: bool = False, quiet: bool = False) -> dict:
    """Build every stage of ``mixture`` into ``out``; returns what ``mixture.json`` records."""
    out = Path(out)
    _prepare_output(out, mixture.fingerprint(), overwrite)
    tokenize = mixture.output.tokenize if tokenize is None else tokenize
    tokenizer = MixTokenizer(mixture.tokenizer.path, mixture.tokenizer.eod_token)
    stages = mixture.stage_list()
    used = {s.name for st in stages for s in mixture.sources if st.sources is None or s.name in st.sources}
    sources = [load_source(spec, i, tokenizer, out / ".cache" / "tokens", mixture_file, quiet)
               for i, spec in enumerate(mixture.sources) if spec.name in used]
    schema = blend_schema(sources, mixture.output.keep_columns, mixture_file)
    by_name = {s.spec.name: k for k, s in enumerate(sources)}
    totals = {s.spec.name: int(s.tokens.sum()) for s in sources}
    single = mixture.stages is None
    report = []
    for stage in stages:
        folder = out if single else out / stage.name
        resolved = resolve_epochs(mixture, stage, totals)
        srcs, rows, reps, keys, table_rows = [], [], [], [], []
        for res in resolved:
            k = by_name[res.source.name]
            data = sources[k]
            hashes = doc_hashes(data.spec.name, data.table.column("id"), mixture.seed)
            r, rep = select(hashes, data.tokens, res.epochs)
            srcs.append(np.full(len(r), k, dtype=np.int32))
            rows.append(r)
            reps.append(rep)
            with np.errstate(over="ignore"):
                keys.append(splitmix64(hashes[r] + (rep.astype(np.uint64) + np.uint64(1)) * GOLDEN))
            table_rows.append(SourceRow(stage.name, data.spec.name, data.spec.category, data.spec.filter, len(data.files),
                                        data.rows_read, len(data.tokens), int(data.tokens.sum()), res.epochs,
                                        len(r), int(data.tokens[r].sum()), res.target_share))
        src, row, rep = np.concatenate(srcs), np.concatenate(rows), np.concatenate(reps)
        order = np.lexsort((row, src, np.concatenate(keys)))
        src, row, rep = src[order], row[order], rep[order]
        shards: list[str] = []
        if not dry_run:
            for sub in ("data", "bin"):
                shutil.rmtree(folder / sub, ignore_errors=True)
            shards = write_shards(folder / "data", sources, src, row, rep, schema, mixture.output, stage.name, quiet)
            if tokenize:
                for r in table_rows:
                    k = by_name[r.source]
                    if r.effective_documents:
                        r.bin_tokens = write_indexed(folder / "bin" / f"{r.source}_text_document", sources[k], row[src == k], tokenizer, quiet)
        report.append(write_stage_report(folder, table_rows, mixture, shards, tokenize and not dry_run, out))
    return write_summary(out, mixture, report, tokenizer, [(s.spec.name, s.files, s.cache_hit) for s in sources], schema, dry_run)
