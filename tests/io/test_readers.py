from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from corpora import make_docs, write_jsonl, write_parquet

from curate.core.errors import InputError
from curate.io.readers import ColumnMap, find_inputs, format_of, plan_units, read_unit

COLS = ColumnMap()


def read_all(patterns: list[str], columns: ColumnMap = COLS, rows_per_unit: int = 50_000):
    units = plan_units(find_inputs(patterns), columns, rows_per_unit=rows_per_unit)
    docs, bad = zip(*(read_unit(u, columns) for u in units))
    return pa.concat_tables(docs, promote_options="permissive"), pa.concat_tables(bad)


@pytest.mark.parametrize("name", ["x.jsonl", "x.jsonl.gz", "x.jsonl.zst", "x.parquet"])
def test_every_format_reads_the_same_documents(tmp_path: Path, name: str) -> None:
    docs = make_docs(20)
    path = tmp_path / name
    (write_parquet if name.endswith("parquet") else write_jsonl)(path, docs)
    table, bad = read_all([str(path)])
    assert table.column("id").to_pylist() == [d["id"] for d in docs]
    assert table.column("text").to_pylist() == [d["text"] for d in docs]
    assert table.column("url").to_pylist() == [d["url"] for d in docs]
    assert bad.num_rows == 0


def test_format_comes_from_the_extension() -> None:
    assert format_of("a/b.jsonl.zst") == "jsonl"
    assert format_of("s3://b/x.parquet") == "parquet"
    with pytest.raises(InputError, match="notes.txt"):
        format_of("notes.txt")


def test_globs_and_directories_expand_sorted_and_skip_other_files(corpus: Path) -> None:
    (corpus / "README.md").write_text("not data")
    by_dir = find_inputs([str(corpus)])
    by_glob = find_inputs([str(corpus / "*")])
    assert by_dir == by_glob == [str(corpus / n) for n in ("a.jsonl.gz", "b.jsonl.zst", "c.parquet")]


def test_a_pattern_that_matches_nothing_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="nothing-here"):
        find_inputs([str(tmp_path / "nothing-here" / "*.parquet")])
    with pytest.raises(InputError, match="does not exist"):
        find_inputs([str(tmp_path / "missing.jsonl")])


def test_fsspec_urls_read_through_the_same_path(tmp_path: Path) -> None:
    import fsspec

    docs = make_docs(5)
    with fsspec.open("memory://bucket/shard.jsonl", "wb") as f:
        f.write(b"".join(json.dumps(d).encode() + b"\n" for d in docs))
    write_parquet(tmp_path / "local.parquet", docs)
    table, _ = read_all(["memory://bucket/*.jsonl", f"file://{tmp_path}/local.parquet"])
    assert table.num_rows == 10
    [found] = find_inputs(["memory://bucket/*.jsonl"])
    assert found.startswith("memory://") and found.endswith("bucket/shard.jsonl")


def test_missing_ids_get_stable_xxhash_ids(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "noid.jsonl", [{"text": "alpha beta"}, {"text": "gamma delta"}])
    first, _ = read_all([str(path)])
    second, _ = read_all([str(path)])
    ids = first.column("id").to_pylist()
    assert ids == second.column("id").to_pylist()
    assert len(set(ids)) == 2 and all(len(i) == 16 for i in ids)


def test_column_mapping_renames_id_and_text(tmp_path: Path) -> None:
    path = write_parquet(tmp_path / "m.parquet", [{"doc_id": 7, "content": "hello there", "lang": "en"}])
    table, _ = read_all([str(path)], ColumnMap("doc_id", "content"))
    assert table.column_names == ["id", "text", "lang"]
    assert table.to_pylist() == [{"id": "7", "text": "hello there", "lang": "en"}]


def test_bad_jsonl_records_are_rejected_with_file_and_line(tmp_path: Path) -> None:
    lines = [
        b'{"id": "ok", "text": "fine text"}\n',
        b"{broken\n",
        b'{"id": "num", "text": 5}\n',
        b'{"id": "utf", "text": "caf\xe9"}\n',
        b'{"id": "empty", "text": "   "}\n',
        b'{"id": "notext"}\n',
        b"[1, 2]\n",
    ]
    path = tmp_path / "bad.jsonl"
    path.write_bytes(b"".join(lines))
    table, bad = read_all([str(path)])
    assert table.column("id").to_pylist() == ["ok"]
    reasons = bad.column("drop_reason").to_pylist()
    assert len(reasons) == 6 and set(bad.column("drop_stage").to_pylist()) == {"read"}
    assert "bad JSON" in reasons[0] and f"{path}:line 2" in reasons[0]
    assert "not a string" in reasons[1] and "line 3" in reasons[1]
    assert "invalid UTF-8" in reasons[2] and "line 4" in reasons[2]
    assert "empty text" in reasons[3]
    assert "no 'text' field" in reasons[4]
    assert "not an object" in reasons[5]
    # nothing is lost: the raw record is kept as the rejected row's text
    assert bad.column("text").to_pylist()[0] == "{broken"
    assert bad.column("text").to_pylist()[1] == '{"id": "num", "text": 5}'


def test_parquet_with_a_non_string_text_column_rejects_every_row(tmp_path: Path) -> None:
    path = write_parquet(tmp_path / "ints.parquet", [{"id": "a", "text": 1}, {"id": "b", "text": 2}])
    table, bad = read_all([str(path)])
    assert table.num_rows == 0
    assert bad.column("drop_reason").to_pylist() == [
        f"read:text is int64, not a string at {path}:row 0",
        f"read:text is int64, not a string at {path}:row 1",
    ]


def test_parquet_binary_text_with_invalid_utf8_rejects_only_that_row(tmp_path: Path) -> None:
    path = tmp_path / "bin.parquet"
    pq.write_table(pa.table({"id": ["a", "b"], "text": pa.array([b"good", b"\xff\xfe"], pa.binary())}), path)
    table, bad = read_all([str(path)])
    assert table.column("text").to_pylist() == ["good"]
    assert bad.column("drop_reason").to_pylist() == [f"read:invalid UTF-8 at {path}:row 1"]


def test_unreadable_files_fail_before_work_naming_the_file(tmp_path: Path) -> None:
    good = write_parquet(tmp_path / "good.parquet", make_docs(50))
    truncated = tmp_path / "truncated.parquet"
    truncated.write_bytes(good.read_bytes()[:200])
    with pytest.raises(InputError, match="truncated.parquet"):
        plan_units([str(truncated)], COLS)
    no_text = write_parquet(tmp_path / "notext.parquet", [{"id": "a", "body": "x"}])
    with pytest.raises(InputError, match=r"notext.parquet: no text column 'text'"):
        plan_units([str(no_text)], COLS)


def test_large_parquet_is_split_by_row_groups_into_fixed_units(tmp_path: Path) -> None:
    path = write_parquet(tmp_path / "big.parquet", make_docs(230), row_group_size=20)
    units = plan_units([str(path)], COLS, rows_per_unit=50)
    assert [u.start_row for u in units] == [0, 60, 120, 180]
    assert sum(read_unit(u, COLS)[0].num_rows for u in units) == 230


def test_limit_reads_the_first_n_documents(corpus: Path) -> None:
    units = plan_units(find_inputs([str(corpus)]), COLS, limit=130)
    total = sum(sum(t.num_rows for t in read_unit(u, COLS)) for u in units)
    assert total == 130


def test_a_repeated_id_in_a_file_is_rejected_naming_the_first(tmp_path: Path) -> None:
    docs = [{"id": "a", "text": "one"}, {"id": "b", "text": "two"}, {"id": "a", "text": "three"}]
    path = write_jsonl(tmp_path / "dup.jsonl", docs)
    table, bad = read_all([str(path)])
    assert table.column("id").to_pylist() == ["a", "b"]
    assert bad.column("drop_reason").to_pylist() == [f"read:duplicate id (first is line 1) at {path}:line 3"]
    assert bad.column("text").to_pylist() == ["three"]


def test_a_run_checks_columns_of_remote_parquet_too(tmp_path: Path) -> None:
    import fsspec

    from curate.engine.recipe import parse_recipe
    from curate.engine.runner import run_recipe

    with fsspec.open("memory://remote/shard.parquet", "wb") as f:
        pq.write_table(pa.Table.from_pylist(make_docs(5)), f)
    recipe = parse_recipe(
        "name: r\ninput: {paths: ['memory://remote/*.parquet']}\nstages:\n"
        "  - stage: domain_tag\n    params: {rules: {example.org: reference}}\n"
    )
    manifest = run_recipe(recipe, str(tmp_path / "out"), quiet=True)
    assert manifest["totals"]["docs_kept"] == 5  # `url` was found in the remote file's schema
