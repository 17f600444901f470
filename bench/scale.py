"""Scaling on Ray: the sample recipe on a larger copy of the sample, with 1 and then 2 workers.

Prints docs/s and the peak RSS of a worker for each, and last `ratio=X.XX` (2 workers / 1 worker; the
goal on this 2-core machine is >= 1.7). Ray starts once, before both runs, so its start-up is not timed.

    python bench/scale.py [--copies 12] [--recipe recipes/sample.yaml]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq


def make_corpus(root: Path, copies: int) -> int:
    """`copies` shards, each the whole shipped sample with ids made unique per copy."""
    from curate.io.readers import ColumnMap, find_inputs, plan_units, read_unit

    units = plan_units(find_inputs(["data/sample"]), ColumnMap())
    sample = pa.concat_tables([read_unit(u, ColumnMap())[0] for u in units], promote_options="permissive")
    for i in range(copies):
        ids = pc.binary_join_element_wise(pa.scalar(f"c{i}"), sample.column("id"), "-")
        pq.write_table(sample.set_column(0, "id", ids), root / f"copy-{i:03d}.parquet")
    return sample.num_rows * copies


def timed_run(recipe, corpus: Path, out: Path, workers: int) -> tuple[float, dict]:
    from curate.engine.runner import run_recipe

    start = time.perf_counter()
    manifest = run_recipe(recipe, str(out), executor="ray", workers=workers, quiet=True)
    return time.perf_counter() - start, manifest


def main() -> None:
    import ray

    from curate.engine.executors.ray import LOCAL_NODE_IP
    from curate.engine.recipe import InputSpec, load_recipe

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--copies", type=int, default=12, help="copies of the sample (one shard each)")
    parser.add_argument("--recipe", default="recipes/sample.yaml")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus"
        corpus.mkdir()
        docs = make_corpus(corpus, args.copies)
        recipe = load_recipe(args.recipe)
        recipe = recipe.model_copy(update={"input": InputSpec(paths=[str(corpus)])})
        ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False, _node_ip_address=LOCAL_NODE_IP)
        rates = {}
        try:
            for workers in (1, 2):
                seconds, manifest = timed_run(recipe, corpus, Path(tmp) / f"out-{workers}", workers)
                rates[workers] = docs / seconds
                peak = manifest["executor"]["worker_peak_rss_mb"]
                print(f"workers={workers}: {docs:,} docs in {seconds:.1f}s = {rates[workers]:,.0f} docs/s, worker peak RSS {peak:.0f} MiB")
        finally:
            ray.shutdown()
    print(f"ratio={rates[2] / rates[1]:.2f}")


if __name__ == "__main__":
    main()
