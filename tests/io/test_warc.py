"""WARC input: records written with FastWARC here, read back through curate's reader."""

from __future__ import annotations

import gzip
from datetime import datetime, timezone
from pathlib import Path

import pyarrow as pa
import pytest
from fastwarc.stream_io import GzipWriter
from fastwarc.warc import WarcRecord, WarcRecordType

from curate.core.errors import InputError
from curate.io.readers import ColumnMap, find_inputs, format_of, plan_units, read_unit

ROOT = Path(__file__).resolve().parents[2]
HTML = "<html><head><title>t</title></head><body><p>{}</p></body></html>"


def http(body: bytes, ctype: str, status: str = "200 OK", extra: str = "") -> bytes:
    return f"HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\n{extra}\r\n".encode() + body


def write_warc(path: Path, records: list[tuple], gzipped: bool = True, offsets: list[int] | None = None) -> Path:
    """records: (type name, uuid, url, block, Content-Type); ``offsets`` gets where each record starts."""
    with open(path, "wb") as f:
        for kind, urn, url, block, ctype in records:
            if offsets is not None:
                offsets.append(f.tell())
            r = WarcRecord()
            r.init_headers(getattr(WarcRecordType, kind), f"uuid:{urn}".encode())
            r.headers["WARC-Date"] = "2024-01-15T10:00:00Z"
            if url:
                r.headers["WARC-Target-URI"] = url
            r.headers["Content-Type"] = ctype
            r.set_bytes_content(block)
            if gzipped:
                member = GzipWriter(f)
                r.write(member)
                member.close()
            else:
                r.write(f)
    return path


RESP = "application/http; msgtype=response"
CRAWL = [
    ("warcinfo", "0", "", b"software: test\r\n", "application/warc-fields"),
    ("request", "1", "https://a.org/", b"GET / HTTP/1.1\r\nHost: a.org\r\n\r\n", "application/http; msgtype=request"),
    ("response", "2", "https://a.org/", http(HTML.format("hello world").encode(), "text/html; charset=utf-8"), RESP),
    ("metadata", "3", "https://a.org/", b"fetchTimeMs: 5\r\n", "application/warc-fields"),
    ("response", "4", "https://b.cn/", http(HTML.format("你好，世界").encode("gbk"), "text/html; charset=gbk"), RESP),
    ("response", "5", "https://c.jp/", http(f'<meta charset="shift_jis">{HTML.format("日本語のページ")}'.encode("shift_jis"), "text/html"), RESP),
    ("response", "6", "https://a.org/x.png", http(b"\x89PNG\r\n", "image/png"), RESP),
    ("response", "7", "https://a.org/gone", http(HTML.format("not here").encode(), "text/html", "404 Not Found"), RESP),
    ("response", "8", "https://a.org/z", http(gzip.compress(HTML.format("zipped").encode()), "text/html", extra="Content-Encoding: gzip\r\n"), RESP),
    ("response", "9", "https://a.org/empty", http(b"", "text/html"), RESP),
]


def read(path: Path, limit: int | None = None) -> tuple[pa.Table, pa.Table]:
    units = plan_units(find_inputs([str(path)]), ColumnMap(), limit=limit)
    assert len(units) == 1 and units[0].format == "warc"
    return read_unit(units[0], ColumnMap())


@pytest.mark.parametrize("name", ["crawl.warc.gz", "crawl.warc"])
def test_html_responses_are_documents_and_every_other_record_is_rejected_with_its_place(tmp_path: Path, name: str) -> None:
    at: list[int] = []
    path = write_warc(tmp_path / name, CRAWL, gzipped=name.endswith(".gz"), offsets=at)
    docs, bad = read(path)
    assert docs.num_rows + bad.num_rows == len(CRAWL)
    assert docs.column_names == ["id", "text", "html", "url", "crawl_date", "content_type", "warc_record_id"]
    assert docs.column("id").to_pylist() == ["urn:uuid:2", "urn:uuid:4", "urn:uuid:5", "urn:uuid:8"]
    assert docs.column("warc_record_id").to_pylist() == ["<urn:uuid:2>", "<urn:uuid:4>", "<urn:uuid:5>", "<urn:uuid:8>"]
    assert docs.column("url").to_pylist() == ["https://a.org/", "https://b.cn/", "https://c.jp/", "https://a.org/z"]
    assert docs.column("content_type").to_pylist() == ["text/html"] * 4
    assert docs.column("crawl_date").to_pylist()[0] == datetime(2024, 1, 15, 10, 0, tzinfo=timezone.utc)
    assert docs.column("text").to_pylist() == docs.column("html").to_pylist()
    texts = docs.column("text").to_pylist()
    assert "hello world" in texts[0] and "你好，世界" in texts[1] and "日本語のページ" in texts[2] and "zipped" in texts[3]
    here = f"at {path}:byte"  # records are named by where they start: the same however the file is cut
    assert bad.column("drop_reason").to_pylist() == [
        f"read:warcinfo record {here} {at[0]}",
        f"read:request record {here} {at[1]}",
        f"read:metadata record {here} {at[3]}",
        f"read:non-HTML response (image/png) {here} {at[6]}",
        f"read:HTTP 404 response {here} {at[7]}",
        f"read:empty text {here} {at[9]}",
    ]
    assert bad.column("id").to_pylist() == ["urn:uuid:0", "urn:uuid:1", "urn:uuid:3", "urn:uuid:6", "urn:uuid:7", "urn:uuid:9"]
    assert bad.column("text").to_pylist()[1] == "GET / HTTP/1.1\r\nHost: a.org\r\n\r\n"  # nothing lost


def test_a_truncated_file_keeps_what_came_before_and_rejects_the_cut_record(tmp_path: Path) -> None:
    at: list[int] = []
    whole = write_warc(tmp_path / "whole.warc", CRAWL[:3], gzipped=False, offsets=at).read_bytes()
    cut = tmp_path / "cut.warc"
    cut.write_bytes(whole[:-40])  # the record's closing CRLF CRLF and the last 36 bytes of the page
    docs, bad = read(cut)
    page = HTML.format("hello world").encode()
    assert docs.num_rows == 0 and bad.num_rows == 3
    assert bad.column("drop_reason").to_pylist()[2] == f"read:truncated record (read {len(page) - 36} of {len(page)} bytes) at {cut}:byte {at[2]}"
    assert bad.column("text").to_pylist()[2] == page[:-36].decode()  # what there was is kept


def test_garbage_in_the_middle_ends_the_file_with_one_reason(tmp_path: Path) -> None:
    at: list[int] = []
    good = write_warc(tmp_path / "a.warc", CRAWL[:3], gzipped=False, offsets=at).read_bytes()
    path = tmp_path / "b.warc"
    path.write_bytes(good + b"NOT A WARC RECORD\r\n\r\n" + good)
    docs, bad = read(path)
    assert docs.column("id").to_pylist() == ["urn:uuid:2"]
    assert bad.column("drop_reason").to_pylist()[-1].startswith("read:broken WARC stream (")
    assert bad.column("drop_reason").to_pylist()[-1].endswith(f"at {path}:after byte {at[2]}")  # the last record read


def test_a_file_that_is_not_warc_is_refused_before_any_work(tmp_path: Path) -> None:
    path = tmp_path / "notes.warc"
    path.write_text("just some notes\n" * 5)
    with pytest.raises(InputError, match="notes.warc: not a WARC file"):
        plan_units([str(path)], ColumnMap())


def test_limit_stops_reading_after_that_many_records(tmp_path: Path) -> None:
    path = write_warc(tmp_path / "crawl.warc.gz", CRAWL)
    docs, bad = read(path, limit=5)
    assert docs.num_rows + bad.num_rows == 5
    assert docs.column("id").to_pylist() == ["urn:uuid:2", "urn:uuid:4"]


def test_extensions_and_directories() -> None:
    assert format_of("s3://bucket/CC-MAIN-1.warc.gz") == "warc"
    assert format_of("x.warc") == "warc"
    assert find_inputs([str(ROOT / "data" / "warc")]) == [str(ROOT / "data" / "warc" / "sample.warc.gz")]


def test_the_shipped_crawl_reads_as_documented() -> None:
    docs, bad = read(ROOT / "data" / "warc" / "sample.warc.gz")
    assert (docs.num_rows, bad.num_rows) == (6, 6)
    kinds = [r.split(" at ")[0] for r in bad.column("drop_reason").to_pylist()]
    assert kinds == [
        "read:warcinfo record", "read:request record", "read:metadata record",
        "read:non-HTML response (text/plain)", "read:non-HTML response (image/png)", "read:HTTP 301 response",
    ]  # fmt: skip
    zh = [t for t, u in zip(docs.column("text").to_pylist(), docs.column("url").to_pylist()) if "zh-CN" in u]
    assert len(zh) == 1 and "分区" in zh[0]  # the gb18030 page decoded from its HTTP charset
