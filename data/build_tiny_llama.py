"""Build ``data/models/tiny-llama/``: the tiny Llama and tokenizer that the synthesis sample generates with.

Why: synthesis (``recipes/synth-sample.yaml``, ``tests/synth/``, ``bench/synth.py``) must run vLLM, the
OpenAI-compatible server and the transformers fallback end to end on a CPU, and nothing may be downloaded.
This model has the shape of the small GPT-S-1.4M-like Llamas (hidden 128, 4 heads of 32 — CPU attention
kernels reject a head size of 16 — 2 layers, tied embeddings), a 2,048-token byte-level BPE trained here on
the shipped sample, and a few hundred steps of next-token training so that it emits word-like pieces. What
it writes is still gibberish: the synthesis pipeline must run anyway, and post-processing keeps or rejects
each output by its rules. The same inputs give the same bytes (one torch thread, fixed seed); under 5 MB.

    python data/build_tiny_llama.py            # writes data/models/tiny-llama/
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
from pathlib import Path

import pyarrow as pa

ROOT = Path(__file__).resolve().parent
SEED = 0

# A plain chat template, so chat-style requests (``/v1/chat/completions``, ``chat: true``) work too.
CHAT_TEMPLATE = (
    "{% for m in messages %}<s>{{ m['role'] }}\n{{ m['content'] }}</s>\n{% endfor %}"
    "{% if add_generation_prompt %}<s>assistant\n{% endif %}"
)


def sample_texts(sample: Path) -> list[str]:
    """The clean documents of the shipped sample, in id order (junk left out)."""
    from curate.io.readers import ColumnMap, find_inputs, plan_units, read_unit

    tables = [read_unit(u, ColumnMap())[0] for u in plan_units(find_inputs([str(sample)]), ColumnMap())]
    docs = pa.concat_tables(tables, promote_options="permissive").select(["id", "text", "source"]).to_pylist()
    return [d["text"] for d in sorted(docs, key=lambda d: d["id"]) if d["source"] != "synthetic-junk"]


def format_examples(texts: list[str], every: int = 1) -> list[str]:
    """Answers in the shapes the synthesis tasks ask for, cut from the sample's own sentences.

    Trained on alongside the prose so that the tiny model's gibberish sometimes comes in the right shape
    (Question/Answer pairs, ``- `` lists, ``<think>`` blocks): post-processing then has answers to keep
    as well as to reject. Real models need none of this.
    """
    out = []
    for i, text in enumerate(texts[::every]):
        s = [x.strip() for x in re.split(r"(?<=[.!?])\s+", " ".join(text.split())) if 8 <= len(x.strip()) <= 160][:5]
        if len(s) < 4:
            continue
        shape = i % 3
        if shape == 0:
            out.append(f"Question: {s[0]}\n<think>\n{s[1]} {s[2]}\n</think>\nAnswer: {s[3]}")
        elif shape == 1:
            out.append(f"Question: {s[0]}\nAnswer: {s[1]}\nQuestion: {s[2]}\nAnswer: {s[3]}")
        else:
            out.append("\n".join(f"- {x}" for x in s))
    return out


def build(sample: Path, out: Path, steps: int) -> dict:
    import torch
    from demo_models import build_tokenizer, save, tiny_llama, train_lm

    torch.set_num_threads(1)  # one thread: bit-identical weights on every run
    texts = sample_texts(sample)
    tokenizer = build_tokenizer(texts, vocab_size=2048)
    tokenizer.chat_template = CHAT_TEMPLATE
    tokenizer.model_max_length = 1024
    model = tiny_llama(tokenizer, hidden=128, layers=2, heads=4, context=1024, seed=SEED)
    loss = train_lm(model, tokenizer, texts + format_examples(texts), steps=steps, seq=128, batch=16, seed=SEED) if steps else float("nan")
    if out.exists():
        shutil.rmtree(out)
    save(model, tokenizer, out)
    summary = {
        "parameters": sum(p.numel() for p in model.parameters()),
        "final_train_loss": round(loss, 4),
        "train_steps": steps,
        "bytes": sum(p.stat().st_size for p in out.rglob("*") if p.is_file()),
    }
    (out / "README.json").write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sample", type=Path, default=ROOT / "sample", help="the sample corpus directory")
    parser.add_argument("--out", type=Path, default=ROOT / "models" / "tiny-llama", help="where the model goes")
    parser.add_argument("--steps", type=int, default=300, help="training steps (0: leave it untrained)")
    args = parser.parse_args()
    print(json.dumps(build(args.sample, args.out, args.steps), indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
