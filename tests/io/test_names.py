"""Numbered names sort in number order for any count, and keep their 5 digits under 100,000."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from curate.core.stage import GlobalState
from curate.engine.reduce import unit_state_name
from curate.engine.shuffle import receive, send
from curate.engine.worker import RunPaths
from curate.io.names import digits, in_number_order, numbered


def test_names_under_100000_units_keep_five_digits():
    assert digits(1) == digits(100_000) == 5
    assert [numbered(i, 100_000) for i in (0, 42, 99_999)] == ["00000", "00042", "99999"]
    assert RunPaths(Path("out"), 3).part(Path("out/data"), 2).name == "part-00002.parquet"
    assert unit_state_name(7, 10) == "unit-00007.parquet"


def test_names_past_99999_units_sort_in_number_order():
    count = 1_234_567  # a synthetic run: only names are made
    assert digits(100_001) == 6 and digits(count) == 7
    indices = [0, 9, 10, 99_999, 100_000, 999_999, 1_000_000, count - 1]
    names = [RunPaths(Path("out"), count).part(Path("out/data"), i).name for i in indices]
    assert names[3] == "part-0099999.parquet" and names[4] == "part-0100000.parquet"
    assert sorted(names) == names  # indices are listed in number order
    assert [RunPaths(Path("out"), count).stats(0, i).name for i in (99_999, 100_000)] == ["unit-0099999.json", "unit-0100000.json"]


def test_in_number_order_compares_numbers_of_mixed_widths():
    paths = [Path(n) for n in ("g100000.parquet", "g99999.parquet", "g00002.parquet", "p00001.parquet")]
    assert [p.name for p in in_number_order(paths)] == ["g00002.parquet", "g99999.parquet", "g100000.parquet", "p00001.parquet"]


def test_state_of_a_run_past_99999_units_is_read_in_unit_order(tmp_path):
    units = 100_002
    for unit in (100_001, 99_999, 3):  # written out of order; lexicographic order of 5-digit names would be wrong
        pq.write_table(pa.table({"_unit": [unit]}), tmp_path / unit_state_name(unit, units))
    state = GlobalState(str(tmp_path), 100_001, units)
    assert state.table().column("_unit").to_pylist() == [3, 99_999, 100_001]
    assert state.for_unit().column("_unit").to_pylist() == [100_001]


def test_shuffle_receive_reads_senders_in_number_order(tmp_path):
    schema = pa.schema([("x", pa.int64())])
    for sender, value in (("g100000", 2), ("g99999", 1), ("g00000", 0)):
        send(pa.table({"x": [value]}, schema=schema), np.zeros(1, np.int64), tmp_path, sender)
    assert receive(tmp_path, 0, schema).column("x").to_pylist() == [0, 1, 2]
