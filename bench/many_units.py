"""Driver overhead per work unit: a run over many tiny JSONL files with a trivial recipe.

Each file holds a few short documents, so the stages cost next to nothing and what is left is what the
run pays per unit: planning, the worker's read and shard writes, the driver's bookkeeping and the
manifest. Prints the seconds of each part and ``ms_per_unit``; ``--profile`` adds the top functions.

    python bench/many_units.py [--files 2000] [--workers 1] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import tempfile
import time
from pathlib import Path

RECIPE = "name: many\ninput: {paths: ['%s']}\nstages:\n  - stage: text_length\n    params: {min_chars: 5}\n"


def make_files(root: Path, files: int, docs_per_file: int = 3) -> None:
    root.mkdir(parents=True, exist_ok=True)
    for f in range(files):
        lines = (json.dumps({"id": f"f{f}-{d}", "text": f"document {d} of file {f}, short"}) for d in range(docs_per_file))
        (root / f"shard-{f:06d}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--profile", action="store_true", help="print the 25 functions with the most cumulative time")
    args = parser.parse_args()

    from curate.engine.recipe import parse_recipe
    from curate.engine.runner import run_recipe
    from curate.io.readers import ColumnMap, find_inputs, plan_units

    with tempfile.TemporaryDirectory() as tmp:
        corpus, out = Path(tmp) / "in", Path(tmp) / "out"
        make_files(corpus, args.files)
        recipe = parse_recipe(RECIPE % corpus)
        t0 = time.perf_counter()
        units = plan_units(find_inputs([str(corpus)]), ColumnMap())
        plan_s = time.perf_counter() - t0
        profiler = cProfile.Profile() if args.profile else None
        t0, cpu0 = time.perf_counter(), time.process_time()
        if profiler:
            profiler.enable()
        manifest = run_recipe(recipe, str(out), workers=args.workers, quiet=True)
        if profiler:
            profiler.disable()
        run_s, cpu_s = time.perf_counter() - t0, time.process_time() - cpu0
        size = (out / "manifest.json").stat().st_size
        print(f"files={args.files} units={len(units)} workers={args.workers} plan_s={plan_s:.2f} run_s={run_s:.2f} "
              f"ms_per_unit={1000 * run_s / len(units):.1f} driver_cpu_ms_per_unit={1000 * cpu_s / len(units):.2f} manifest_bytes={size} docs_kept={manifest['totals']['docs_kept']}")
        if profiler:
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)


if __name__ == "__main__":
    main()
