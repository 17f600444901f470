"""Cost of each stage per core: the inputs of docs/scale.md's cluster sizing.

Runs recipes on a copy of the shipped sample with the local executor and one worker, pinned to one core,
and reads each run's manifest: per step, documents in, seconds (map steps: summed over units; global
steps: summarize + apply on the units plus the reduce), and docs/s per core; then the worker's peak RSS
and the number of work units. Reduce steps are timed as part of their stage. Manifest seconds are wall
time; on a shared machine each is scaled by the run's CPU share (process CPU seconds over the steps' wall
seconds), printed with the figures.

Recipes: `recipes/sample.yaml` on `--copies` copies of the sample, and `recipes/cci4-web.yaml` (adds
normalisation, paragraph dedup, PII, decontamination, two fastText scorers and the LM-loss scorer, which
dominates on CPU) on `--web-docs` documents of the same corpus.

The last line is ``ratio=X.XX``: our docs/s over datatrove's on the four heuristic filters of the sample
recipe (gopher_repetition, gopher_quality, fineweb_quality, c4_quality), ours from the manifest, datatrove's
timed here (CPU seconds) on `--ref-docs` documents spread over the corpus.

    python bench/stage_costs.py [--copies 2] [--web-docs 2000] [--ref-docs 1000]
"""

from __future__ import annotations

import os

os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
os.environ.setdefault("POLARS_MAX_THREADS", "1")  # before polars is imported
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import pyarrow as pa  # noqa: E402
import pyarrow.compute as pc  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

pa.set_cpu_count(1)
pa.set_io_thread_count(1)

ROOT = Path(__file__).resolve().parents[1]
HEURISTICS = ("gopher_repetition", "gopher_quality", "fineweb_quality", "c4_quality")


def make_corpus(folder: Path, copies: int) -> int:
    """The sample `copies` times (one Parquet file each, ids unique per copy, all columns)."""
    from curate.io.readers import ColumnMap, find_inputs, plan_units, read_unit

    units = plan_units(find_inputs([str(ROOT / "data" / "sample")]), ColumnMap())
    sample = pa.concat_tables([read_unit(u, ColumnMap())[0] for u in units], promote_options="permissive")
    for k in range(copies):
        ids = pc.binary_join_element_wise(pa.scalar(f"c{k}"), sample.column("id"), "-")
        pq.write_table(sample.set_column(0, "id", ids), folder / f"copy-{k:03d}.parquet")
    return sample.num_rows * copies


def run(recipe_path: Path, corpus: Path, out: Path, limit: int | None) -> dict:
    from curate.engine.recipe import ExecutorSpec, InputSpec, load_recipe
    from curate.engine.runner import run_recipe

    recipe = load_recipe(recipe_path)
    recipe = recipe.model_copy(update={"input": InputSpec(paths=[str(corpus)]), "executor": ExecutorSpec(kind="local", workers=1)})
    start, cpu = time.perf_counter(), time.process_time()
    manifest = run_recipe(recipe, str(out), limit=limit, quiet=True)
    manifest["bench_wall_s"], manifest["bench_cpu_s"] = time.perf_counter() - start, time.process_time() - cpu
    return manifest


def report(title: str, manifest: dict) -> dict[str, float]:
    """Print one line per step; return docs/s per step."""
    total = manifest["totals"]
    print(f"\n{title}: {total['docs_in']:,} docs in, {total['docs_kept']:,} kept, {manifest['units']} units, "
          f"worker peak RSS {manifest['executor']['worker_peak_rss_mb']:.0f} MiB, "
          f"{manifest['bench_wall_s']:.1f} s wall / {manifest['bench_cpu_s']:.1f} s CPU")
    steps_s = sum(s["seconds"] for s in manifest["stages"])
    busy = min(manifest["bench_cpu_s"] / steps_s, 1.0)  # share of the wall time this process had the core
    print(f"  CPU share {busy:.2f}: CPU s = manifest wall s × share (assumes other load was even over the run)")
    print(f"  {'step':24s} {'docs in':>9s} {'wall s':>8s} {'CPU s':>8s} {'docs/s/core':>12s} {'kept':>7s}")
    rates = {}
    for step in manifest["stages"]:
        seconds, docs = step["seconds"] * busy, step["docs_in"]
        rates[step["name"]] = docs / seconds if seconds > 0 else float("inf")
        reduce = f"   ({len(step['reduce_steps'])} reduce steps)" if step.get("reduce_steps") else ""
        print(f"  {step['name']:24s} {docs:9,d} {step['seconds']:8.2f} {seconds:8.2f} {rates[step['name']]:12,.0f} {step['kept']:7,d}{reduce}")
    print(f"  {'all steps':24s} {total['docs_in']:9,d} {steps_s:8.2f} {steps_s * busy:8.2f} {total['docs_in'] / (steps_s * busy):12,.0f}")
    return rates


def datatrove_rates(corpus: Path, n: int) -> dict[str, float]:
    """datatrove's docs/s for each heuristic filter on `n` documents (English defaults), one at a time."""
    from datatrove.data import Document
    from datatrove.pipeline.filters import C4QualityFilter, FineWebQualityFilter, GopherQualityFilter, GopherRepetitionFilter

    texts = pq.read_table(corpus, columns=["text"]).column("text").to_pylist()
    texts = texts[:: max(len(texts) // n, 1)][:n]  # spread over the corpus: every language in its share
    docs = [Document(text=t, id=str(i)) for i, t in enumerate(texts)]
    rates = {}
    for name, cls in zip(HEURISTICS, (GopherRepetitionFilter, GopherQualityFilter, FineWebQualityFilter, C4QualityFilter)):
        f = cls()
        [f.filter(Document(text=d.text, id="w")) for d in docs[:8]]  # warm: spaCy's tokenizer, regexes
        start = time.process_time()
        for d in docs:
            f.filter(d)
        rates[name] = len(docs) / (time.process_time() - start)
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--copies", type=int, default=2, help="copies of the ~4k-document sample")
    parser.add_argument("--web-docs", type=int, default=2000, help="documents for recipes/cci4-web.yaml (0: skip)")
    parser.add_argument("--ref-docs", type=int, default=1000, help="documents for datatrove's filter timings")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus"
        corpus.mkdir()
        n = make_corpus(corpus, args.copies)
        ours = report("recipes/sample.yaml", run(ROOT / "recipes" / "sample.yaml", corpus, Path(tmp) / "sample", None))
        if args.web_docs:
            report("recipes/cci4-web.yaml", run(ROOT / "recipes" / "cci4-web.yaml", corpus, Path(tmp) / "web", args.web_docs))
        theirs = datatrove_rates(corpus, min(args.ref_docs, n))
    print("\nheuristic filters, docs/s per core:  " + "  ".join(f"{k} {ours[k]:,.0f} vs {theirs[k]:,.0f}" for k in HEURISTICS))
    ours_s = sum(1 / ours[k] for k in HEURISTICS)
    theirs_s = sum(1 / theirs[k] for k in HEURISTICS)
    print(f"ratio={theirs_s / ours_s:.2f}")


if __name__ == "__main__":
    main()
