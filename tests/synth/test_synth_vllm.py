"""vLLM's offline engine with the tiny model (CPU build of vLLM); skipped where vllm is not installed."""

import pytest

from tests.synth.synth_markers import needs_vllm

pytestmark = [needs_vllm, pytest.mark.slow]


@pytest.fixture(scope="module")
def engine(tiny_model):
    from curate.synth.engines import EngineSpec, make_engine

    spec = EngineSpec(kind="vllm", model=tiny_model, dtype="float32", kv_cache_gb=0.25, enforce_eager=True,
                      chunked_prefill=False, max_num_batched_tokens=4096)
    eng = make_engine(spec, seed=0)
    yield eng
    eng.close()


def test_offline_generation_is_deterministic_per_seed(engine):
    from curate.synth.engines import SamplingSpec

    sampling = SamplingSpec(temperature=0.9, top_p=0.95, max_tokens=24)
    # long prompts as well as short ones: long prefills are where per-request seeds once failed on CPU
    prompts = [f"Passage:\nThe disk {i} is full." + " It holds logs." * (100 * (i % 2)) + "\n\nQuestion:" for i in range(6)]
    seeds = [11, 12, 13, 14, 15, 16]
    first = engine.generate(prompts, seeds, sampling)
    again = engine.generate(prompts, seeds, sampling)
    assert first == again
    assert all(0 < g.tokens <= 24 and g.finish in ("stop", "length") for g in first)
    # an answer depends on its own seed only, not on which prompts share its batch
    alone = engine.generate(prompts[2:3], seeds[2:3], sampling)
    assert alone[0] == first[2]
    other = engine.generate(prompts[:1], [99], sampling)
    assert other[0].text != first[0].text
    assert engine.max_context() == 1024
