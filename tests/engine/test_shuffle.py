"""Shuffle files: one per sending task, and a receiver reads exactly its partition's rows, in sender order."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from curate.engine.shuffle import SUFFIX, partition_of, receive, received_rows, send

SCHEMA = pa.schema([("key", pa.uint64()), ("sender", pa.int64()), ("row", pa.int64())])


def test_each_partition_gets_its_rows_from_one_file_per_sender(tmp_path: Path) -> None:
    parts, senders = 7, 4
    rng = np.random.default_rng(0)
    sent = []
    for s in range(senders):
        n = [500, 0, 3, 1200][s]  # an empty sender writes nothing; a small one misses most partitions
        keys = rng.integers(0, 2**63, n, dtype=np.uint64)
        table = pa.table({"key": keys, "sender": np.full(n, s), "row": np.arange(n)}, schema=SCHEMA)
        assert send(table, partition_of(keys, parts), tmp_path, f"g{s:05d}") == n
        sent.append(table)
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"g{s:05d}{SUFFIX}" for s in (0, 2, 3)]
    everything = pa.concat_tables(sent)
    owner = partition_of(everything.column("key").to_numpy(), parts)
    got = 0
    for p in range(parts + 2):  # partitions past the last one a sender used read as empty
        expected = everything.filter(pa.array(owner == p))  # sender order, then row order within a sender
        received = receive(tmp_path, p, SCHEMA)
        assert received.equals(expected)
        assert received_rows(tmp_path, p) == expected.num_rows  # from the indexes alone
        got += received.num_rows
    assert got == everything.num_rows


def test_a_file_that_is_not_a_shuffle_file_is_named(tmp_path: Path) -> None:
    (tmp_path / f"g00000{SUFFIX}").write_bytes(b"not a shuffle file, just some bytes")
    with pytest.raises(ValueError, match="g00000.shuffle: not a shuffle file"):
        receive(tmp_path, 0, SCHEMA)


def test_a_shuffle_in_the_older_folder_layout_is_refused_not_read_as_empty(tmp_path: Path) -> None:
    (tmp_path / "00000").mkdir()
    pq.write_table(pa.table({"k": [1]}), tmp_path / "00000" / "g00000.parquet")
    with pytest.raises(ValueError, match="older folder-per-partition layout"):
        receive(tmp_path, 0, pa.schema([("k", pa.int64())]))
