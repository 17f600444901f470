"""Driver overhead per work unit: a run over many tiny JSONL files with a trivial recipe.

Each file holds a few short documents, so the stages cost next to nothing and what is left is what the
run pays per unit: planning, the worker's read and shard writes, the driver's bookkeeping and the
manifest. Prints the wall time per unit (``ms_per_unit``, workers included) and the driver's own CPU time
per unit (``driver_cpu_ms_per_unit``: with ``--workers 2`` or more, the units run in other processes), and
the size of manifest.json; ``--profile`` adds the driver's top functions.

Measured on a shared 2-core machine, 5,000 files of 3 documents, ``--workers 2``: 15.2 ms/unit wall and
3.46 ms/unit of driver CPU before the pool kept only a few units in flight (the driver waited on every
pending future after each completion, O(units) per unit), 11.4 and 0.68 after; manifest.json 232 KB → 2.4 KB.

    python bench/many_units.py [--files 2000] [--workers 2] [--profile]

It runs ``--files``/4 files and then ``--files`` files and prints ``ratio=X.XX`` last: the driver's CPU per
unit at the larger size over that at the smaller (~1 when the per-unit overhead does not grow with units).
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


def measure(files: int, workers: int, profile: bool) -> float:
    """One run over `files` tiny files; prints its figures and returns the driver's CPU ms per unit."""
    from curate.engine.recipe import parse_recipe
    from curate.engine.runner import run_recipe
    from curate.io.readers import ColumnMap, find_inputs, plan_units

    with tempfile.TemporaryDirectory() as tmp:
        corpus, out = Path(tmp) / "in", Path(tmp) / "out"
        make_files(corpus, files)
        recipe = parse_recipe(RECIPE % corpus)
        t0 = time.perf_counter()
        units = plan_units(find_inputs([str(corpus)]), ColumnMap())
        plan_s = time.perf_counter() - t0
        profiler = cProfile.Profile() if profile else None
        t0, cpu0 = time.perf_counter(), time.process_time()
        if profiler:
            profiler.enable()
        manifest = run_recipe(recipe, str(out), workers=workers, quiet=True)
        if profiler:
            profiler.disable()
        run_s, cpu_s = time.perf_counter() - t0, time.process_time() - cpu0
        size = (out / "manifest.json").stat().st_size
        per_unit = 1000 * cpu_s / len(units)
        print(f"files={files} units={len(units)} workers={workers} plan_s={plan_s:.2f} run_s={run_s:.2f} "
              f"ms_per_unit={1000 * run_s / len(units):.1f} driver_cpu_ms_per_unit={per_unit:.2f} "
              f"manifest_bytes={size} docs_kept={manifest['totals']['docs_kept']}")
        if profiler:
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
        return per_unit


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--profile", action="store_true", help="print the driver's 25 functions with the most cumulative time")
    args = parser.parse_args()
    small = measure(args.files // 4, args.workers, False)
    large = measure(args.files, args.workers, args.profile)
    print(f"ratio={large / small:.2f}  (driver CPU per unit at {args.files} files / at {args.files // 4}; ~1 when it does not grow)")


if __name__ == "__main__":
    main()
