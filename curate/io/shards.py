"""Atomic Parquet shards: write to a temporary name in the same folder, then rename.

A reader (or a resumed run) therefore sees a whole shard or none. Leftover temporaries of a killed run
end in ``.tmp`` and are removed by :func:`remove_temporaries` before a run resumes.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

TMP_SUFFIX = ".tmp"


def write_parquet(table: pa.Table, path: Path, compression: str = "zstd", level: int | None = 3) -> None:
    """Write ``table`` to ``path`` atomically; the same table always gives the same bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}{TMP_SUFFIX}")
    codec = None if compression == "none" else compression
    pq.write_table(
        table.replace_schema_metadata(None),
        tmp,
        compression=codec,
        compression_level=level if codec in ("zstd", "gzip") else None,
        row_group_size=64 * 1024,
    )
    os.replace(tmp, path)


def write_json(data: object, path: Path) -> None:
    """Write JSON atomically (commit markers, stats, manifests)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}{TMP_SUFFIX}")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def write_jsonl(rows: list[dict], path: Path) -> None:
    """Write one JSON object per line, atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}{TMP_SUFFIX}")
    with tmp.open("w", encoding="utf-8") as f:
        f.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    os.replace(tmp, path)


def remove_temporaries(root: Path) -> int:
    """Delete half-written files a killed run left under ``root``; returns how many."""
    count = 0
    if root.exists():
        for p in root.rglob(f"*{TMP_SUFFIX}"):
            p.unlink(missing_ok=True)
            count += 1
    return count
