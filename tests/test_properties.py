"""Properties every registered stage keeps on random batches: in = kept + dropped, stable row order,
``id`` never changed, and every dropped row has a reason prefixed by the stage's name.

Stages whose parameters are all defaulted run as they are; stages that need a model or a file get their
parameters from ``STAGE_PARAMS`` (fixtures the project makes), or are listed in ``NEEDS_ASSETS``.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from curate.core.registry import all_stages
from curate.engine.pipeline import run_in_memory

MODELS = Path(__file__).resolve().parents[1] / "data" / "models"
# Parameters for stages that need a model: the small ones the project ships in data/models.
STAGE_PARAMS = {
    "fasttext_score": {"model": str(MODELS / "quality.ftz"), "label": "hq", "column": "quality"},
    "domain_tag": {"model": str(MODELS / "domain.ftz")},
    "lm_loss": {"model": str(MODELS / "lm"), "device": "cpu"},
}
# Stages that need a model or an engine a property test has no cheap way to run (tested in their own files).
NEEDS_ASSETS = {"hf_score", "synthesize", "datatrove"}

PROVIDED = {"id", "text", "lang", "lang_score"}
WORDS = ["the", "data", "模型", "数据", "und", "der", "данные", "текст", "lorem", "42", "|", "###", "\x00", "é", "😀"]
texts = st.lists(st.sampled_from(WORDS), min_size=0, max_size=60).map(" ".join) | st.text(max_size=300)
langs = st.sampled_from(["en", "zh", "de", "ru", "xx", None])


def _constructible() -> list[str]:
    names = []
    for name, cls in all_stages().items():
        if name in NEEDS_ASSETS:
            continue
        try:
            stage = cls(cls.Params(**STAGE_PARAMS.get(name, {})))
        except Exception:  # required parameters: not runnable with defaults
            continue
        if set(stage.columns_needed()) <= PROVIDED:
            names.append(name)
    return names


def _table(unit: int, rows: list[tuple[str, str | None]]) -> pa.Table:
    return pa.table(
        {
            "id": [f"u{unit}-doc-{i}" for i in range(len(rows))],
            "text": [t if t.strip() else "x" for t, _ in rows],  # the reader drops empty texts before stages
            "lang": [lang for _, lang in rows],
            "lang_score": [0.9] * len(rows),
        },
        schema=pa.schema([("id", pa.string()), ("text", pa.string()), ("lang", pa.string()), ("lang_score", pa.float32())]),
    )


@pytest.mark.parametrize("name", _constructible())
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(units=st.lists(st.lists(st.tuples(texts, langs), min_size=0, max_size=25), min_size=1, max_size=3))
def test_every_stage_keeps_count_order_and_ids(name: str, units: list) -> None:
    cls = all_stages()[name]
    stage = cls(cls.Params(**STAGE_PARAMS.get(name, {})))
    tables = [_table(u, rows) for u, rows in enumerate(units)]
    kept, rejected = run_in_memory([(name, stage)], tables)
    ids_in = [i for t in tables for i in t.column("id").to_pylist()]
    kept_ids = kept.column("id").to_pylist() if kept.num_rows else []
    dropped_ids = rejected.column("id").to_pylist() if rejected is not None else []
    assert len(ids_in) == len(kept_ids) + len(dropped_ids)
    assert sorted(kept_ids + dropped_ids) == sorted(ids_in)  # ids never changed
    positions = {i: n for n, i in enumerate(ids_in)}
    assert [positions[i] for i in kept_ids] == sorted(positions[i] for i in kept_ids)  # order kept
    if rejected is not None:
        assert set(rejected.column("drop_stage").to_pylist()) <= {name}
        assert all(r.startswith(f"{cls.name}:") or r == cls.name for r in rejected.column("drop_reason").to_pylist())
