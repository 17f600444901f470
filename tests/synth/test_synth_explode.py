import pyarrow as pa
import pyarrow.parquet as pq

from curate.engine.pipeline import run_in_memory
from curate.stages.explode_synth import ExplodeSynth
from curate.synth.requests import OUTPUTS_TYPE


def item(task, chunk, text, reason=None):
    return {"task": task, "prompt_version": f"{task}.v1", "chunk": chunk, "text": text, "tokens": 7, "finish": "stop",
            "drop_reason": reason, "model": "m", "sampling": '{"temperature":0.7}', "seed": 3}


def docs():
    synth = [
        [item("distill", 0, "Short facts."), item("cot_template", 0, "raw", "no_think_block")],
        [],
        [item("wiki_rephrase", 0, "A."), item("wiki_rephrase", 1, "B."), item("distill", 0, None, "input_too_short")],
    ]
    return pa.table({"id": ["d0", "d1", "d2"], "text": ["t0", "t1", "t2"], "url": ["u0", "u1", "u2"],
                     "quality_bucket": [15, 3, 1], "synth": pa.array(synth, OUTPUTS_TYPE)})


def test_one_row_per_output_with_provenance_and_reasons():
    steps = [("explode_synth", ExplodeSynth())]
    kept, rejected = run_in_memory(steps, [docs()])
    assert kept.num_rows + rejected.num_rows == 5
    assert kept.column("source_id").to_pylist() == ["d0", "d2", "d2"]
    assert kept.column("task").to_pylist() == ["distill", "wiki_rephrase", "wiki_rephrase"]
    assert kept.column("text").to_pylist() == ["Short facts.", "A.", "B."]
    assert kept.column("url").to_pylist() == ["u0", "u2", "u2"]  # the source's columns come along
    assert "synth" not in kept.column_names
    for col in ("prompt_version", "model", "sampling", "seed", "kind"):
        assert kept.column(col).null_count == 0
    assert rejected.column("drop_reason").to_pylist() == ["explode_synth:no_think_block", "explode_synth:input_too_short"]
    assert rejected.column("kind").to_pylist() == ["cot", "rewrite"]
    assert len(set(kept.column("id").to_pylist() + rejected.column("id").to_pylist())) == 5


def test_a_run_counts_outputs_and_empty_units_keep_the_output_schema(tmp_path):
    from curate.engine.recipe import parse_recipe
    from curate.engine.runner import run_recipe

    src = tmp_path / "in"
    src.mkdir()
    pq.write_table(docs(), src / "a.parquet")
    pq.write_table(docs().slice(0, 0), src / "b.parquet")
    recipe = parse_recipe(f"name: x\ninput: {{paths: ['{src}']}}\nstages:\n  - stage: explode_synth\n")
    manifest = run_recipe(recipe, str(tmp_path / "out"), quiet=True)
    step = manifest["stages"][-1]
    assert (step["docs_in"], step["outputs"], step["kept"], step["dropped"]) == (3, 5, 3, 2)
    empty = pq.read_table(tmp_path / "out" / "data" / "part-00001.parquet")
    assert empty.num_rows == 0 and "source_id" in empty.column_names
