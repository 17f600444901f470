"""vLLM's top-20 next-token logprobs give the transformers digit scores on the real model."""

from __future__ import annotations

import pytest

from tests.scorers.rated_docs import RATED_DOCS

pytest.importorskip("vllm")


@pytest.mark.slow
def test_vllm_digit_scores_match_transformers(real_model) -> None:
    from curate.scorers.annotate import AnnotateConfig, annotate
    from curate.synth.engines import EngineSpec

    hf = annotate(RATED_DOCS, AnnotateConfig(engine=EngineSpec(kind="hf", model=real_model), score_from="logprobs"))
    spec = EngineSpec(kind="vllm", model=real_model, dtype="float32", kv_cache_gb=0.25, enforce_eager=True,
                      chunked_prefill=False, max_model_len=1024)
    vl = annotate(RATED_DOCS, AnnotateConfig(engine=spec, score_from="logprobs"))
    # the same prompts and maths; a digit outside vLLM's top 20 counts as 0, so allow a little
    assert vl.column("score").to_pylist() == pytest.approx(hf.column("score").to_pylist(), abs=0.05)
    assert vl.column("mass").to_pylist() == pytest.approx(hf.column("mass").to_pylist(), abs=0.05)
