"""Map steps over one unit: row-wise steps run batch by batch and decide exactly as step after step."""

from __future__ import annotations

import glob
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from curate.core.registry import get_stage
from curate.core.stage import Resources
from curate.engine.pipeline import StepStats, run_map_steps
from curate.stages.lib import batch_words as bw
from curate.stages.lib import text_stats as ts

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def unit() -> pa.Table:
    """The shipped Parquet shard: prose in six languages, junk and duplicates (its first 700 documents)."""
    return pq.read_table(glob.glob(str(ROOT / "data" / "sample" / "*.parquet"))[0]).select(["id", "text", "url"]).slice(0, 700)


def _steps(row_wise: bool) -> list:
    steps = []
    for name, batch in (("text_length", 300), ("lang_id", 500), ("gopher_repetition", 200),
                        ("gopher_quality", 256), ("fineweb_quality", 1000), ("c4_quality", 128)):
        stage = get_stage(name)(resources=Resources(batch_size=batch))
        stage.row_wise = row_wise  # False: each step over the whole unit in turn, as before batching by rows
        stage.setup()
        steps.append((name, stage))
    return steps


def test_row_wise_steps_batch_by_batch_keep_and_drop_the_same_rows_in_the_same_order(unit: pa.Table) -> None:
    stats_a: dict[str, StepStats] = {}
    stats_b: dict[str, StepStats] = {}
    kept_a, dropped_a = run_map_steps(_steps(True), unit, stats_a)
    kept_b, dropped_b = run_map_steps(_steps(False), unit, stats_b)
    assert kept_a.equals(kept_b)
    assert 0 < kept_a.num_rows < unit.num_rows
    assert [t.num_rows for t in dropped_a] == [t.num_rows for t in dropped_b]
    assert all(a.equals(b) for a, b in zip(dropped_a, dropped_b))
    for name, a in stats_a.items():  # the same counts per step (times differ)
        b = stats_b[name]
        assert (a.docs_in, a.kept, a.dropped, a.chars_kept, a.reasons) == (b.docs_in, b.kept, b.dropped, b.chars_kept, b.reasons)


def test_document_words_reuses_the_last_batch_only_for_its_own_documents(unit: pa.Table) -> None:
    text = ts.as_array(unit.column("text").slice(0, 300))
    first = bw.document_words(text)
    assert first.values.equals(ts.split_words(text).values)
    # a later filter's batch: some documents dropped, one repeated, order changed
    pick = pa.array(np.r_[np.arange(250, 0, -3), [7, 7]])
    subset = text.take(pick)
    reused = bw.document_words(subset)
    fresh = ts.split_words(subset)
    assert reused.values.equals(fresh.values) and np.array_equal(reused.doc, fresh.doc)
    # a document the last batch did not have (one character changed): split, not reused
    changed = pa.array(subset.to_pylist()[:-1] + [subset[-1].as_py() + "!"])
    words = bw.document_words(changed)
    assert words.values.equals(ts.split_words(changed).values)
    assert words.values.to_pylist()[-1] == "!"
