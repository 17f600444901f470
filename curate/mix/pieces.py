"""Input pieces of a mixture: each source file cut into ranges of row groups, read by one task each.

Planning reads only Parquet footers on the driver, so a missing column (``id``, ``text``, one a filter
names) is refused before any work, naming the source's field. A piece is read once per task for every
source that uses its file; what a task holds is one piece, never a source.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa

from curate.core.errors import InputError, RecipeError
from curate.core.hashing import hash_strings
from curate.io.files import find_parquet
from curate.io.readers import open_parquet
from curate.mix.config import SourceSpec
from curate.mix.filter import FilterSyntaxError, parse_filter
from curate.mix.tokens import MixTokenizer, cached_path, count_and_cache, load_cached


@dataclass(frozen=True)
class Piece:
    """Row groups ``row_groups`` of ``path``: ``rows`` rows; ``index`` orders pieces as the files are listed."""

    index: int
    path: str
    row_groups: tuple[int, ...]
    rows: int


@dataclass(frozen=True)
class SourceFiles:
    """A source after planning: its pieces (indexes into the plan) and its columns' unified types."""

    spec: SourceSpec
    index: int
    files: list[str]
    pieces: list[int]
    schema: pa.Schema


def _where(i: int) -> str:
    return f"sources[{i}]"


def plan_pieces(sources: list[tuple[int, SourceSpec]], mixture_file: str, rows_per_piece: int) -> tuple[list[Piece], list[SourceFiles]]:
    """Cut every used source's files into pieces (shared between sources that read the same file)."""
    pieces: list[Piece] = []
    by_file: dict[str, list[int]] = {}
    out = []
    for i, spec in sources:
        where = f"{mixture_file}: {_where(i)}"
        files = find_parquet(spec.paths(), f"{where}.path")
        needed = ["id", "text", *sorted(parse_filter(spec.filter).columns if spec.filter else ())]
        schemas, mine = [], []
        for f in files:
            if f not in by_file:
                meta = open_parquet(f).metadata
                by_file[f] = []
                group, rows = [], 0
                for rg in range(meta.num_row_groups):
                    group.append(rg)
                    rows += meta.row_group(rg).num_rows
                    if rows >= rows_per_piece:
                        by_file[f].append(len(pieces))
                        pieces.append(Piece(len(pieces), f, tuple(group), rows))
                        group, rows = [], 0
                if group or not by_file[f]:
                    by_file[f].append(len(pieces))
                    pieces.append(Piece(len(pieces), f, tuple(group), rows))
            schema = open_parquet(f).schema_arrow
            missing = [c for c in needed if c not in schema.names]
            if missing:
                field, hint = ("path", "") if set(missing) & {"id", "text"} else ("filter", "; quote text values, as in lang == \"zh\"")
                raise InputError(f"{where}.{field}: {f} has no column(s) {', '.join(missing)} (it has: {', '.join(schema.names)}){hint}")
            schemas.append(schema)
            mine.extend(by_file[f])
        try:
            unified = pa.unify_schemas(schemas, promote_options="permissive")
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise InputError(f"{where}.path: the files' columns do not agree: {exc}") from exc
        unified = unified.set(unified.get_field_index("id"), pa.field("id", pa.string()))
        unified = unified.set(unified.get_field_index("text"), pa.field("text", pa.large_string()))
        out.append(SourceFiles(spec, i, files, mine, unified))
    return pieces, out


@dataclass
class PieceRows:
    """One source's rows of one piece after its filter: positions in the piece, sizes, document hashes."""

    table: pa.Table
    positions: np.ndarray
    sizes: np.ndarray
    hashes: np.ndarray


def read_piece(piece: Piece, columns: list[str], tokenizer: MixTokenizer | None, cache_dir: Path) -> tuple[pa.Table, np.ndarray, bool]:
    """The piece's ``columns`` and every row's size (from the cache, or counted now); True on a cache hit."""
    cache = cached_path(cache_dir, piece.path, piece.row_groups, tokenizer)
    sizes = load_cached(cache, piece.rows)
    cols = list(dict.fromkeys(columns + ([] if sizes is not None else ["text"])))
    try:
        table = open_parquet(piece.path).read_row_groups(list(piece.row_groups), columns=cols) if piece.row_groups else None
    except (OSError, pa.ArrowInvalid) as exc:
        raise InputError(f"cannot read {piece.path}: {exc}") from exc
    if table is None:
        table = open_parquet(piece.path).schema_arrow.empty_table().select(cols)
    hit = sizes is not None
    if sizes is None:
        sizes = count_and_cache(cache, table.column("text"), tokenizer)
    return table, sizes + (tokenizer.eod_count if tokenizer else 0), hit


def source_rows(table: pa.Table, sizes: np.ndarray, spec: SourceSpec, where: str, seed: int) -> PieceRows:
    """A source's filtered rows of a piece table, with their sizes and document hashes."""
    keep = np.ones(table.num_rows, dtype=bool)
    if spec.filter:
        flt = parse_filter(spec.filter)
        try:
            keep = np.asarray(flt.mask(pl.from_arrow(table.select(["id", *sorted(flt.columns - {"id"})]))), dtype=bool)
        except (pl.exceptions.PolarsError, FilterSyntaxError) as exc:
            raise RecipeError(f"{where}.filter: {spec.filter!r} cannot be applied to {spec.name}: {exc}") from exc
    positions = np.flatnonzero(keep)
    picked = table.take(pa.array(positions)) if spec.filter else table
    ids = picked.column("id").cast(pa.string())
    hashes = hash_strings(ids, seed=seed, prefix=spec.name.encode() + b"\x00")
    return PieceRows(picked, positions, sizes[positions], hashes)
