"""Big inputs split into several work units; the rows, ids and reasons are those of reading them whole."""

from __future__ import annotations

import gzip
import json
import tracemalloc
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from corpora import make_docs

from curate.engine.recipe import parse_recipe
from curate.engine.runner import run_recipe
from curate.io.jsonl import plan_jsonl
from curate.io.readers import ColumnMap, plan_units, read_unit

COLS = ColumnMap()


def read_units(units) -> tuple[pa.Table, pa.Table]:
    docs, bad = zip(*(read_unit(u, COLS) for u in units))
    return pa.concat_tables(docs, promote_options="permissive"), pa.concat_tables(bad)


def parts(folder: Path) -> pa.Table:
    return pa.concat_tables([pq.read_table(p) for p in sorted(folder.glob("part-*.parquet"))], promote_options="permissive")


def test_one_big_row_group_splits_into_row_ranges(tmp_path: Path) -> None:
    docs = make_docs(1000)
    for i in (0, 249, 250, 999):  # first and last rows of ranges: rejected with their row numbers
        docs[i]["text"] = "  "
    path = tmp_path / "big.parquet"
    pq.write_table(pa.Table.from_pylist(docs), path, row_group_size=1000)
    units = plan_units([str(path)], COLS, rows_per_unit=300)
    assert [(u.row_groups, u.start_row, u.max_rows) for u in units] == [((0,), 0, 250), ((0,), 250, 250), ((0,), 500, 250), ((0,), 750, 250)]
    split, split_bad = read_units(units)
    whole, whole_bad = read_units(plan_units([str(path)], COLS, rows_per_unit=10_000))
    assert split.equals(whole) and split_bad.equals(whole_bad)
    assert split.column("id").to_pylist() == [d["id"] for d in docs if d["text"].strip()]
    assert whole_bad.column("drop_reason").to_pylist() == [f"read:empty text at {path}:row {i}" for i in (0, 249, 250, 999)]


def test_small_row_groups_are_gathered_and_a_big_one_among_them_is_cut(tmp_path: Path) -> None:
    path = tmp_path / "mixed.parquet"
    with pq.ParquetWriter(path, pa.Table.from_pylist(make_docs(1)).schema) as w:
        for n, start in ((20, 0), (20, 20), (130, 40), (20, 170)):
            w.write_table(pa.Table.from_pylist(make_docs(start + n)[start:]))
    units = plan_units([str(path)], COLS, rows_per_unit=50)
    assert [(u.row_groups, u.start_row, u.max_rows) for u in units] == [
        ((0, 1), 0, None), ((2,), 40, 43), ((2,), 83, 43), ((2,), 126, 44), ((3,), 170, None)
    ]
    table, _ = read_units(units)
    assert table.column("id").to_pylist() == [f"d{i}" for i in range(190)]


def _fixed_width_lines(n: int, width: int) -> list[bytes]:
    """n JSONL lines of exactly `width` bytes (newline included); every third record has no id."""
    lines = []
    for i in range(n):
        rec = {"text": f"line {i} says something"} if i % 3 == 0 else {"id": f"r{i}", "text": f"line {i} says something"}
        body = json.dumps(rec).encode()
        lines.append(body + b" " * (width - 1 - len(body)) + b"\n")
    return lines


def test_plain_jsonl_splits_by_bytes_with_exact_line_numbers(tmp_path: Path) -> None:
    width, per_unit = 64, 1000
    lines = _fixed_width_lines(400, width)
    path = tmp_path / "big.jsonl"
    path.write_bytes(b"".join(lines))
    spans = plan_jsonl(str(path), per_unit)
    # a cut after the line holding byte 999 (line 15, bytes 960-1023), the next after the one holding byte 2023, …
    assert [(s.start, s.first_line, s.lines) for s in spans] == [(k * 1024, k * 16, 16) for k in range(25)]
    # bad lines (same width, so the cuts stay put) on both sides of every cut, and the last line unterminated
    bad_at = sorted({s.first_line for s in spans[1:]} | {s.first_line - 1 for s in spans[1:]})
    for k, i in enumerate(bad_at):
        bad = [b"{broken", b'{"id": "u", "text": "caf\xe9"}', b'{"id": "e", "text": "   "}'][k % 3]
        lines[i] = bad + b" " * (width - 1 - len(bad)) + b"\n"
    lines[-1] = lines[-1].rstrip(b"\n")
    path.write_bytes(b"".join(lines))
    assert plan_jsonl(str(path), per_unit) == spans

    units = plan_units([str(path)], COLS, bytes_per_unit=per_unit)
    assert len(units) == 25 and units[1].start_row == spans[1].first_line and units[1].byte_start == spans[1].start
    split, split_bad = read_units(units)
    whole, whole_bad = read_units(plan_units([str(path)], COLS))
    assert split.equals(whole) and split_bad.equals(whole_bad)
    assert split.num_rows + split_bad.num_rows == 400
    numbers = [int(r.rsplit("line ", 1)[1]) for r in split_bad.column("drop_reason").to_pylist()]
    assert numbers == [i + 1 for i in bad_at]
    reasons = split_bad.column("drop_reason").to_pylist()
    assert reasons[0].startswith("read:bad JSON (") and reasons[0].endswith(f" at {path}:line {bad_at[0] + 1}")
    assert reasons[1] == f"read:invalid UTF-8 (invalid continuation byte at byte 24) at {path}:line {bad_at[1] + 1}"
    assert reasons[2] == f"read:empty text at {path}:line {bad_at[2] + 1}"


def test_a_line_longer_than_a_unit_stays_whole(tmp_path: Path) -> None:
    records = [{"id": "a", "text": "short"}, {"id": "b", "text": "long " * 500}, {"id": "c", "text": "short again"}]
    path = tmp_path / "long.jsonl"
    path.write_bytes(b"".join(json.dumps(r).encode() + b"\n" for r in records))
    spans = plan_jsonl(str(path), 100)
    assert [(s.first_line, s.lines) for s in spans] == [(0, 2), (2, 1)]
    table, bad = read_units(plan_units([str(path)], COLS, bytes_per_unit=100))
    assert table.column("text").to_pylist() == [r["text"] for r in records] and bad.num_rows == 0


def test_gzip_jsonl_streams_without_holding_the_file(tmp_path: Path) -> None:
    text = "word " * 200  # 1 KB of text per line, 50,000 lines: 50 MB decompressed (read whole: 126 MiB peak)
    line = json.dumps({"text": text}).encode() + b"\n"
    path = tmp_path / "big.jsonl.gz"
    with gzip.open(path, "wb", compresslevel=1) as f:
        for _ in range(50):
            f.write(line * 1000)
    [unit] = plan_units([str(path)], COLS, bytes_per_unit=1 << 20)  # compressed: one unit, whatever the size
    tracemalloc.start()
    try:
        table, bad = read_unit(unit, COLS)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert table.num_rows == 50_000 and bad.num_rows == 0 and table.column("text")[49_999].as_py() == text
    assert peak < 20 << 20, f"peak Python memory {peak >> 20} MiB while reading a 50 MB file"


def test_a_run_gives_the_same_rows_for_any_unit_size(tmp_path: Path) -> None:
    docs = make_docs(300, dup_every=7)
    lines = [json.dumps(d).encode() + b"\n" for d in docs]
    lines[100] = b"{broken\n"
    path = tmp_path / "in.jsonl"
    path.write_bytes(b"".join(lines))
    recipe = "name: split\ninput: {paths: ['%s'], bytes_per_unit: %d}\nstages:\n  - stage: text_length\n    params: {min_chars: 70}\n"
    small = run_recipe(parse_recipe(recipe % (path, 4000)), str(tmp_path / "small"), quiet=True)
    big = run_recipe(parse_recipe(recipe % (path, 1 << 30)), str(tmp_path / "big"), quiet=True)
    assert small["units"] > 5 and big["units"] == 1
    assert parts(tmp_path / "small" / "data").equals(parts(tmp_path / "big" / "data"))
    # a part's rejected rows are grouped by the step that dropped them: within each step, the same rows in order
    small_rej, big_rej = parts(tmp_path / "small" / "rejected"), parts(tmp_path / "big" / "rejected")
    assert small_rej.num_rows == big_rej.num_rows == 300 - small["totals"]["docs_kept"]
    for step in ("read", "text_length"):
        assert small_rej.filter(pc.equal(small_rej["drop_stage"], step)).equals(big_rej.filter(pc.equal(big_rej["drop_stage"], step)))
    assert big_rej.filter(pc.equal(big_rej["drop_stage"], "read"))["drop_reason"][0].as_py().endswith(f"{path}:line 101")
    assert small["totals"] == {**big["totals"], "seconds": small["totals"]["seconds"]}
    rows = [json.loads(x) for x in (tmp_path / "small" / "units.jsonl").read_text().splitlines()]
    assert [r["unit"] for r in rows] == list(range(small["units"]))
    assert sum(r["docs_in"] for r in rows) == 300 and sum(r["docs_kept"] for r in rows) == small["totals"]["docs_kept"]
    assert rows[1]["byte_start"] > 0 and rows[1]["start_line"] > 1


def test_many_small_files_keep_the_manifest_small(tmp_path: Path) -> None:
    corpus = tmp_path / "in"
    corpus.mkdir()
    n = 600
    for f in range(n):
        (corpus / f"s-{f:05d}.jsonl").write_text(json.dumps({"id": f"f{f}", "text": f"file {f} has one document"}) + "\n")
    recipe = parse_recipe("name: many\ninput: {paths: ['%s']}\nstages:\n  - stage: text_length\n    params: {min_chars: 5}\n" % corpus)
    manifest = run_recipe(recipe, str(tmp_path / "out"), quiet=True)
    assert manifest["units"] == n and manifest["totals"]["docs_kept"] == n
    assert manifest["inputs"]["files"] == n and len(manifest["inputs"]["examples"]) == 10
    assert (tmp_path / "out" / "manifest.json").stat().st_size < 8_000
    rows = (tmp_path / "out" / "units.jsonl").read_text().splitlines()
    assert len(rows) == n
    assert json.loads(rows[-1]) | {"seconds": 0} == {
        "unit": n - 1, "path": str(corpus / f"s-{n - 1:05d}.jsonl"), "docs_in": 1, "docs_kept": 1, "docs_rejected": 0, "seconds": 0
    }


def test_remote_plain_jsonl_splits_too(tmp_path: Path) -> None:
    import fsspec

    docs = make_docs(60)
    with fsspec.open("memory://split/shard.jsonl", "wb") as f:
        f.write(b"".join(json.dumps({"text": d["text"]}).encode() + b"\n" for d in docs))
    [path] = ["memory://split/shard.jsonl"]
    units = plan_units([path], COLS, bytes_per_unit=1000)
    assert len(units) > 3
    split, _ = read_units(units)
    whole, _ = read_units(plan_units([path], COLS))
    assert split.equals(whole) and split.column("text").to_pylist() == [d["text"] for d in docs]


def test_every_frame_of_a_multi_frame_zstd_file_is_read(tmp_path: Path) -> None:
    import zstandard

    frames = [b"".join(json.dumps(d).encode() + b"\n" for d in make_docs(10, prefix=p)) for p in ("a", "b")]
    path = tmp_path / "two.jsonl.zst"
    path.write_bytes(b"".join(zstandard.ZstdCompressor().compress(f) for f in frames))
    table, _ = read_units(plan_units([str(path)], COLS))
    assert table.column("id").to_pylist() == [f"a{i}" for i in range(10)] + [f"b{i}" for i in range(10)]


def test_a_truncated_gzip_file_is_an_error_naming_it(tmp_path: Path) -> None:
    import pytest

    from curate.core.errors import InputError

    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(gzip.compress(b"".join(json.dumps(d).encode() + b"\n" for d in make_docs(200)))[:-40])
    [unit] = plan_units([str(path)], COLS)
    with pytest.raises(InputError, match="cut.jsonl.gz: cannot read"):
        read_unit(unit, COLS)
