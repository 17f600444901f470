"""Checksums of committed files and records, so a resume never trusts corrupt state.

A long run keeps its intermediate state under ``_work/`` for days, on disks and network file systems that
can truncate or flip bits. Each commit marker (a unit's stats file, a reduce's ``reduce.json``) names the
xxh3-64 digest of every file it commits and carries a digest of its own content; a resume checks both and
redoes a unit or reduce whose files do not match, instead of building on them. Digests stream the file in
4 MiB blocks: memory is bounded by the block, not the file.
"""

from __future__ import annotations

import json
from pathlib import Path

import xxhash

_BLOCK = 4 << 20
SEAL = "check"  # the key of a record's own digest


def file_digest(path: Path) -> str:
    """xxh3-64 of a file's bytes, as 16 hex digits."""
    h = xxhash.xxh3_64()
    with open(path, "rb") as f:
        while block := f.read(_BLOCK):
            h.update(block)
    return h.hexdigest()


def digests(root: Path, files: list[Path]) -> dict[str, str]:
    """``{path relative to root: digest}`` for the files that exist."""
    return {str(p.relative_to(root)): file_digest(p) for p in files if p.exists()}


def mismatched(root: Path, recorded: dict[str, str]) -> list[str]:
    """Files (relative to ``root``) that are missing or whose bytes differ from the recorded digest."""
    bad = []
    for rel, digest in recorded.items():
        path = root / rel
        if not path.exists():
            bad.append(f"{rel}: missing")
        elif file_digest(path) != digest:
            bad.append(f"{rel}: checksum mismatch")
    return bad


def _record_digest(record: dict) -> str:
    body = {k: v for k, v in record.items() if k != SEAL}
    return xxhash.xxh3_64_hexdigest(json.dumps(body, sort_keys=True, ensure_ascii=False).encode("utf-8"))


def seal(record: dict) -> dict:
    """The record with a digest of its own content under ``check``."""
    return {**record, SEAL: _record_digest(record)}


def is_sealed(record: dict) -> bool:
    """True when the record carries a digest and its content matches it (a torn or flipped record does not)."""
    return record.get(SEAL) == _record_digest(record)
