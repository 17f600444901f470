"""Reduce tasks in passes: disjoint slices that together hold every row once, a key or a unit never split."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import numpy as np
import pyarrow as pa

from curate.engine.passes import by_key, by_units, pass_count, pass_tag, route_pass
from curate.engine.shuffle import partition_of, receive, send

SCHEMA = pa.schema([("key", pa.uint64()), ("node", pa.int64())])
PARTS = 3


def _sent(root: Path, spread: bool) -> pa.Table:
    """Four senders' rows (keys repeated, nodes in units 0..9) into ``root``; partition 1's rows."""
    rng = np.random.default_rng(1)
    for s in range(4):
        key = rng.integers(0, 300, 400).astype(np.uint64)
        key = key if spread else key * np.uint64(0x9E3779B97F4A7C15)  # a uniform hash, or a key to mix
        node = rng.integers(0, 10, 400) << 32 | rng.integers(0, 1000, 400)
        send(pa.table([key, node], schema=SCHEMA), partition_of(key, PARTS, spread), root, f"g{s:05d}")
    return receive(root, 1, SCHEMA)


def _rows(table: pa.Table) -> list[tuple[int, int]]:
    return sorted(zip(table.column("key").to_pylist(), table.column("node").to_pylist()))


def test_pass_count_and_tag() -> None:
    assert [pass_count(n, 10) for n in (0, 1, 10, 11, 95)] == [1, 1, 1, 2, 10]
    assert pass_tag(0, 1) == "" and pass_tag(3, 12) == "-003"


def test_by_key_slices_are_disjoint_whole_keys_and_even(tmp_path: Path) -> None:
    for spread in (False, True):
        whole = _sent(tmp_path / str(spread), spread)
        slices = list(by_key(tmp_path / str(spread), 1, SCHEMA, "key", PARTS, per_pass=60, spread=spread))
        assert len(slices) == -(-whole.num_rows // 60) > 5
        assert [tag for tag, _ in slices] == [f"-{s:03d}" for s in range(len(slices))]
        tables = [t for _, t in slices]
        assert _rows(pa.concat_tables(tables)) == _rows(whole)  # every row once
        keys = [set(t.column("key").to_pylist()) for t in tables]
        assert sum(len(k) for k in keys) == len(set().union(*keys))  # a key in one pass only
        sizes = [t.num_rows for t in tables]
        assert max(sizes) < 3 * whole.num_rows / len(slices)  # about even: h div P does not depend on h mod P
        [(tag, table)] = list(by_key(tmp_path / str(spread), 1, SCHEMA, "key", PARTS, per_pass=10**6))
        assert tag == "" and table.equals(whole)  # one pass: the receive as it was


def test_by_units_slices_are_runs_of_units(tmp_path: Path) -> None:
    whole = _sent(tmp_path, spread=True)
    slices = list(by_units(tmp_path, 1, SCHEMA, "node", range(10), per_pass=100))
    assert len(slices) == min(10, -(-whole.num_rows // 100))
    runs = [units for _, units, _ in slices]
    assert runs[0].start == 0 and runs[-1].stop == 10 and all(a.stop == b.start for a, b in pairwise(runs))
    for _, units, table in slices:
        owner = np.asarray(table.column("node").to_pylist()) >> 32
        assert ((owner >= units.start) & (owner < units.stop)).all()
    assert _rows(pa.concat_tables([t for _, _, t in slices])) == _rows(whole)
    assert len(list(by_units(tmp_path, 1, SCHEMA, "node", range(10), per_pass=1))) == 10  # at most one a unit


def test_route_pass_sends_whole_partitions_unless_there_are_more_passes() -> None:
    keys = np.random.default_rng(2).integers(0, 2**63, 2000).astype(np.uint64)
    part = partition_of(keys, 7, spread=False)
    for passes in (2, 7):
        route = route_pass(keys, 7, passes)
        assert all(len(set(route[part == p].tolist())) == 1 for p in range(7))  # a partition in one pass
    route = route_pass(keys, 7, 20)
    assert len(set(route.tolist())) == 20 and len(set(route[part == 0].tolist())) > 1
