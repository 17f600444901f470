"""Test corpora written as real Parquet / JSONL files, shared by test modules (import from `corpora`)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import zstandard


def make_docs(n: int, prefix: str = "d", dup_every: int = 0) -> list[dict]:
    """n documents with distinct text; every `dup_every`-th repeats an earlier text exactly."""
    docs = []
    for i in range(n):
        text = f"Document {prefix}{i} talks about topic {i % 17} in sentence form. " * (1 + i % 4)
        if dup_every and i and i % dup_every == 0:
            text = docs[i // 2]["text"]
        docs.append({"id": f"{prefix}{i}", "text": text, "url": f"https://example.org/{prefix}/{i}"})
    return docs


def write_jsonl(path: Path, records: list[dict], extra_lines: list[bytes] = ()) -> Path:
    data = b"".join(json.dumps(r, ensure_ascii=False).encode() + b"\n" for r in records) + b"".join(extra_lines)
    if path.name.endswith(".gz"):
        data = gzip.compress(data)
    elif path.name.endswith(".zst"):
        data = zstandard.ZstdCompressor().compress(data)
    path.write_bytes(data)
    return path


def write_parquet(path: Path, records: list[dict], row_group_size: int | None = None) -> Path:
    pq.write_table(pa.Table.from_pylist(records), path, row_group_size=row_group_size)
    return path


BASIC_RECIPE = """\
name: basic
input:
  paths: ["{input}"]
  rows_per_unit: 50
stages:
  - stage: text_length
    params: {{min_chars: 70}}
  - stage: exact_dedup
  - stage: text_length
    name: length_cap
    params: {{max_chars: 200}}
"""


SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"


def sample_copies(root: Path, copies: int, shards_per_copy: int = 3) -> int:
    """Write `copies` copies of the shipped sample as Parquet shards with unique ids; returns the doc count."""
    from curate.io.readers import ColumnMap, find_inputs, plan_units, read_unit

    units = plan_units(find_inputs([str(SAMPLE)]), ColumnMap())
    sample = pa.concat_tables([read_unit(u, ColumnMap())[0] for u in units], promote_options="permissive")
    step = -(-sample.num_rows // shards_per_copy)
    root.mkdir(parents=True, exist_ok=True)
    for c in range(copies):
        ids = pa.array([f"c{c}-{i}" for i in sample.column("id").to_pylist()])
        copy = sample.set_column(0, "id", ids)
        for s in range(shards_per_copy):
            pq.write_table(copy.slice(s * step, step), root / f"copy{c:03d}-{s}.parquet")
    return sample.num_rows * copies
