"""Input discovery, work-unit planning and shard reading (Parquet, JSONL plain/.gz/.zst, WARC; any fsspec path).

The unit of work is a piece of one input file, so that big files keep every worker busy:

* Parquet: a run of whole row groups holding about ``rows_per_unit`` rows, or, for a row group bigger than
  that, a row range inside it (read with ``iter_batches`` and sliced: memory is bounded by the row group's
  column chunks plus the unit, never by the file);
* plain JSONL: a byte range of about ``bytes_per_unit``, cut at line starts (:mod:`curate.io.jsonl`);
* WARC (``.warc``, ``.warc.gz`` with a gzip member per record): a byte range of about ``bytes_per_unit``,
  cut at record starts (:mod:`curate.io.warc_split`);
* compressed JSONL (``.gz``, ``.zst``) and WARC that cannot be cut (one gzip stream, ``.zst``): one unit
  per file, streamed.

Everything a unit needs to be read again lives in :class:`WorkUnit`, so any worker on any node can read it.
Ids made from file and row, and reasons naming ``FILE:row N`` or ``FILE:line N``, are the same for any
unit size; the rows of the units, in unit order, are the rows of the files. A repeated id is found within
a unit (the ``exact_dedup`` stage finds repeats across units).

A file that cannot be read at all (missing, truncated, no text column) stops the run before any work,
with an :class:`~curate.core.errors.InputError` naming it. A record that cannot be used (invalid UTF-8, broken
JSON, text that is not a string, empty text) is dropped into ``rejected/`` with ``drop_stage = "read"`` and
a reason naming the file and line or row: nothing is lost.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Iterable, Literal

import fsspec
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from curate.core.errors import InputError
from curate.core.schema import DROP_REASON, DROP_STAGE, ID, READ_STAGE, TEXT, stable_ids
from curate.io import jsonl, warc
from curate.io.warc_split import plan_warc

Format = Literal["parquet", "jsonl", "warc"]
_JSONL_SUFFIXES = (".jsonl", ".json", ".ndjson")
_COMPRESSIONS = (".gz", ".zst", ".zstd")


def format_of(path: str) -> Format:
    """The input format named by a file's extension (``.parquet``, ``.jsonl[.gz|.zst]``, ``.warc[.gz]``)."""
    name = path.lower()
    for comp in _COMPRESSIONS:
        if name.endswith(comp):
            name = name[: -len(comp)]
    if name.endswith(".parquet") or name.endswith(".pq"):
        return "parquet"
    if name.endswith(_JSONL_SUFFIXES):
        return "jsonl"
    if name.endswith(".warc"):
        return "warc"
    raise InputError(
        f"{path}: cannot tell the format from the extension; use .parquet, .jsonl, .jsonl.gz, .jsonl.zst, .warc "
        "or .warc.gz, or set `input.format` in the recipe"
    )


def _is_input_file(path: str) -> bool:
    try:
        format_of(path)
        return True
    except InputError:
        return False


def find_inputs(patterns: Iterable[str]) -> list[str]:
    """Expand paths, globs and directories (local, ``hf://``, ``s3://``, any fsspec URL) into sorted files.

    A pattern that matches nothing is an error naming it: a typo must not produce an empty run.
    """
    files: list[str] = []
    for pattern in patterns:
        fs, path = fsspec.core.url_to_fs(pattern)
        if fs.isdir(path):
            matched = [p for p in fs.find(path) if _is_input_file(p)]
        elif any(ch in path for ch in "*?["):
            matched = [p for p in fs.glob(path) if fs.isfile(p) and _is_input_file(p)]
        elif fs.exists(path):
            matched = [path]
        else:
            raise InputError(f"input {pattern!r} does not exist")
        if not matched:
            raise InputError(f"input {pattern!r} matches no .parquet, .jsonl[.gz|.zst] or .warc[.gz] file")
        local = isinstance(fs, fsspec.implementations.local.LocalFileSystem) and "://" not in pattern
        files.extend(p if local else fs.unstrip_protocol(p) for p in sorted(matched))
    seen: set[str] = set()
    return [f for f in files if not (f in seen or seen.add(f))]


@dataclass(frozen=True)
class ColumnMap:
    """Which input columns hold the id and the text (renamed to ``id`` and ``text`` on read)."""

    id_column: str = ID
    text_column: str = TEXT


@dataclass(frozen=True)
class WorkUnit:
    """One piece of input a worker reads on its own: a file, Parquet row groups or rows, or JSONL bytes.

    ``start_row`` is the file's row (or line) index of the unit's first record; ``max_rows`` caps the rows
    read (a row range inside a row group, or a ``--limit``); ``byte_start``/``byte_end`` bound a plain
    JSONL or a WARC unit (``byte_end`` None: to the end of the file).
    """

    index: int
    path: str
    format: Format
    row_groups: tuple[int, ...] | None = None
    start_row: int = 0
    max_rows: int | None = None
    byte_start: int = 0
    byte_end: int | None = None
    total: int = 0  # units in the run's plan: the digits of its file names (curate.io.names)

    @property
    def label(self) -> str:
        if self.row_groups is not None:
            rows = f", rows {self.start_row}-{self.start_row + self.max_rows - 1}" if self.max_rows else ""
            return f"{self.path}[row groups {self.row_groups[0]}-{self.row_groups[-1]}{rows}]"
        if self.byte_start or self.byte_end is not None:
            return f"{self.path}[bytes {self.byte_start}-{'' if self.byte_end is None else self.byte_end}]"
        return self.path


#: A piece of a file: WorkUnit fields (but index, path, format), its row count if known, and whether
#: that count must be enforced (a row range inside a row group) rather than being the whole piece.
_Piece = tuple[dict, int | None, bool]


def plan_units(
    files: list[str],
    columns: ColumnMap,
    fmt: str = "auto",
    rows_per_unit: int = 50_000,
    limit: int | None = None,
    bytes_per_unit: int = 256 << 20,
) -> list[WorkUnit]:
    """Cut the inputs into work units; unreadable files fail here, before work.

    Reads Parquet footers, the first record of each WARC file and a few KiB at each cut of a WARC file
    over ``bytes_per_unit``, and each plain JSONL file over ``bytes_per_unit`` once (counting its lines);
    other files only by name and size.
    """
    units: list[WorkUnit] = []
    remaining = limit
    for path in files:
        if remaining is not None and remaining <= 0:
            break
        file_format: Format = format_of(path) if fmt == "auto" else fmt  # type: ignore[assignment]
        pieces: list[_Piece]
        if file_format == "parquet":
            pieces = _plan_parquet(path, columns, rows_per_unit)
        elif file_format == "warc":
            warc.check_warc(path)
            # a --limit run reads records from the start: the file whole, its records counted to cap it
            ranges = plan_warc(path, bytes_per_unit) if remaining is None else [(0, None)]
            split = len(ranges) > 1
            count = warc.count_records(path) if remaining is not None else None
            pieces = [({"byte_start": a, "byte_end": b} if split else {}, count, False) for a, b in ranges]
        else:
            spans = jsonl.plan_jsonl(path, bytes_per_unit, count=remaining is not None)
            split = len(spans) > 1
            pieces = [
                ({"start_row": s.first_line, "byte_start": s.start, "byte_end": s.end} if split else {}, s.lines, False)
                for s in spans
            ]
        for fields, rows, enforce in pieces:
            cap = rows if enforce else None
            if remaining is not None:
                cap = min(rows, remaining) if rows is not None else remaining
                remaining -= cap
            units.append(WorkUnit(len(units), path, file_format, max_rows=cap, **fields))
            if remaining is not None and remaining <= 0:
                break
    return [replace(u, total=len(units)) for u in units]


def open_parquet(path: str) -> pq.ParquetFile:
    try:
        fs, p = fsspec.core.url_to_fs(path)
        return pq.ParquetFile(fs.open(p, "rb"))
    except Exception as exc:  # truncated, not Parquet, unreachable
        raise InputError(f"{path}: cannot read as Parquet ({exc}); fix or remove the file") from exc


def _plan_parquet(path: str, columns: ColumnMap, rows_per_unit: int) -> list[_Piece]:
    """Whole row groups gathered up to ``rows_per_unit`` rows; a bigger row group cut into equal row ranges."""
    meta = open_parquet(path).metadata
    names = meta.schema.to_arrow_schema().names
    if columns.text_column not in names:
        raise InputError(
            f"{path}: no text column {columns.text_column!r} (columns: {', '.join(names)}); "
            "set `input.text_column` in the recipe"
        )
    pieces: list[_Piece] = []
    group: list[int] = []
    start = rows = 0
    for rg in range(meta.num_row_groups):
        size = meta.row_group(rg).num_rows
        if size > rows_per_unit:
            if group:
                pieces.append(({"row_groups": tuple(group), "start_row": start}, rows, False))
                start, group, rows = start + rows, [], 0
            k = -(-size // rows_per_unit)
            for j in range(k):
                a, b = size * j // k, size * (j + 1) // k
                pieces.append(({"row_groups": (rg,), "start_row": start + a}, b - a, True))
            start += size
            continue
        group.append(rg)
        rows += size
        if rows >= rows_per_unit:
            pieces.append(({"row_groups": tuple(group), "start_row": start}, rows, False))
            start, group, rows = start + rows, [], 0
    if group or not pieces:
        pieces.append(({"row_groups": tuple(group), "start_row": start}, rows, False))
    return pieces


def read_unit(unit: WorkUnit, columns: ColumnMap) -> tuple[pa.Table, pa.Table]:
    """Read one unit into (documents, rejected read records).

    Documents have ``id`` and ``text`` as strings, first, then every other input column. Rejected records
    carry ``id``, ``text`` (the raw record, so nothing is lost), ``drop_stage`` and ``drop_reason``.
    """
    if unit.format == "parquet":
        try:
            table = _read_parquet(unit)
        except (OSError, pa.ArrowException) as exc:  # a corrupt page behind an intact footer
            raise InputError(f"{unit.label}: cannot read as Parquet ({exc}); fix or remove the file") from exc
        where = [f"{unit.path}:row {unit.start_row + i}" for i in range(table.num_rows)]
        raw_text = None
    elif unit.format == "warc":
        table, where, raw_text = warc.read_warc(
            unit.path, columns.id_column, columns.text_column, unit.max_rows, unit.byte_start, unit.byte_end
        )
        docs, rejected = _normalise(table, unit, columns, where, raw_text)
        # html and text hold the same values: one array under both names, not two copies
        return docs.set_column(docs.column_names.index("html"), "html", docs.column(TEXT)), rejected
    else:
        table, where, raw_text = jsonl.read_jsonl(
            unit.path, columns.text_column, unit.byte_start, unit.byte_end, unit.start_row, unit.max_rows
        )
    return _normalise(table, unit, columns, where, raw_text)


def _read_parquet(unit: WorkUnit) -> pa.Table:
    """The unit's row groups, or ``max_rows`` rows of them from ``start_row`` (streamed in batches, sliced)."""
    pf = open_parquet(unit.path)
    groups = list(unit.row_groups or ())
    if unit.max_rows is None or not groups:
        return pf.read_row_groups(groups)
    skip = unit.start_row - sum(pf.metadata.row_group(g).num_rows for g in range(groups[0]))
    need, batches = unit.max_rows, []
    for batch in pf.iter_batches(batch_size=16_384, row_groups=groups):
        if need <= 0:
            break
        if skip >= batch.num_rows:
            skip -= batch.num_rows
            continue
        piece = batch.slice(skip, need)
        skip, need = 0, need - piece.num_rows
        batches.append(piece)
    return pa.Table.from_batches(batches, schema=pf.schema_arrow)


def _text_problems(text: pa.ChunkedArray) -> tuple[pa.Array, pa.Array]:
    """Validated text and a reason per row (None when usable). Vectorised except for broken UTF-8."""
    t = text.type
    if pa.types.is_null(t):
        return pa.nulls(len(text), pa.string()), pa.array(["text is null"] * len(text), pa.string())
    if pa.types.is_binary(t) or pa.types.is_large_binary(t):
        decoded = []
        for value in text.to_pylist():  # per-row: only binary columns need it
            try:
                decoded.append(None if value is None else value.decode("utf-8"))
            except UnicodeDecodeError:
                decoded.append(None)
        reasons = [
            None if d is not None else ("text is null" if v is None else "invalid UTF-8")
            for d, v in zip(decoded, text.to_pylist())
        ]
        return pa.array(decoded, pa.string()), pa.array(reasons, pa.string())
    if not (pa.types.is_string(t) or pa.types.is_large_string(t)):
        return pa.nulls(len(text), pa.string()), pa.array([f"text is {t}, not a string"] * len(text), pa.string())
    arr = text.combine_chunks().cast(pa.string()) if len(text) else pa.array([], pa.string())
    try:
        arr.validate(full=True)
    except pa.ArrowInvalid:
        return _text_problems(arr.cast(pa.binary()))
    empty = pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(arr)), 0)
    reasons = pc.if_else(pc.is_null(arr), "text is null", pc.if_else(empty, "empty text", pa.scalar(None, pa.string())))
    return arr, reasons


def _repeated_ids(ids: pa.Array | pa.ChunkedArray, reason: pa.Array, where: list[str]) -> pa.Array:
    """A reason for each usable record whose id an earlier usable record of this unit already has."""
    if pc.count_distinct(ids).as_py() == len(ids):  # the usual case, and a cheap test
        return pa.nulls(len(ids), pa.string())
    import polars as pl

    usable = pl.Series(pc.is_null(reason).to_numpy(zero_copy_only=False))
    frame = pl.DataFrame({"id": pl.Series(pa.chunked_array([ids]) if isinstance(ids, pa.Array) else ids), "ok": usable})
    frame = frame.with_row_index("row")
    first = frame.filter(pl.col("ok")).group_by("id", maintain_order=True).agg(pl.col("row").first().alias("first"))
    repeats = frame.join(first, on="id", how="left").filter(pl.col("ok") & (pl.col("row") != pl.col("first")))
    out: list[str | None] = [None] * len(ids)
    for row, first_row in repeats.select("row", "first").iter_rows():
        out[row] = f"duplicate id (first is {where[first_row].rsplit(':', 1)[1]})"
    return pa.array(out, pa.string())


def _normalise(
    table: pa.Table, unit: WorkUnit, columns: ColumnMap, where: list[str], raw_text: list[str | None] | None
) -> tuple[pa.Table, pa.Table]:
    n = table.num_rows
    read_error = table.column("__read_error") if "__read_error" in table.column_names else pa.nulls(n, pa.string())
    table = table.drop([c for c in ("__read_error",) if c in table.column_names])

    if columns.text_column in table.column_names:
        text, text_reason = _text_problems(table.column(columns.text_column))
    else:
        text = pa.nulls(n, pa.string())
        text_reason = pa.array([f"no {columns.text_column!r} field"] * n, pa.string())
    reason = pc.coalesce(read_error, text_reason)

    ids = stable_ids(unit.path, unit.start_row, n)
    if columns.id_column in table.column_names:
        given = table.column(columns.id_column)
        given = given.cast(pa.string()) if not pa.types.is_string(given.type) else given
        ids = pc.coalesce(given, ids)
    reason = pc.coalesce(reason, _repeated_ids(ids, reason, where))
    rest = [c for c in table.column_names if c not in (columns.id_column, columns.text_column, ID, TEXT)]
    docs = pa.table([ids, text] + [table.column(c) for c in rest], names=[ID, TEXT] + rest)

    bad = pc.is_valid(reason).to_numpy(zero_copy_only=False)
    if not bad.any():
        return docs, _empty_rejected()
    bad_idx = np.flatnonzero(bad)
    kept = docs.filter(pa.array(~bad))
    shown_text = text.to_pylist()
    if raw_text is not None:
        shown_text = [r if r is not None else t for r, t in zip(raw_text, shown_text)]
    original = None
    if columns.text_column in table.column_names:
        column = table.column(columns.text_column)
        # as bytes: a Parquet string column may hold invalid UTF-8 (a flipped bit), which to_pylist cannot decode
        original = (column.cast(pa.binary()) if pa.types.is_string(column.type) or pa.types.is_large_string(column.type) else column).to_pylist()
    rej_text = []
    for i in bad_idx:
        value = shown_text[i]
        if value is None and original is not None and original[i] is not None:
            o = original[i]
            value = o.decode("utf-8", errors="replace") if isinstance(o, bytes) else json.dumps(o, ensure_ascii=False)
        rej_text.append(value)
    reasons = reason.to_pylist()
    rejected = pa.table(
        {
            ID: ids.take(pa.array(bad_idx)),
            TEXT: pa.array(rej_text, pa.string()),
            DROP_STAGE: pa.array([READ_STAGE] * len(bad_idx), pa.string()),
            DROP_REASON: pa.array([f"{READ_STAGE}:{reasons[i]} at {where[i]}" for i in bad_idx], pa.string()),
        }
    )
    return kept, rejected


def _empty_rejected() -> pa.Table:
    return pa.table({c: pa.array([], pa.string()) for c in (ID, TEXT, DROP_STAGE, DROP_REASON)})
