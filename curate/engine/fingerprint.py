"""Input fingerprints: refuse to resume a run whose input files changed after it started.

A run that is killed and resumed days later must not mix old and new data (a crawl shard re-uploaded, a
file appended to) while calling itself byte-identical. So the run records, for every input file, what the
file system says about it without reading it: the size, and the object store's version or ETag where it
has one (S3, GCS, the Hub), else the modification time. One metadata call per file, no bytes read.

The record is written under ``_work/run.json`` when the run starts and kept in ``manifest.json`` when it
ends; a resume (or a re-run over a finished output) compares it with the files as they are now and names
every file that changed, appeared or disappeared. Files a stage's parameters name (fastText and LM models,
rule lists, eval sets) are recorded the same way (:func:`referenced_files`): a model rebuilt between two
runs of one recipe changes its scores, so it counts as a changed input.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import fsspec

from curate.core.errors import InputError

# What identifies a version of an object, most specific first: S3's VersionId and ETag, GCS's generation,
# the Hub's blob id (a git hash of the content), then modification times of local and other file systems.
_VERSION_KEYS = ("VersionId", "version_id", "generation", "ETag", "etag", "blob_id", "md5Hash")
_TIME_KEYS = ("mtime", "LastModified", "last_modified", "updated", "created")


def _identity(info: dict) -> dict:
    out: dict = {"size": info.get("size")}
    for key in _VERSION_KEYS:
        if info.get(key):
            out["version"] = str(info[key]).strip('"')
            return out
    for key in _TIME_KEYS:
        if info.get(key) is not None:
            value = info[key]
            out["mtime"] = value if isinstance(value, (int, float)) else str(value)
            return out
    return out


def input_fingerprints(files: Iterable[str]) -> dict[str, dict]:
    """``{file: {"size": bytes, "version" or "mtime": …}}`` for every input, from metadata alone."""
    found: dict[str, dict] = {}
    for path in files:
        try:
            fs, p = fsspec.core.url_to_fs(path)
            found[path] = _identity(fs.info(p))
        except Exception as exc:  # vanished between planning and here, or unreachable
            raise InputError(f"{path}: cannot read its size and version ({exc})") from exc
    return found


def changed_inputs(recorded: dict[str, dict], current: dict[str, dict]) -> list[str]:
    """Lines naming each file whose fingerprint differs, or that appeared or disappeared since the record."""
    lines = []
    for path in sorted(set(recorded) | set(current)):
        before, now = recorded.get(path), current.get(path)
        if before == now:
            continue
        if before is None:
            lines.append(f"{path}: new since the run started")
        elif now is None:
            lines.append(f"{path}: gone since the run started")
        else:
            keys = ["size"] + sorted((set(before) | set(now)) - {"size"})
            what = ", ".join(f"{k} {before.get(k)} -> {now.get(k)}" for k in keys if before.get(k) != now.get(k))
            lines.append(f"{path}: changed ({what})")
    return lines


def referenced_files(stage_params: Iterable[dict[str, Any]]) -> list[str]:
    """Local files named by stage parameters (a directory stands for the files in it), in a stable order.

    Any string value, also inside lists and mappings, that names an existing local file or directory counts;
    hidden files (``.cache``, ``.git``) inside a directory do not.
    """
    found: set[str] = set()

    def visit(value: Any) -> None:
        if isinstance(value, dict):
            for v in value.values():
                visit(v)
        elif isinstance(value, (list, tuple)):
            for v in value:
                visit(v)
        elif isinstance(value, str) and value and "://" not in value and "\n" not in value and len(value) < 4096:
            path = Path(value)
            if path.is_file():
                found.add(str(path))
            elif path.is_dir():
                found.update(str(f) for f in path.rglob("*") if f.is_file() and not any(
                    part.startswith(".") for part in f.relative_to(path).parts))

    for params in stage_params:
        visit(params)
    return sorted(found)
