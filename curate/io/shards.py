"""Atomic Parquet shards: write to a temporary name in the same folder, then rename.

A reader (or a resumed run) therefore sees a whole shard or none. Leftover temporaries of a killed run
end in ``.tmp`` and are removed by :func:`remove_temporaries` before a run resumes. A write that fails
because the disk is full or a file-size limit was hit (ENOSPC, EDQUOT, EFBIG) removes its temporary and
raises an :class:`~curate.core.errors.OutputError` naming the path: nothing partial is left, and the same
command resumes once there is room.
"""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import pyarrow as pa
import pyarrow.parquet as pq

from curate.core.errors import OutputError
from curate.core.schema import ID, TEXT

TMP_SUFFIX = ".tmp"
_NO_ROOM = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT}


def _atomic(path: Path, write: Callable[[Path], None]) -> None:
    """Write through a temporary next to ``path``, then rename; on any failure leave no temporary."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}{TMP_SUFFIX}")
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError) and exc.errno in _NO_ROOM:
            what = "the file-size limit was reached" if exc.errno == errno.EFBIG else "the disk is full"
            raise OutputError(
                f"{path}: cannot write, {what} ({os.strerror(exc.errno)}); nothing partial was kept. "
                "Free space (or raise the limit) and run the same command again to resume"
            ) from exc
        raise


def write_parquet(table: pa.Table, path: Path, compression: str = "zstd", level: int | None = 3) -> None:
    """Write ``table`` to ``path`` atomically; the same table always gives the same bytes.

    Only string columns other than the text and the id are dictionary-encoded: those are the ones with
    repeats (languages, drop reasons, sources); a dictionary over unique texts, ids, hashes or signatures
    costs a hash of every value and is then dropped by the writer.
    """
    codec = None if compression == "none" else compression
    repeating = [f.name for f in table.schema if _is_text(f.type) and f.name not in (TEXT, ID)]
    _atomic(path, lambda tmp: pq.write_table(
        table.replace_schema_metadata(None),
        tmp,
        compression=codec,
        compression_level=level if codec in ("zstd", "gzip") else None,
        row_group_size=64 * 1024,
        use_dictionary=repeating,
    ))


def _is_text(kind: pa.DataType) -> bool:
    return pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_dictionary(kind)


def write_atomic(path: Path, write: Callable[[BinaryIO], None]) -> None:
    """Write any bytes atomically: ``write`` gets the open temporary file."""

    def through(tmp: Path) -> None:
        with tmp.open("wb") as f:
            write(f)

    _atomic(path, through)


def write_json(data: object, path: Path) -> None:
    """Write JSON atomically (commit markers, stats, manifests)."""
    text = json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False) + "\n"
    _atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def read_record(path: Path) -> dict:
    """A JSON record written by :func:`write_json`, or ``{}`` when it is missing or unreadable (torn)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


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
