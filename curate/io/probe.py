"""Input schemas without reading whole inputs: what ``curate validate`` checks and what a run's shards share.

A Parquet file's schema is its footer. A JSONL file has none, so its schema is inferred from its first
:data:`SAMPLE_LINES` records (streamed: memory is bounded by the sample, not the file). A WARC file always
gives the same columns. Column names are as a run sees them: the id and text columns renamed to ``id`` and
``text``.
"""

from __future__ import annotations

import io
import json

import fsspec
import pyarrow as pa
import pyarrow.parquet as pq

from curate.core.errors import InputError
from curate.core.schema import ID, TEXT

SAMPLE_LINES = 1000


def input_schema(path: str, fmt: str, id_column: str = ID, text_column: str = TEXT, sample: int = SAMPLE_LINES) -> pa.Schema:
    """The schema of one input file as read (``id``, ``text`` first, as strings; other columns after)."""
    if fmt == "parquet":
        try:
            raw = pq.read_schema(fsspec.open(path, "rb").open())
        except Exception as exc:  # any unreadable footer: name the file
            raise InputError(f"{path}: cannot read the Parquet footer ({exc})") from exc
    elif fmt == "warc":
        from curate.io.warc import WARC_COLUMNS

        raw = pa.schema([(text_column, pa.string()), *WARC_COLUMNS.items()])
    else:
        raw = _jsonl_schema(path, sample)
    rest = [f for f in raw if f.name not in (id_column, text_column, ID, TEXT)]
    return pa.schema([pa.field(ID, pa.string()), pa.field(TEXT, pa.string()), *rest]).with_metadata(
        {b"has_text": b"1" if text_column in raw.names else b"0", b"file_columns": json.dumps(raw.names).encode()}
    )


def _jsonl_schema(path: str, sample: int) -> pa.Schema:
    """Infer from the first ``sample`` JSON objects; a column whose values disagree in type is a string."""
    from curate.io.jsonl import records_to_table

    records = []
    try:
        with fsspec.open(path, "rb", compression="infer") as raw:
            for line in io.BufferedReader(raw):  # streamed: only the sample is held
                if len(records) >= sample:
                    break
                try:
                    obj = json.loads(line)
                except ValueError:
                    continue  # a bad line is the reader's business (dropped with a reason)
                if isinstance(obj, dict):
                    records.append(obj)
    except Exception as exc:  # a truncated or corrupt compressed file: name the file
        raise InputError(f"{path}: cannot read ({exc})") from exc
    return records_to_table(records).schema


def file_columns(schema: pa.Schema) -> list[str]:
    """The file's own column names, before renaming (see :func:`input_schema`)."""
    return json.loads((schema.metadata or {}).get(b"file_columns", b"[]"))


def has_text_column(schema: pa.Schema) -> bool:
    """Whether the file held the recipe's text column (see :func:`input_schema`)."""
    return (schema.metadata or {}).get(b"has_text") == b"1"
