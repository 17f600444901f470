"""Every reader over random, truncated and bit-flipped bytes: never a crash, and every record is either
kept or rejected with a reason that names the file and place; a file that cannot be read at all is an
InputError naming it."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import zstandard
from corpora import make_docs, write_jsonl, write_parquet
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from curate.core.errors import InputError
from curate.io import warc
from curate.io.readers import ColumnMap, find_inputs, plan_units, read_unit

ROOT = Path(__file__).resolve().parents[2]
NAMES = ["a.jsonl", "a.jsonl.gz", "a.jsonl.zst", "a.parquet", "a.warc", "a.warc.gz"]


class Seeds(dict):
    def __repr__(self) -> str:  # hypothesis prints arguments of a failing case: not the whole files
        return f"Seeds({', '.join(self)})"


@pytest.fixture(scope="module")
def seeds(tmp_path_factory) -> dict[str, bytes]:
    """One small valid file per format: the bytes the mutations start from."""
    root = tmp_path_factory.mktemp("seeds")
    docs = make_docs(30, dup_every=4) + [{"id": "n", "text": "Ünïcödé 数据 данные " * 5, "url": None}]
    for name in NAMES[:3]:
        write_jsonl(root / name, docs, [b'{"id": "x", "text": 7}\n'])
    write_parquet(root / "a.parquet", docs, row_group_size=8)
    packed = (ROOT / "data" / "warc" / "sample.warc.gz").read_bytes()
    (root / "a.warc.gz").write_bytes(packed)
    (root / "a.warc").write_bytes(gzip.decompress(packed))
    return Seeds({name: (root / name).read_bytes() for name in NAMES})


mutations = st.one_of(
    st.tuples(st.just("random"), st.binary(max_size=600), st.just(0)),
    st.tuples(st.just("truncate"), st.floats(0, 1), st.just(0)),
    st.tuples(st.just("flip"), st.floats(0, 1), st.integers(0, 7)),
    st.tuples(st.just("splice"), st.floats(0, 1), st.binary(min_size=1, max_size=40)),
)


def mutate(data: bytes, how: tuple) -> bytes:
    kind, a, b = how
    if kind == "random":
        return a
    at = int(a * len(data))
    if kind == "truncate":
        return data[:at]
    if kind == "flip":
        return data[:at] + bytes([data[at] ^ (1 << b)]) + data[at + 1:] if at < len(data) else data
    return data[:at] + b + data[at:]


def records_in(path: Path, data: bytes) -> int | None:
    """How many records the file holds, by a reader independent of curate's (None when unknown)."""
    if path.name.endswith(".jsonl.gz"):
        data = gzip.decompress(data)
    elif path.name.endswith(".jsonl.zst"):
        data = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data)).read()
    if ".jsonl" in path.name:
        lines = data.split(b"\n")
        return len(lines) - (lines[-1] == b"")
    if path.name.endswith(".parquet"):
        return pq.ParquetFile(path).metadata.num_rows
    if path.name.endswith((".warc", ".warc.gz")):
        return warc.count_records(str(path))
    return None


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(how=mutations)
def test_readers_keep_or_reject_every_record_of_mangled_bytes(name: str, how: tuple, seeds, tmp_path: Path) -> None:
    path = tmp_path / name
    data = mutate(seeds[name], how)
    path.write_bytes(data)
    columns = ColumnMap()
    try:
        units = plan_units(find_inputs([str(path)]), columns)
        read = [read_unit(u, columns) for u in units]
    except InputError as exc:  # the whole file refused: the message names it
        assert str(path) in str(exc)
        return
    kept = sum(docs.num_rows for docs, _ in read)
    rejected = [r for _, bad in read for r in bad.to_pylist()]
    for row in rejected:
        assert row["drop_stage"] == "read"
        assert row["drop_reason"].startswith("read:") and f" at {path}:" in row["drop_reason"], row["drop_reason"]
    for docs, _ in read:
        assert docs.column("text").null_count == 0
        assert all(t.strip() for t in docs.column("text").to_pylist())
    expected = records_in(path, data)
    if expected is not None:
        assert kept + len(rejected) == expected


def test_a_corrupt_page_inside_a_parquet_file_is_an_input_error_naming_it(seeds, tmp_path: Path) -> None:
    path = tmp_path / "a.parquet"
    data = bytearray(seeds["a.parquet"])
    data[200:260] = bytes(60)  # inside the first row group's pages; the footer stays intact
    path.write_bytes(bytes(data))
    units = plan_units([str(path)], ColumnMap())
    with pytest.raises(InputError, match=str(path)):
        for unit in units:
            read_unit(unit, ColumnMap())


def test_seeds_read_whole(seeds, tmp_path: Path) -> None:
    """The unmutated seeds: every record of each format is counted (the property's baseline)."""
    for name in NAMES:
        path = tmp_path / name
        path.write_bytes(seeds[name])
        units = plan_units([str(path)], ColumnMap())
        read = [read_unit(u, ColumnMap()) for u in units]
        kept, bad = sum(d.num_rows for d, _ in read), sum(b.num_rows for _, b in read)
        assert (kept, bad) == ((6, 6) if "warc" in name else (31, 0) if name.endswith("parquet") else (31, 1)), name
