"""WARC work units: a big ``.warc`` or ``.warc.gz`` cut into byte ranges at record starts.

A crawl's WARC files are ~1 GB each; one unit per file leaves workers idle on a few files and holds a
file's HTML in one worker. Like plain JSONL (:mod:`curate.io.jsonl`), a WARC file bigger than
``bytes_per_unit`` is cut into ranges of about that size, and a unit owns the records that *start* inside
its range, so every record is read exactly once:

* ``.warc.gz`` written the usual way, one gzip member per record: a cut moves forward to the first gzip
  member at or after it. Candidates are the gzip magic ``1f 8b 08``; one is confirmed by decompressing the
  start of the member and finding ``WARC/`` (the bytes of a compressed stream may hold the magic by chance,
  never a member that decompresses to a WARC header);
* plain ``.warc``: a cut moves forward to the first ``WARC/1.`` that follows a record's closing
  ``CRLF CRLF`` and whose header, by its ``Content-Length``, ends where another record (or the file) starts;
* one gzip stream over all records, or another compression (``.zst``): cannot be cut; one unit, and
  planning says so on stderr.

Records are named by where they start: ``FILE:byte N``, the offset of the record (of its gzip member in a
``.warc.gz``), what a CDX index calls the offset. It is the same whatever the unit size, so reasons and the
ids made for records without a ``WARC-Record-ID`` do not depend on how the file was cut. A file that
cannot be cut names its records by number (``FILE:record N``), as it is always read whole.

Planning reads a few KiB around each cut (:data:`WINDOW` at a time), never the whole file; a unit reads its
range through :class:`Window`, a file object that stops at the range's end. Memory: a window while
planning; the records of one unit while reading (:mod:`curate.io.warc`).
"""

from __future__ import annotations

import io
import re
import sys
import zlib
from typing import Literal

import fsspec

from curate.core.errors import InputError

#: How a WARC file is laid out: gzip member per record, uncompressed, or something that cannot be cut.
Layout = Literal["members", "plain", "stream"]
GZIP_MAGIC = b"\x1f\x8b\x08"
#: Bytes read at a time while looking for a record start after a cut.
WINDOW = 1 << 20
#: Compressed bytes decompressed to learn the layout of a ``.warc.gz`` (its first record must end in them).
PROBE = 4 << 20
_HEADER = re.compile(rb"WARC/1\.[01]\r\n")
_LENGTH = re.compile(rb"\r\ncontent-length:[ \t]*(\d+)[ \t]*\r\n", re.IGNORECASE)


def _open(path: str):
    fs, p = fsspec.core.url_to_fs(path)
    return fs.open(p, "rb")


def _record_length(data: bytes) -> int | None:
    """Bytes of the WARC record at the start of ``data`` (header, block, closing CRLF CRLF); None if unknown."""
    if not _HEADER.match(data):
        return None
    end = data.find(b"\r\n\r\n")
    length = _LENGTH.search(data, 0, end + 2) if end >= 0 else None
    return None if length is None else end + 4 + int(length.group(1)) + 4


def layout_of(f) -> tuple[Layout, str | None]:
    """The layout of an open WARC file, and why it cannot be cut (None when it can).

    Reads the file's first gzip member (64 KiB at a time, at most :data:`PROBE`): a member that ends with
    the first record means a member per record; more than one record in it means one stream.
    """
    f.seek(0)
    block = f.read(64 << 10)
    if block.startswith(b"WARC/"):
        return "plain", None
    if not block.startswith(GZIP_MAGIC):
        return "stream", "not gzip with a member per record, nor uncompressed"
    d = zlib.decompressobj(zlib.MAX_WBITS | 16)
    out, read = b"", 0
    while block and read < PROBE:
        read += len(block)
        try:
            out += d.decompress(block)
        except zlib.error as exc:
            return "stream", f"its first gzip member is broken ({exc})"
        first = _record_length(out)
        if first is not None and len(out) > first:
            return "stream", "one gzip stream holds several records, not one member per record"
        if d.eof:
            return "members", None
        block = f.read(64 << 10)
    return "stream", f"its first gzip member does not end in its first {PROBE >> 20} MiB"


def _is_member(f, pos: int) -> bool:
    """True when a gzip member starts at ``pos`` and decompresses to a WARC header."""
    f.seek(pos)
    data = f.read(64 << 10)
    try:
        return zlib.decompressobj(zlib.MAX_WBITS | 16).decompress(data, 5) == b"WARC/"
    except zlib.error:
        return False


def _is_plain_record(f, pos: int, size: int) -> bool:
    """True when a WARC record header starts at ``pos`` and its Content-Length leads to the next record or the end."""
    f.seek(pos)
    length = _record_length(f.read(64 << 10))
    if length is None or pos + length > size:
        return False
    f.seek(pos + length - 4)
    after = f.read(11)
    return after[:4] == b"\r\n\r\n" and (len(after) == 4 or after[4:] == b"WARC/1.")


def _next_start(f, layout: Layout, pos: int, size: int) -> int:
    """The first record start at or after ``pos`` (``size`` when none): windows scanned for candidates."""
    magic = GZIP_MAGIC if layout == "members" else b"\r\n\r\nWARC/1."
    skip = 0 if layout == "members" else 4  # a plain record starts after the CRLF CRLF that ends the one before
    at = max(pos - skip, 0)
    while at < size:
        f.seek(at)
        window = f.read(WINDOW + len(magic))
        found = window.find(magic)
        while found >= 0:
            start = at + found + skip
            if start >= pos and (_is_member(f, start) if layout == "members" else _is_plain_record(f, start, size)):
                return start
            found = window.find(magic, found + 1)
        at += WINDOW
    return size


def plan_warc(path: str, bytes_per_unit: int) -> list[tuple[int, int | None]]:
    """Byte ranges ``[start, end)`` (``end`` None: to the end) of one WARC file's units; one for a small file."""
    try:
        fs, p = fsspec.core.url_to_fs(path)
        size = fs.size(p)
        if size <= bytes_per_unit:
            return [(0, None)]
        with _open(path) as f:
            layout, why = layout_of(f)
            if why is not None:
                print(f"curate: {path}: one work unit, the file cannot be cut: {why}", file=sys.stderr)
                return [(0, None)]
            starts = [0]
            target = bytes_per_unit
            while target < size:
                start = _next_start(f, layout, target, size)
                if start >= size:
                    break
                if start > starts[-1]:
                    starts.append(start)
                target = start + bytes_per_unit  # a record bigger than a unit makes the next cut later, as in JSONL
    except Exception as exc:
        raise InputError(f"{path}: cannot read ({exc}); fix or remove the file") from exc
    ends: list[int | None] = [*starts[1:], None]
    return list(zip(starts, ends))


class Window(io.RawIOBase):
    """Bytes ``[start, end)`` of an open file as a file of their own, positions from 0 (FastWARC reads units through it)."""

    def __init__(self, f, start: int, end: int | None) -> None:
        self.f = f
        self.start = start
        self.size = None if end is None else end - start
        self.pos = 0
        f.seek(start)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_CUR:
            offset += self.pos
        elif whence == io.SEEK_END:
            offset += self.size if self.size is not None else self.f.seek(0, io.SEEK_END) - self.start
        self.pos = max(offset, 0) if self.size is None else min(max(offset, 0), self.size)
        self.f.seek(self.start + self.pos)
        return self.pos

    def readinto(self, buffer) -> int:
        want = len(buffer) if self.size is None else min(len(buffer), self.size - self.pos)
        data = self.f.read(want) if want > 0 else b""
        buffer[: len(data)] = data
        self.pos += len(data)
        return len(data)
