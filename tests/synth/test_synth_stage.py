"""The synthesize stage end to end through the pipeline, with the transformers engine (always available)."""

import json

import pyarrow as pa

from curate.core.registry import get_stage
from curate.engine.pipeline import run_in_memory
from curate.stages.explode_synth import ExplodeSynth

TEXTS = [
    "The scheduler picks the next process to run. It looks at priorities first.\n\n"
    "A process that waits for input sleeps until the data arrives. Then it becomes ready again.",
    "Files live in directories. A path names a file by the directories that lead to it.",
    "ok",
]


def synthesize(tiny_model, **over):
    cls = get_stage("synthesize")
    params = {
        "engine": {"kind": "hf", "model": tiny_model},
        "sampling": {"temperature": 0.8, "max_tokens": 12},
        "default_tasks": ["distill"],
        "also": ["cot_template"],
        "min_chunk_tokens": 4,
        "min_tokens": 1,
        "reject_truncated": False,
        **over,
    }
    stage = cls(cls.Params.model_validate(params))
    stage.seed = 7
    table = pa.table({"id": ["a", "b", "c"], "text": TEXTS, "url": ["u/a", "u/b", "u/c"]})
    kept, rejected = run_in_memory([("synthesize", stage)], [table])
    return kept, rejected


def test_outputs_carry_provenance_and_every_request_is_accounted_for(tiny_model):
    kept, rejected = synthesize(tiny_model)
    assert rejected is None and kept.column("id").to_pylist() == ["a", "b", "c"]  # documents are kept as they were
    outputs = kept.column("synth").to_pylist()
    assert [len(o) for o in outputs] == [2, 2, 2]  # one chunk each, two tasks
    short = outputs[2]
    assert {o["drop_reason"] for o in short} == {"input_too_short"}  # "ok" is below min_chunk_tokens
    for o in outputs[0] + outputs[1]:
        assert o["prompt_version"] == f"{o['task']}.v1" and o["model"] == tiny_model and o["seed"] == 7
        assert json.loads(o["sampling"])["max_tokens"] == 12
        assert (o["text"] is not None) and o["tokens"] >= 1
    # the model is gibberish: cot answers must fail their format check, distill answers pass by the rules
    assert {o["drop_reason"] for o in outputs[0] if o["task"] == "cot_template"} <= {"no_think_block", "no_question", "no_answer", "empty"}
    good, bad = run_in_memory([("explode_synth", ExplodeSynth())], [kept])
    assert good.num_rows + (bad.num_rows if bad is not None else 0) == 6
    assert set(good.column("task").to_pylist()) <= {"distill", "cot_template"}


def test_same_seed_same_outputs(tiny_model):
    first, _ = synthesize(tiny_model, max_chunks=1)
    again, _ = synthesize(tiny_model, max_chunks=1)
    assert first.column("synth").to_pylist() == again.column("synth").to_pylist()


def test_long_documents_are_chunked_by_tokens(tiny_model):
    kept, _ = synthesize(tiny_model, chunk_tokens=16, also=[])
    chunks = [o["chunk"] for o in kept.column("synth").to_pylist()[0]]
    assert chunks == list(range(len(chunks))) and len(chunks) >= 2
