"""One schema per run: every shard of ``data/`` and of ``rejected/`` has the same columns and types.

Units are read and processed independently, so their shards can disagree: a JSONL file without a nested
``metadata`` field, a struct with fewer fields, a column that is all null in one file, a stage whose drops
happen in only some units. Polars then refuses to scan the folder together (``missing struct field``).

The rule, applied once every unit has committed and before the manifest is written:

* ``data/``: the columns of all data shards in the order they first appear (shards in unit order), each
  with the type :func:`pyarrow.unify_schemas` gives (``permissive``: null → any type, integers → floats,
  structs merged field by field); two types that do not unify (a string and a number) become a string,
  non-string values written as JSON.
* ``rejected/``: the data schema, then any columns only rejected rows have, then ``drop_stage`` and
  ``drop_reason``: a rejected row reads with the same types as a kept one.
* A shard whose footer already has that schema is left as it is; any other is rewritten (cast, with nulls
  for its missing columns) atomically. The schemas come from footers, so deciding costs no data read;
  rewriting holds one shard (one work unit) at a time. Re-running after a kill decides the same schema
  and rewrites only what is left, so the result is byte-identical to an uninterrupted run.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from curate.core.schema import DROP_REASON, DROP_STAGE
from curate.io.shards import write_parquet


def unify(schemas: list[pa.Schema]) -> pa.Schema:
    """Columns in first-seen order, each with its unified type (string when types do not unify)."""
    fields: dict[str, pa.Field] = {}
    for schema in schemas:
        for f in schema:
            seen = fields.get(f.name)
            if seen is None:
                fields[f.name] = f.with_metadata(None)
            elif seen.type != f.type:
                try:
                    both = [pa.schema([seen]), pa.schema([f.with_nullable(True)])]
                    fields[f.name] = pa.unify_schemas(both, promote_options="permissive").field(0)
                except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
                    fields[f.name] = pa.field(f.name, pa.string())
    return pa.schema([f.with_nullable(True) for f in fields.values()])


def conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """``table`` with exactly ``schema``'s columns, order and types (missing columns as nulls)."""
    arrays = []
    for f in schema:
        if f.name not in table.column_names:
            arrays.append(pa.nulls(table.num_rows, f.type))
            continue
        column = table.column(f.name)
        if column.type == f.type:
            arrays.append(column)
            continue
        try:
            arrays.append(column.cast(f.type))
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            # a string column holding values of another type: JSON text, per value (rare by construction)
            values = column.to_pylist()
            arrays.append(pa.array([v if v is None or isinstance(v, str) else json.dumps(v, ensure_ascii=False) for v in values], f.type))
    return pa.Table.from_arrays(arrays, schema=schema)


def run_schemas(data: list[Path], rejected: list[Path]) -> tuple[pa.Schema, pa.Schema]:
    """The data and rejected schemas of a run (see the module docstring), from the shards' footers."""
    data_schema = unify([pq.read_schema(p) for p in data])
    every = unify([data_schema] + [pq.read_schema(p) for p in rejected])
    drop = [every.field(n) for n in (DROP_STAGE, DROP_REASON) if n in every.names]
    rest = [f for f in every if f.name not in (DROP_STAGE, DROP_REASON)]
    return data_schema, pa.schema(rest + drop)


def unify_run(out: Path, compression: str = "zstd", level: int | None = 3) -> int:
    """Give every shard of ``out/data`` and ``out/rejected`` the run's schema; returns how many were rewritten."""
    data = sorted((out / "data").glob("part-*.parquet"))
    rejected = sorted((out / "rejected").glob("part-*.parquet"))
    data_schema, rejected_schema = run_schemas(data, rejected)
    rewritten = 0
    for paths, schema in ((data, data_schema), (rejected, rejected_schema)):
        for path in paths:
            if pq.read_schema(path).remove_metadata().equals(schema):
                continue
            write_parquet(conform(pq.read_table(path), schema), path, compression, level)
            rewritten += 1
    return rewritten
