"""Throughput of the scoring stages against the plain libraries they wrap, on the same data and models.

1. ``fasttext_score`` (Arrow batch in, score column out) vs raw fastText ``predict`` on the same texts:
   documents per second.
2. ``lm_loss`` (tokenize, window, length-sorted packing, per-document loss) vs a plain torch loop doing
   the same work: the same texts (all within one window), the same batches (sorted longest first, padded
   to each batch's longest, at most ``batch_tokens`` padded tokens: the stage's own ``length_batches``),
   the same model object (float32) and one torch thread; forward and masked cross-entropy. Scored tokens
   per second: the ratio is the stage's overhead (windows, bookkeeping, Arrow), not a batching policy.

Texts are the shipped sample; models are data/models (``python data/build_models.py``). Both sides run in
this process with one torch thread, best of ``--repeats`` interleaved runs, in CPU seconds. For a binary softmax model
``fasttext_score`` asks fastText for the top label only and derives the other (exactly: fastText reports
p + 1e-5 per label); the reference asks for every label's probability, as ``predict(k=-1)`` does. The last line is ``ratio=X.XX``: the smaller of
the two ratios ours / reference (higher is better; the goal is >= 0.9 for both).

    python bench/scorers.py [--docs 20000] [--lm-docs 256]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "data" / "models"


def sample_texts() -> list[str]:
    from curate.io.readers import ColumnMap, find_inputs, plan_units, read_unit

    units = plan_units(find_inputs([str(ROOT / "data" / "sample")]), ColumnMap())
    return [t for u in units for t in read_unit(u, ColumnMap())[0].column("text").to_pylist()]


def best_of(ours, reference, repeats: int) -> tuple[float, float]:
    """Best CPU seconds of each side, runs interleaved so both see the same load on a shared machine."""
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeats):
        for fn, out in ((ours, times[0]), (reference, times[1])):
            start = time.process_time()
            fn()
            out.append(time.process_time() - start)
    return min(times[0]), min(times[1])


def bench_fasttext(texts: list[str], repeats: int) -> float:
    from curate.stages.fasttext_score import FastTextScore, FastTextScoreParams

    stage = FastTextScore(FastTextScoreParams(model=str(MODELS / "quality.ftz"), label="hq"))
    stage.setup()
    table = pa.table({"id": [str(i) for i in range(len(texts))], "text": texts})
    raw = stage._model.model

    def ours() -> None:
        stage.process(table)

    def reference() -> None:
        raw.predict([t.replace("\n", " ") for t in texts], k=-1)

    ours_s, ref_s = best_of(ours, reference, repeats)
    print(f"fasttext_score: {len(texts) / ours_s:,.0f} docs/s   raw fastText predict: {len(texts) / ref_s:,.0f} docs/s"
          f"   ratio={ref_s / ours_s:.2f}")
    return ref_s / ours_s


def bench_lm_loss(texts: list[str], repeats: int, window: int, batch: int) -> float:
    import torch

    from curate.core.stage import Resources
    from curate.scorers._torch import length_batches
    from curate.stages.lm_loss import LMLoss, LMLossParams

    params = LMLossParams(model=str(MODELS / "lm"), window=window, context=64, batch_tokens=batch * window)
    stage = LMLoss(params, Resources(cpus=1))
    stage.setup()  # sets one torch thread, as the reference below uses
    model, tokenizer = stage._scorer.model, stage._scorer.tokenizer
    table = pa.table({"id": [str(i) for i in range(len(texts))], "text": texts})
    ids = tokenizer(texts)["input_ids"]
    scored = sum(len(x) - 1 for x in ids)

    def ours() -> None:
        stage.process(table)

    def reference() -> None:
        enc = tokenizer(texts, add_special_tokens=True, truncation=False)["input_ids"]
        # the stage's batching: longest first, padded to the batch's longest, at most batch_tokens padded tokens
        for rows in length_batches([len(r) for r in enc], len(enc), params.batch_tokens):
            width = len(enc[rows[0]])
            x = torch.zeros((len(rows), width), dtype=torch.long)
            mask = torch.zeros_like(x)
            for i, r in enumerate(rows):
                x[i, : len(enc[r])] = torch.tensor(enc[r])
                mask[i, : len(enc[r])] = 1
            with torch.inference_mode():
                logits = model(input_ids=x, attention_mask=mask).logits
                nll = torch.nn.functional.cross_entropy(
                    logits[:, :-1].float().transpose(1, 2), x[:, 1:], reduction="none"
                ) * mask[:, 1:]
                (nll.sum(1) / mask[:, 1:].sum(1).clamp(min=1)).numpy()

    ours_s, ref_s = best_of(ours, reference, repeats)
    print(f"lm_loss: {scored / ours_s:,.0f} tokens/s   plain torch loop: {scored / ref_s:,.0f} tokens/s"
          f"   ratio={ref_s / ours_s:.2f}")
    return ref_s / ours_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=20_000, help="documents for the fastText comparison")
    parser.add_argument("--lm-docs", type=int, default=256, help="documents for the LM comparison")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per side; the best counts")
    args = parser.parse_args()
    texts = sample_texts()
    many = (texts * (args.docs // len(texts) + 1))[: args.docs]
    ft = bench_fasttext(many, args.repeats)
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(MODELS / "lm"))
    window = 512
    fits = [t for t, n in zip(texts, map(len, tok(texts)["input_ids"])) if n <= window]  # no windowing needed
    rng = np.random.default_rng(0)
    lm_texts = [fits[i] for i in rng.permutation(len(fits))[: args.lm_docs]]
    lm = bench_lm_loss(lm_texts, args.repeats, window, batch=8)
    print(f"ratio={min(ft, lm):.2f}")


if __name__ == "__main__":
    main()
