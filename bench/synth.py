"""Generated tokens/s through the ``synthesize`` stage vs raw ``LLM.generate``, same prompts, same model.

Both sides share one ``vllm.LLM`` (loaded once) and the same requests: the stage's own planning (chunking by
the model's tokenizer, prompt rendering, per-request seeds) builds the prompt list, the reference sends that
list straight to ``LLM.generate``, and the stage then runs its whole ``process`` (planning, generation,
post-processing, the Arrow output column) over the same documents. The ratio is stage tokens/s over raw
tokens/s: the cost of everything the stage adds around generation. Goal: >= 0.9.

The model is the real instruct model `make models` prepares (SmolLM2-135M-Instruct), prompted through its
chat template; CoT (three turns per sample, synth/cot.py) is left out so both sides make the same requests.

    python bench/synth.py [--docs 256] [--max-tokens 64] [--model .cache/models/smollm2-135m-instruct]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=256, help="documents from the sample")
    parser.add_argument("--max-tokens", type=int, default=64, help="tokens generated per answer")
    parser.add_argument("--model", default=str(ROOT / ".cache" / "models" / "smollm2-135m-instruct"), help="model directory")
    parser.add_argument("--repeats", type=int, default=2, help="timed rounds per side (best is kept)")
    args = parser.parse_args()

    from curate.core.registry import get_stage
    from curate.synth.requests import plan

    table = pq.read_table(ROOT / "data" / "sample" / "web-00002.parquet", columns=["id", "text"])
    table = table.filter(pc.greater_equal(pc.utf8_length(table.column("text")), 200)).slice(0, args.docs)
    cls = get_stage("synthesize")
    params = cls.Params.model_validate(
        {
            "engine": {"kind": "vllm", "model": args.model, "dtype": "float32", "kv_cache_gb": 1, "enforce_eager": True,
                       "max_model_len": 2048, "chunked_prefill": False, "max_num_batched_tokens": 4096},
            "chat_template": True,
            "chunk_tokens": 384,
            "sampling": {"temperature": 0.8, "top_p": 0.95, "max_tokens": args.max_tokens},
            "default_tasks": ["distill", "diverse_qa", "knowledge_list"],
            "max_chunks": 1,
            "min_tokens": 1,
            "reject_truncated": False,
        }
    )
    stage = cls(params)
    stage.seed = 0
    stage.setup()  # loads the LLM once; the reference uses the same one
    llm = stage.engine.llm
    requests = [
        r for r in plan(table.column("id").to_pylist(), table.column("text").to_pylist(), stage.route(table),
                        stage.counter, stage.budget, params.min_chunk_tokens, params.max_chunks, stage.seed, chat=stage.chat)
        if r.prompt is not None
    ]
    prompts = [r.prompt for r in requests]
    sampling = stage.engine.params([r.seed for r in requests], params.sampling)
    llm.generate(prompts[:8], sampling[:8], use_tqdm=False)  # warm-up

    raw_best = ours_best = 0.0
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        outs = llm.generate(prompts, sampling, use_tqdm=False)
        raw_s = time.perf_counter() - t0
        raw_tokens = sum(len(o.outputs[0].token_ids) for o in outs)
        raw_best = max(raw_best, raw_tokens / raw_s)

        t0 = time.perf_counter()
        verdict = stage.process(table)
        ours_s = time.perf_counter() - t0
        items = pc.list_flatten(verdict.table.column(params.column).combine_chunks())
        ours_tokens = int(pc.sum(items.field("tokens")).as_py())
        ours_best = max(ours_best, ours_tokens / ours_s)
        print(f"requests={len(prompts)} raw: {raw_tokens} tokens in {raw_s:.2f}s ({raw_tokens / raw_s:.0f} tok/s); "
              f"stage: {ours_tokens} tokens in {ours_s:.2f}s ({ours_tokens / ours_s:.0f} tok/s)")
    stage.engine.close()
    print(f"raw LLM.generate: {raw_best:.0f} tok/s, synthesize stage: {ours_best:.0f} tok/s")
    print(f"ratio={ours_best / raw_best:.2f}")


if __name__ == "__main__":
    main()
