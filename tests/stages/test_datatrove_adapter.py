import pytest

from curate.engine.pipeline import run_in_memory
from curate.stages.datatrove_adapter import DatatroveStep
from curate.stages.gopher import GopherQuality

pytest.importorskip("spacy", reason="datatrove's English word splitting needs spaCy (test dependency)")


def stage(step, **args):
    return DatatroveStep(DatatroveStep.Params(step=step, args=args))


def test_filter_drops_carry_datatrove_reason(english_docs, table):
    docs = english_docs[:80]
    kept, rejected = run_in_memory(
        [("dt", stage("datatrove.pipeline.filters:GopherQualityFilter"))], [table(docs)]
    )
    assert kept.num_rows + rejected.num_rows == len(docs)
    assert rejected.num_rows > 0
    assert all(r.startswith("datatrove:gopher_") for r in rejected.column("drop_reason").to_pylist())
    ours, _ = run_in_memory([("g", GopherQuality())], [table(docs)])
    overlap = set(ours.column("id").to_pylist()) ^ set(kept.column("id").to_pylist())
    assert len(overlap) <= 2


def test_rewriting_filter_keeps_its_text(table):
    text = "Menu\nThe library opened a new room. It has seats! Students like it. They read. They write."
    kept, _ = run_in_memory([("c4", stage("datatrove.pipeline.filters.C4QualityFilter"))], [table([text])])
    assert kept.column("text").to_pylist() == [text.split("\n", 1)[1]]


def test_non_filter_step_maps_metadata(table):
    import pyarrow as pa

    batch = table(["Mail me at someone@example.com today."]).append_column("source", pa.array(["web"]))
    st = DatatroveStep(DatatroveStep.Params(step="datatrove.pipeline.formatters:PIIFormatter", metadata_columns=["source"]))
    kept, rejected = run_in_memory([("pii", st)], [batch])
    assert "someone@example.com" not in kept.column("text").to_pylist()[0]
    assert kept.column("source").to_pylist() == ["web"] and rejected is None or rejected.num_rows == 0


def test_bad_step_path_says_what_to_do():
    st = stage("datatrove.pipeline.filters:NoSuchFilter")
    with pytest.raises(ValueError, match="module:Class"):
        st.setup()


def test_an_import_path_that_is_not_a_datatrove_step_is_refused_before_it_runs(tmp_path):
    marker = tmp_path / "ran"
    step = stage("subprocess:run", args=["touch", str(marker)])
    with pytest.raises(ValueError, match=r"datatrove: subprocess:run is not a datatrove PipelineStep class"):
        step.setup()
    assert not marker.exists()
