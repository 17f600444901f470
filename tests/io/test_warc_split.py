"""A WARC file cut into several units reads exactly the records, ids and reasons of the file read whole."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from fastwarc.warc import ArchiveIterator

from curate.cli import main
from curate.io.readers import ColumnMap, WorkUnit, plan_units, read_unit

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "warc" / "sample.warc.gz"
COLS = ColumnMap()


def sample_records() -> list[bytes]:
    """The shipped crawl's records, each as its uncompressed bytes (header, block, closing CRLF CRLF)."""
    plain = gzip.decompress(SAMPLE.read_bytes())
    starts = [r.stream_pos for r in ArchiveIterator(io.BytesIO(plain), parse_http=False)]
    return [plain[a:b] for a, b in zip(starts, [*starts[1:], len(plain)])]


def raw_record(rid: str, block: bytes) -> bytes:
    head = f"WARC/1.0\r\nWARC-Type: resource\r\nWARC-Record-ID: <urn:uuid:{rid}>\r\nContent-Type: text/plain\r\n"
    return f"{head}Content-Length: {len(block)}\r\n\r\n".encode() + block + b"\r\n\r\n"


def big_crawl(copies: int) -> list[bytes]:
    """``copies`` of the shipped records with ids made unique; every 7th without a WARC-Record-ID, and a record
    whose block holds what looks like a WARC header after a CRLF CRLF (a cut must not start there)."""
    records = []
    for k in range(copies):
        for i, rec in enumerate(sample_records()):
            rec = rec.replace(b"<urn:uuid:", f"<urn:uuid:{k:03d}-".encode(), 1)
            if (k * 12 + i) % 7 == 3:
                head, _, rest = rec.partition(b"WARC-Record-ID: ")
                rec = head + rest.split(b"\r\n", 1)[1]
            records.append(rec)
        fake = b"x\r\n\r\nWARC/1.0\r\nWARC-Type: resource\r\nContent-Length: 5\r\n\r\nhello" + b"y" * 300
        records.append(raw_record(f"fake-{k}", fake))
    return records


def write(path: Path, records: list[bytes], layout: str) -> list[int]:
    """Write ``records`` as a plain WARC, gzip members or one gzip stream; returns where each record starts."""
    starts, data = [], b""
    for rec in records:
        starts.append(len(data))
        data += gzip.compress(rec, mtime=0) if layout == "members" else rec
    path.write_bytes(gzip.compress(data, mtime=0) if layout == "stream" else data)
    return starts


def read_all(units: list[WorkUnit]) -> tuple[list[dict], list[dict]]:
    docs, bad = zip(*(read_unit(u, COLS) for u in units))
    return pa.concat_tables(docs).to_pylist(), pa.concat_tables(bad).to_pylist()


@pytest.mark.parametrize("layout", ["members", "plain"])
def test_a_warc_cut_into_units_reads_the_same_documents_as_one_unit(tmp_path: Path, layout: str) -> None:
    path = tmp_path / ("crawl.warc.gz" if layout == "members" else "crawl.warc")
    starts = write(path, big_crawl(6), layout)
    [whole] = plan_units([str(path)], COLS)
    docs, bad = read_all([whole])
    assert len(docs) + len(bad) == len(starts) == 6 * 13 and len(docs) == 36
    assert (len(docs), len(bad)) == (36, 42)  # per copy: the shipped crawl's 6 and 6, and the fake-header record
    assert {int(r["drop_reason"].rsplit(" ", 1)[1]) for r in bad} <= set(starts)  # reasons name record starts
    ids = [r["id"] for r in docs + bad]
    made = [i for i in ids if not i.startswith("urn:uuid:")]  # records without a WARC-Record-ID
    assert len(set(ids)) == len(ids) and len(made) == 10  # 3, 10, …, 66 of the 72 shipped records
    size = path.stat().st_size
    for per_unit in (1000, size // 5, starts[5] + 10):  # many cuts inside records; a few; the first inside record 5
        units = plan_units([str(path)], COLS, bytes_per_unit=per_unit)
        assert len(units) > 1 and [u.index for u in units] == list(range(len(units)))
        assert all(u.byte_start in starts for u in units)  # every unit starts at a record
        assert [u.byte_end for u in units[:-1]] == [u.byte_start for u in units[1:]] and units[-1].byte_end is None
        assert read_all(units) == (docs, bad)  # ids, text, reasons and order
    cut_inside = plan_units([str(path)], COLS, bytes_per_unit=starts[5] + 10)
    assert cut_inside[1].byte_start == starts[6]  # the record the cut fell in stays with the unit it starts in
    before_fake = plan_units([str(path)], COLS, bytes_per_unit=starts[12] + 2)  # record 12 holds a fake header
    assert before_fake[1].byte_start == starts[13]


def test_one_gzip_stream_stays_one_unit_and_says_why(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "stream.warc.gz"
    write(path, big_crawl(2), "stream")
    units = plan_units([str(path)], COLS, bytes_per_unit=1000)
    assert len(units) == 1 and (units[0].byte_start, units[0].byte_end) == (0, None)
    assert f"{path}: one work unit, the file cannot be cut: one gzip stream holds several records" in capsys.readouterr().err
    docs, bad = read_all(units)
    assert (len(docs), len(bad)) == (12, 14)
    assert bad[0]["drop_reason"] == f"read:warcinfo record at {path}:record 1"  # not cut: records by number


def rejected(out: Path) -> list[dict]:
    """Rejected rows sorted by id: a part lists its rows by stage, so more parts interleave the stages."""
    return sorted(pq.read_table(out / "rejected").to_pylist(), key=lambda r: r["id"])


def test_recipe_output_is_the_same_with_small_units(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # the recipe names its block list relative to the repository
    crawl = tmp_path / "crawl.warc.gz"
    write(crawl, big_crawl(3), "members")
    recipe = yaml.safe_load((ROOT / "recipes" / "warc.yaml").read_text())
    outputs = []
    for per_unit in (None, 4000):
        if per_unit:
            recipe["input"]["bytes_per_unit"] = per_unit
        path = tmp_path / f"warc-{per_unit}.yaml"
        path.write_text(yaml.safe_dump(recipe))
        out = tmp_path / f"out-{per_unit}"
        assert main(["run", str(path), "--input", str(crawl), "-o", str(out), "--quiet"]) == 0
        manifest = json.loads((out / "manifest.json").read_text())
        units = (out / "units.jsonl").read_text().splitlines()
        stages = [(s["name"], s["docs_in"], s["kept"], s["dropped"], s["reasons"]) for s in manifest["stages"]]
        outputs.append((len(units), stages, pq.read_table(out / "data").to_pylist(), rejected(out)))
    (one, *same), (many, *split) = outputs  # kept rows in the same order; rejected rows the same
    assert one == 1 and many > 3
    assert split == same
