"""WARC input (``.warc``, ``.warc.gz``; also ``.warc.zst``/``.warc.lz4``): one document per HTML response.

Records are streamed with FastWARC (resiliparse's WARC parser; compression is detected from the stream),
so a file is never decompressed whole: memory is bounded by the HTML of one work unit (a WARC file, or a
byte range of a big one: :mod:`curate.io.warc_split`), held as Arrow arrays built every :data:`CHUNK` records.

Every record becomes one row, so documents in = kept + dropped holds at read:

* an HTML response (``text/html``, ``application/xhtml+xml``) is a document. ``text`` and ``html`` both
  hold the decoded HTML (one Arrow array under two names, not two copies); ``html_extract`` then replaces
  ``text`` with the main text and drops ``html``. Every other stage sees ``text`` as it would for any input.
  Columns: ``url`` (WARC-Target-URI), ``crawl_date`` (WARC-Date, UTC), ``content_type``,
  ``warc_record_id``; the id is the WARC-Record-ID (without one, a stable hash of where the record starts).
* every other record is dropped at read with a reason naming the file and where the record starts:
  ``read:request record at FILE:byte 267``, ``read:non-HTML response (image/png) at FILE:byte 9515``,
  ``read:truncated record (read 100 of 185 bytes) at …``, ``read:broken WARC stream (Invalid WARC header)
  at …`` (nothing after that point can be parsed). Textual payloads are kept in the rejected row's text.

Charset: the HTTP ``Content-Type`` charset when it decodes cleanly, else the page's meta charset or
uchardet's guess (resiliparse), decoded without loss of the rest of the page.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterator

import fsspec
import pyarrow as pa
import pyarrow.compute as pc
import xxhash

from curate.core.errors import InputError
from curate.core.schema import stable_ids
from curate.io.warc_split import Layout, Window, layout_of

HTML_TYPES = ("text/html", "application/xhtml+xml")
#: Records turned into Arrow arrays at a time: bounds the Python objects alive while a file streams.
CHUNK = 2048
#: Columns a WARC file gives its documents (besides id and text), with their types.
WARC_COLUMNS: dict[str, pa.DataType] = {
    "html": pa.string(),
    "url": pa.string(),
    "crawl_date": pa.timestamp("us", tz="UTC"),
    "content_type": pa.string(),
    "warc_record_id": pa.string(),
}
_TEXTUAL = ("text/", "application/json", "application/xml", "application/javascript", "application/warc-fields")


def _open(path: str):
    try:
        fs, p = fsspec.core.url_to_fs(path)
        return fs.open(p, "rb")
    except Exception as exc:
        raise InputError(f"{path}: cannot read ({exc}); fix or remove the file") from exc


def _records(path: str, start: int = 0, end: int | None = None) -> Iterator[tuple[object | None, str | None]]:
    """(record, None) for each record starting in bytes ``[start, end)``, then (None, error) if the stream breaks.

    Parse errors end the range. ``start`` must be a record start (see :mod:`curate.io.warc_split`).
    """
    from fastwarc.warc import ArchiveIterator

    with _open(path) as f:
        source = Window(f, start, end) if start or end is not None else f
        it = iter(ArchiveIterator(source, parse_http=False))
        while True:
            try:
                record = next(it)
            except StopIteration:
                return
            except OSError as exc:
                yield None, str(exc)
                return
            yield record, None


def _layout(path: str) -> Layout:
    with _open(path) as f:
        return layout_of(f)[0]


def check_warc(path: str) -> None:
    """Refuse, before any work, a file that does not start with a WARC record."""
    for record, error in _records(path):
        if error is not None:
            raise InputError(f"{path}: not a WARC file ({error}); fix or remove the file")
        return


def count_records(path: str) -> int:
    """Records in a WARC file (one pass over its headers; used only to cap a ``--limit`` run)."""
    return sum(1 for _ in _records(path))


def _decode(body: bytes, charset: str | None) -> str:
    from resiliparse.parse.encoding import bytes_to_str, detect_encoding

    if charset:
        try:
            return body.decode(charset)
        except (LookupError, UnicodeDecodeError):
            pass
    return bytes_to_str(body, detect_encoding(body, from_html_meta=True), errors="replace")


def _undo_content_encoding(body: bytes, encoding: str | None) -> bytes:
    encoding = (encoding or "").strip().lower()
    if encoding in ("gzip", "x-gzip"):
        return gzip.decompress(body)
    if encoding == "deflate":
        try:
            return zlib.decompress(body)
        except zlib.error:
            return zlib.decompress(body, -zlib.MAX_WBITS)
    if encoding == "br":
        import brotli

        try:
            return brotli.decompress(body)
        except brotli.error as exc:
            raise ValueError(f"bad brotli data ({exc})") from exc
    return body


def _judge(record) -> tuple[dict, str | None, str | None]:
    """One record: (columns, read error or None, raw text for a rejected row). Per-record by nature."""
    from fastwarc.warc import WarcRecordType

    try:
        date = record.record_date
    except ValueError:
        date = None
    row = {
        "warc_record_id": record.record_id or None,
        "url": record.headers.get("WARC-Target-URI") or None,
        "crawl_date": date,
        "content_type": None,
    }
    kind = str(record.record_type).split(".")[-1]
    if record.record_type != WarcRecordType.response:
        block = record.reader.read()
        row["content_type"] = record.headers.get("Content-Type")
        if len(block) < record.content_length:
            reason = f"truncated record (read {len(block)} of {record.content_length} bytes)"
            return row, reason, block.decode("utf-8", errors="replace")
        return row, f"{kind} record", block.decode("utf-8", errors="replace")
    record.parse_http(auto_decode="none")
    if record.http_headers is None:
        return row, "broken record (no HTTP response headers)", None
    body = record.reader.read()
    if len(body) < record.content_length:
        shown = body.decode("utf-8", errors="replace")
        return row, f"truncated record (read {len(body)} of {record.content_length} bytes)", shown
    mime = (record.http_content_type or "").lower() or None
    row["content_type"] = mime
    status = record.http_headers.status_code
    if mime not in HTML_TYPES:
        shown = body.decode("utf-8", errors="replace") if mime and mime.startswith(_TEXTUAL) else ""
        return row, f"non-HTML response ({mime or 'no content type'})", shown
    try:
        body = _undo_content_encoding(body, record.http_headers.get("Content-Encoding"))
    except (OSError, EOFError, zlib.error, ValueError) as exc:  # bad gzip/deflate/brotli payload
        return row, f"broken record (Content-Encoding: {exc})", None
    html = _decode(body, record.http_charset)
    if status and not 200 <= status < 300:
        return row, f"HTTP {status} response", html
    row["html"] = html
    return row, None, None


class _Columns:
    """Rows gathered per column and turned into Arrow arrays every CHUNK records."""

    def __init__(self, names: list[str]) -> None:
        self.names = names
        self.rows: dict[str, list] = {n: [] for n in names}
        self.chunks: dict[str, list[pa.Array]] = {n: [] for n in names}

    def add(self, values: dict) -> None:
        for name in self.names:
            self.rows[name].append(values.get(name))
        if len(self.rows[self.names[0]]) >= CHUNK:
            self.flush()

    def flush(self) -> None:
        for name in self.names:
            dtype = WARC_COLUMNS.get(name, pa.string())
            self.chunks[name].append(pa.array(self.rows[name], dtype))
            self.rows[name] = []

    def table(self) -> pa.Table:
        self.flush()
        return pa.table({n: pa.chunked_array(self.chunks[n], WARC_COLUMNS.get(n, pa.string())) for n in self.names})


def read_warc(path: str, id_column: str, text_column: str, max_rows: int | None = None, start: int = 0, end: int | None = None):
    """Stream the records of a WARC file that start in ``[start, end)`` into (table, where per row, raw text).

    The table has ``id_column`` (the record id), ``text_column`` (the HTML), the :data:`WARC_COLUMNS` and
    ``__read_error`` (None for a document, else the reason). Records are named ``FILE:byte N`` in a file
    that can be cut, ``FILE:record N`` in one that cannot (:mod:`curate.io.warc_split`); a record without a
    ``WARC-Record-ID`` gets a stable hash of that name as its id, so ids do not depend on the unit size.
    """
    cols = _Columns(["html", "url", "crawl_date", "content_type", "warc_record_id", "__read_error"])
    where: list[str] = []
    raw_text: list[str | None] = []
    by_offset = _layout(path) != "stream"
    last = start
    for number, (record, error) in enumerate(_records(path, start, end), start=1):
        if max_rows is not None and number > max_rows:
            break
        if error is not None:
            where.append(f"{path}:after byte {last}" if by_offset else f"{path}:record {number}")
            rest = "nothing after it can be read" if end is None else f"nothing after it before byte {end} can be read"
            cols.add({"__read_error": f"broken WARC stream ({error}); {rest}"})
            raw_text.append(None)
            break
        last = start + record.stream_pos
        where.append(f"{path}:byte {last}" if by_offset else f"{path}:record {number}")
        row, reason, shown = _judge(record)
        cols.add({**row, "__read_error": reason})
        raw_text.append(shown if reason is not None else None)
    table = cols.table()
    ids = pc.utf8_trim(table.column("warc_record_id"), "<>")
    if by_offset and ids.null_count:  # per-row: only records without a WARC-Record-ID
        made = [xxhash.xxh64_hexdigest(w.encode()) for w in where]
        ids = pc.coalesce(ids, pa.array(made, pa.string()))
    elif ids.null_count:
        ids = pc.coalesce(ids, stable_ids(path, 0, len(where)))  # by record number, as for rows of other formats
    rest = [c for c in table.column_names if c not in ("html", "__read_error")]
    out = pa.table(
        [ids, table.column("html"), table.column("html")] + [table.column(c) for c in rest] + [table.column("__read_error")],
        names=[id_column, text_column, "html", *rest, "__read_error"],
    )
    return out, where, raw_text
