"""``curate mix`` at two corpus sizes and with 1 and 2 workers: seconds and the peak RSS of the largest process.

Last line: ``ratio=X.XX``, the seconds of one worker over those of the most workers at the largest size.

The corpus is copies of the curated sample's prose (``out/sample``, else the shipped ``data/sample``) with
ids made unique per copy, in files of ``--rows-per-file`` rows; the mixture takes it once as web, a
filtered third as knowledge at 1.5 epochs and another third as synthesis at 4 epochs, tokenized. The
memory of a mix is bounded by a task (``output.rows_per_task`` input rows, or one output shard of
``output.rows_per_shard`` rows), so the peak RSS should not grow with the corpus.

    python bench/mix.py [--docs 4000 40000] [--workers 1 2]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

MIXTURE = """\
name: bench
tokenizer: {{path: {tokenizer}}}
sources:
  - {{name: web, path: {corpus}, category: web}}
  - {{name: know, path: {corpus}, category: knowledge, filter: 'third == 1'}}
  - {{name: synth, path: {corpus}, category: synthesis, filter: 'third == 2', epochs: 4}}
output: {{rows_per_shard: 5000, rows_per_task: 5000, tokenize: true}}
"""


def _prose() -> pa.Table:
    from curate.io.files import find_parquet

    src = "out/sample" if Path("out/sample/data").is_dir() else "data/sample"
    table = pa.concat_tables([pq.read_table(f, columns=["id", "text"]) for f in find_parquet(src)], promote_options="permissive")
    return table.select(["id", "text"]).cast(pa.schema([("id", pa.string()), ("text", pa.string())]))


def make_corpus(root: Path, docs: int, rows_per_file: int) -> None:
    sample = _prose()
    written, copy = 0, 0
    parts = []
    while written < docs:
        take = sample.slice(0, min(sample.num_rows, docs - written))
        ids = pc.binary_join_element_wise(pa.scalar(f"c{copy}"), take.column("id"), "-")
        parts.append(take.set_column(0, "id", ids))
        written, copy = written + take.num_rows, copy + 1
    table = pa.concat_tables(parts)
    table = table.append_column("third", pa.array([i % 3 for i in range(table.num_rows)], pa.int8()))
    for f, start in enumerate(range(0, table.num_rows, rows_per_file)):
        pq.write_table(table.slice(start, rows_per_file), root / f"part-{f:05d}.parquet", row_group_size=1000)


#: Runs a command and prints the largest peak RSS (KiB) of its process tree: a fresh high-water mark per run.
_PEAK = "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"


def run(mixture: Path, out: Path, workers: int) -> tuple[float, float]:
    """Seconds of one ``curate mix`` and the largest peak RSS (MiB) of it and its worker processes."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", _PEAK, sys.executable, "-m", "curate.cli", "mix", str(mixture), "-o", str(out),
                           "--quiet", "--overwrite", "--workers", str(workers)], check=True, capture_output=True, text=True)
    return time.perf_counter() - start, int(done.stdout.split()[-1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, nargs="+", default=[4000, 40000])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--rows-per-file", type=int, default=10000)
    parser.add_argument("--tokenizer", default="data/tokenizer/sample-bpe.json")
    args = parser.parse_args()
    print("  docs  workers  seconds  peak_rss_mib")
    timed: dict[tuple[int, int], tuple[float, float]] = {}
    for docs in args.docs:
        with tempfile.TemporaryDirectory() as tmp:
            corpus = Path(tmp) / "corpus"
            corpus.mkdir()
            make_corpus(corpus, docs, args.rows_per_file)
            mixture = Path(tmp) / "mix.yaml"
            mixture.write_text(MIXTURE.format(tokenizer=Path(args.tokenizer).resolve(), corpus=corpus), encoding="utf-8")
            for workers in args.workers:
                seconds, peak = run(mixture, Path(tmp) / f"out-{workers}", workers)
                timed[docs, workers] = seconds, peak
                print(f"{docs:>6} {workers:>8} {seconds:>8.1f} {peak:>12.0f}", flush=True)
    small, large = min(args.docs), max(args.docs)
    one, most = min(args.workers), max(args.workers)
    print(f"peak RSS growth {small} -> {large} docs ({one} worker): {timed[large, one][1] / timed[small, one][1]:.2f}x")
    # the reference is the same mix on one worker: the ratio is the speed-up of the most workers
    print(f"ratio={timed[large, one][0] / timed[large, most][0]:.2f}")


if __name__ == "__main__":
    main()
