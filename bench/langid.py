"""lang_id against raw fastText: same texts, same lid.176 model, one core.

The reference is `model.predict(list_of_texts)` on texts already made single-line (that preparation is
not timed); ours is the `lang_id` stage from an Arrow batch to the `lang` / `lang_score` columns, newline
handling and label parsing included. Prints docs/s for each, the agreement of the labels, and last
`ratio=X.XX` (our docs/s over raw fastText's; goal >= 0.9).

Documents: the whole shipped sample (every language), repeated to --docs.

    python bench/langid.py [--docs 20000] [--repeats 3]
"""

from __future__ import annotations

import os

os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})

import argparse  # noqa: E402
import time  # noqa: E402

import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

pa.set_cpu_count(1)


def sample_texts(n: int) -> list[str]:
    rows = []
    for path in sorted(os.listdir("data/sample")):
        if path.endswith(".parquet"):
            rows += pq.read_table(f"data/sample/{path}", columns=["text"]).column("text").to_pylist()
    return (rows * (n // max(len(rows), 1) + 1))[:n]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=20000, help="documents per run")
    ap.add_argument("--repeats", type=int, default=3, help="runs per side; the best is reported")
    args = ap.parse_args()

    import fasttext

    from curate.stages.lang_id import LangId, bundled_model

    texts = sample_texts(args.docs)
    batches = [pa.table({"text": texts[i : i + 4096]}) for i in range(0, len(texts), 4096)]
    one_line = [t.replace("\n", " ") for t in texts]
    model = fasttext.load_model(str(bundled_model()))
    stage = LangId()
    stage.setup()

    def ours() -> list[str]:
        return [x for b in batches for x in stage.process(b).table.column("lang").to_pylist()]

    def raw() -> list[str]:
        labels, _ = model.predict(one_line)
        return [lab[0].removeprefix("__label__") for lab in labels]

    best = {}
    for name, fn in (("raw", raw), ("ours", ours)) * args.repeats:
        start = time.perf_counter()
        out = fn()
        best[name] = min(best.get(name, float("inf")), time.perf_counter() - start)
        best[name + "_out"] = out
    agree = sum(a == b for a, b in zip(best["ours_out"], best["raw_out"])) / len(texts)
    print(f"raw fastText predict  {len(texts) / best['raw']:9.0f} docs/s")
    print(f"lang_id stage         {len(texts) / best['ours']:9.0f} docs/s   label agreement {agree:.4f}")
    print(f"ratio={best['raw'] / best['ours']:.2f}")


if __name__ == "__main__":
    main()
