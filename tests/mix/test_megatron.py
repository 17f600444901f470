"""Megatron indexed datasets: the bytes follow the documented layout and read back to the same ids;
plus the ``curate mix`` command line and its refusals."""

from __future__ import annotations

import argparse
import struct

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from curate.cli.mix import register_cli
from curate.core.errors import InputError, OutputError
from curate.mix.megatron import IndexedDataset, IndexedWriter, merge_indexed, token_dtype
from tests.mix.test_blend import _build, curated, tokenizer_path, write_mixture  # noqa: F401  (fixtures)


@pytest.mark.parametrize("vocab", [4096, 100_000])
def test_indexed_round_trip_and_layout(tmp_path, vocab):
    rng = np.random.default_rng(0)
    docs = [rng.integers(0, vocab, size=int(n)) for n in rng.integers(0, 50, size=40)]
    dtype = token_dtype(vocab)
    prefix = tmp_path / "sub" / "ds_text_document"
    with IndexedWriter(prefix, dtype) as w:
        w.add(np.concatenate(docs[:25]), [len(d) for d in docs[:25]])
        w.add(np.concatenate(docs[25:]), [len(d) for d in docs[25:]])
    ds = IndexedDataset(prefix)
    assert len(ds) == 40 and ds.dtype == dtype
    assert all(ds[i].tolist() == d.tolist() for i, d in enumerate(docs))
    raw = (tmp_path / "sub" / "ds_text_document.idx").read_bytes()
    assert raw[:9] == b"MMIDIDX\x00\x00"
    version, code, seqs, n_docs = struct.unpack("<QBQQ", raw[9:34])
    assert (version, code, seqs, n_docs) == (1, 8 if vocab < 65500 else 4, 40, 41)
    assert len(raw) == 34 + 40 * 4 + 40 * 8 + 41 * 8
    assert (tmp_path / "sub" / "ds_text_document.bin").stat().st_size == sum(len(d) for d in docs) * dtype.itemsize
    assert ds.document_index.tolist() == list(range(41))


@pytest.mark.parametrize("vocab", [4096, 100_000])
def test_merged_parts_are_the_bytes_of_one_writer(tmp_path, vocab):
    rng = np.random.default_rng(1)
    docs = [rng.integers(0, vocab, size=int(n)) for n in rng.integers(1, 50, size=30)]
    dtype = token_dtype(vocab)
    with IndexedWriter(tmp_path / "one", dtype) as w:
        w.add(np.concatenate(docs), [len(d) for d in docs])
    parts = []
    for i, (a, b) in enumerate([(0, 7), (7, 8), (8, 30)]):  # a one-document part in the middle
        parts.append(tmp_path / f"part{i}")
        with IndexedWriter(parts[-1], dtype) as w:
            w.add(np.concatenate(docs[a:b]), [len(d) for d in docs[a:b]])
    assert merge_indexed(parts, tmp_path / "merged", dtype, chunk=64) == sum(len(d) for d in docs)
    for ext in (".bin", ".idx"):
        assert (tmp_path / f"merged{ext}").read_bytes() == (tmp_path / f"one{ext}").read_bytes()
    with pytest.raises(ValueError, match="dtype"):
        merge_indexed(parts, tmp_path / "bad", np.dtype(np.int32) if dtype == np.uint16 else np.dtype(np.uint16))


def test_failed_write_leaves_nothing(tmp_path):
    with pytest.raises(ValueError):
        with IndexedWriter(tmp_path / "x", np.uint16) as w:
            w.add(np.arange(5), [2, 2])  # lengths do not add up
    assert list(tmp_path.iterdir()) == []


def _cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="curate")
    register_cli(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return args.func(args)


def test_cli_builds_and_refuses_other_outputs(tmp_path, tokenizer_path, curated, capsys):  # noqa: F811
    body = "sources:\n  - {{name: web, path: {web}, category: web}}\noutput: {{rows_per_shard: 200}}\n"
    mix = write_mixture(tmp_path, tokenizer_path, curated, body)
    out = tmp_path / "blend"
    assert _cli(["mix", str(mix), "-o", str(out), "--quiet", "--tokenize"]) == 0
    assert len(list((out / "data").glob("*.parquet"))) == 3 and (out / "bin" / "web_text_document.idx").is_file()
    # another seed is another blend: refused in the same folder unless --overwrite
    with pytest.raises(OutputError, match="another mixture"):
        _cli(["mix", str(mix), "-o", str(out), "--quiet", "--seed", "9"])
    assert _cli(["mix", str(mix), "-o", str(out), "--seed", "9", "--overwrite", "--dry-run"]) == 0
    assert "planned (dry run)" in capsys.readouterr().out
    with pytest.raises(OutputError, match="holds no blend"):
        _cli(["mix", str(mix), "-o", str(curated / "web"), "--quiet"])  # not empty, not a blend
    run = tmp_path / "run"
    run.mkdir()
    (run / "manifest.json").write_text("{}")
    with pytest.raises(OutputError, match="holds a curation run"):
        _cli(["mix", str(mix), "-o", str(run), "--quiet", "--overwrite"])  # never, even with --overwrite
    with pytest.raises(SystemExit):
        _cli(["mix", "--help"])
    assert "data_path.txt" in capsys.readouterr().out


def test_missing_columns_and_paths_name_the_source_field(tmp_path, tokenizer_path, curated):  # noqa: F811
    body = "sources:\n  - {{name: web, path: {web}, category: web}}\n  - {{name: s, path: {synth}, category: rewrite, filter: 'lang == zh'}}\n"
    with pytest.raises(InputError, match=r"sources\[1\]\.filter: .* has no column\(s\) lang, zh .*; quote text values"):
        _build(tmp_path, tokenizer_path, curated, body)
    body = "sources:\n  - {{name: web, path: {web}/nothing-here, category: web}}\n"
    with pytest.raises(InputError, match=r"sources\[0\]\.path: no Parquet files"):
        _build(tmp_path, tokenizer_path, curated, body, out="o2")


def test_kept_columns_are_common_ones(tmp_path, tokenizer_path, curated):  # noqa: F811
    body = "sources:\n  - {{name: web, path: {web}, category: web}}\n  - {{name: s, path: {synth}, category: rewrite}}\n"
    out, summary = _build(tmp_path, tokenizer_path, curated, body)
    assert summary["columns"] == ["id", "text", "source", "category", "repeat"]
    body += "output: {{keep_columns: [lang, task]}}\n"
    out, summary = _build(tmp_path, tokenizer_path, curated, body, out="kept")
    table = pa.concat_tables(pq.read_table(p) for p in sorted((out / "data").glob("*.parquet")))
    web = table.filter(pa.compute.equal(table.column("source"), "web"))
    assert web.column("task").null_count == len(web) and web.column("lang").null_count == 0
