"""Scaling: memory stays flat and time per document constant as the corpus grows 10×; 2 workers ≈ 2× one.

1. ``exact_dedup`` + ``score_buckets`` through ``curate run`` (local executor, a subprocess) on N and 10·N
   short documents (about 30% exact duplicates, one score column) in units of the same size. For each size:
   seconds per million documents and the peak RSS of the driver and of the largest worker process (every
   process of the run sampled every 50 ms). Goals: peak RSS at 10·N within 1.3× the N run + 100 MiB, time
   per document within 1.3×.
2. The 10·N run again with one worker: ``ratio`` = its time / the two-worker time (goal ≥ 1.8).
3. ``curate mix --tokenize`` (a subprocess, through the CLI only) on M and 10·M prose documents (copies of the
   shipped sample): seconds per million documents and peak RSS.
4. ``--ray``: the shipped sample recipe on Ray with 1 and 2 workers (docs/s, worker peak RSS, ``ray_ratio``).

The last line is ``ratio=X.XX``.

    python bench/scale.py [--docs 100000] [--factor 10] [--mix-docs 4000] [--ray]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import psutil  # comes with ray[default]
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
MIB = 1 << 20
ROWS_PER_UNIT = 50_000
ROWS_PER_SHARD = 200_000

RECIPE = """\
name: scale
input: {{paths: ["{input}"], rows_per_unit: {rows}}}
stages:
  - stage: exact_dedup
  - stage: score_buckets
    params: {{columns: [score]}}
"""

MIXTURE = """\
name: scale-mix
seed: 0
tokenizer: {{path: {tokenizer}, eod_token: "<|endoftext|>"}}
sources:
  - {{name: web, path: {input}, category: web}}
output: {{path: {out}, tokenize: true}}
"""


def short_docs(root: Path, n: int, seed: int = 0) -> None:
    """``n`` short documents in Parquet shards: ~30% repeat an earlier text exactly; a uniform ``score``."""
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True)
    for start in range(0, n, ROWS_PER_SHARD):
        rows = np.arange(start, min(n, start + ROWS_PER_SHARD))
        topic = np.where(rng.random(len(rows)) < 0.3, rng.integers(0, max(1, start + 1), len(rows)), rows)
        text = np.char.add(np.char.add("A short document about topic number ", topic.astype(str)), ", written for the scale bench.")
        table = pa.table({"id": np.char.add("s", rows.astype(str)), "text": text, "score": rng.random(len(rows))})
        pq.write_table(table, root / f"part-{start // ROWS_PER_SHARD:05d}.parquet", row_group_size=ROWS_PER_UNIT)  # units split at row groups


def prose_docs(root: Path, copies: int) -> int:
    """``copies`` of the shipped sample's documents (about 4,000 each), ids unique per copy."""
    sys.path.insert(0, str(ROOT / "tests"))
    from corpora import sample_copies

    return sample_copies(root, copies)


class PeakRSS:
    """Polls a process and all its descendants: peak RSS of the process itself and of its largest child."""

    def __init__(self, pid: int) -> None:
        self.proc = psutil.Process(pid)
        self.driver = self.worker = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        while not self._stop.is_set():
            try:
                self.driver = max(self.driver, self.proc.memory_info().rss)
                for child in self.proc.children(recursive=True):
                    self.worker = max(self.worker, child.memory_info().rss)
            except psutil.Error:  # a process ended between listing and reading
                pass
            self._stop.wait(0.05)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def measured(args: list[str]) -> tuple[float, PeakRSS, subprocess.CompletedProcess]:
    """Run ``python -m curate.cli ARGS``; wall seconds, peak RSS, and the finished process."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "curate.cli", *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    rss = PeakRSS(proc.pid)
    out, err = proc.communicate()
    rss.stop()
    return time.perf_counter() - start, rss, subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def run_dedup(tmp: Path, docs: int, workers: int) -> tuple[float, PeakRSS]:
    corpus = tmp / f"short-{docs}"
    if not corpus.exists():
        short_docs(corpus, docs)
    recipe = tmp / f"scale-{docs}.yaml"
    recipe.write_text(RECIPE.format(input=corpus, rows=ROWS_PER_UNIT), encoding="utf-8")
    seconds, rss, done = measured(["run", str(recipe), "-o", str(tmp / f"out-{docs}-{workers}"), "--workers", str(workers), "--quiet"])
    if done.returncode:
        raise SystemExit(f"curate run failed:\n{done.stderr[-3000:]}")
    return seconds, rss


def run_mix(tmp: Path, copies: int) -> tuple[int, float, PeakRSS] | None:
    corpus = tmp / f"prose-{copies}"
    docs = prose_docs(corpus, copies)
    mixture = tmp / f"mix-{copies}.yaml"
    out = tmp / f"mix-out-{copies}"
    mixture.write_text(MIXTURE.format(tokenizer=ROOT / "data/tokenizer/sample-bpe.json", input=corpus, out=out), encoding="utf-8")
    for extra in (["--quiet"], []):  # tolerant of a CLI without --quiet
        seconds, rss, done = measured(["mix", str(mixture), "-o", str(out), "--tokenize", *extra])
        if done.returncode != 2:
            break
    if done.returncode:
        print(f"mix at {docs:,} documents failed (rc={done.returncode}): {done.stderr.strip()[-500:]}")
        return None
    return docs, seconds, rss


def line(label: str, docs: int, seconds: float, rss: PeakRSS) -> str:
    return (
        f"{label} {docs:>9,} docs: {seconds:6.1f}s = {seconds / docs * 1e6:6.1f} s/M docs, "
        f"driver peak {rss.driver / MIB:5.0f} MiB, largest worker {rss.worker / MIB:5.0f} MiB"
    )


def verdict(name: str, value: float, goal: float) -> str:
    return f"{name} {value:.2f} (goal <= {goal:.2f}): {'ok' if value <= goal else 'MISSED'}"


def ray_comparison(tmp: Path, copies: int) -> None:
    """The shipped sample recipe on Ray, 1 then 2 workers, Ray started once before both (not timed)."""
    import ray

    from curate.engine.executors.ray import LOCAL_NODE_IP
    from curate.engine.recipe import InputSpec, load_recipe
    from curate.engine.runner import run_recipe

    corpus = tmp / "ray-corpus"
    docs = prose_docs(corpus, copies)
    recipe = load_recipe(str(ROOT / "recipes/sample.yaml"))
    recipe = recipe.model_copy(update={"input": InputSpec(paths=[str(corpus)])})
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False, _node_ip_address=LOCAL_NODE_IP)
    rates = {}
    try:
        for workers in (1, 2):
            start = time.perf_counter()
            manifest = run_recipe(recipe, str(tmp / f"ray-out-{workers}"), executor="ray", workers=workers, quiet=True)
            rates[workers] = docs / (time.perf_counter() - start)
            peak = manifest["executor"]["worker_peak_rss_mb"]
            print(f"ray workers={workers}: {docs:,} docs = {rates[workers]:,.0f} docs/s, worker peak RSS {peak:.0f} MiB")
    finally:
        ray.shutdown()
    print(f"ray_ratio={rates[2] / rates[1]:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=100_000, help="short documents in the small dedup + buckets run")
    parser.add_argument("--factor", type=int, default=10, help="how much larger the second run is")
    parser.add_argument("--mix-docs", type=int, default=4_000, help="prose documents in the small mix run (0: skip mix)")
    parser.add_argument("--ray", action="store_true", help="also compare 1 and 2 Ray workers on the sample recipe")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        small, large = args.docs, args.docs * args.factor
        t_small, rss_small = run_dedup(tmp, small, 2)
        print(line("exact_dedup+score_buckets, 2 workers", small, t_small, rss_small))
        t_large, rss_large = run_dedup(tmp, large, 2)
        print(line("exact_dedup+score_buckets, 2 workers", large, t_large, rss_large))
        t_one, rss_one = run_dedup(tmp, large, 1)
        print(line("exact_dedup+score_buckets, 1 worker ", large, t_one, rss_one))
        for who in ("driver", "worker"):
            a, b = getattr(rss_small, who), getattr(rss_large, who)
            print(verdict(f"{who} peak RSS {args.factor}x / 1x", b / a, (1.3 * a + 100 * MIB) / a))
        print(verdict(f"time per document {args.factor}x / 1x", (t_large / large) / (t_small / small), 1.3))
        # the small run is mostly process start-up; the marginal cost is what a larger corpus pays per document
        print(f"marginal cost between the sizes: {(t_large - t_small) / (large - small) * 1e6:.1f} s/M docs")

        if args.mix_docs:
            copies = max(1, round(args.mix_docs / 4000))
            mixes = [run_mix(tmp, c) for c in (copies, copies * args.factor)]
            for result in mixes:
                if result:
                    print(line("curate mix --tokenize", *result))
            if all(mixes):
                (d1, s1, r1), (d2, s2, r2) = mixes
                print(verdict(f"mix peak RSS {args.factor}x / 1x", r2.driver / r1.driver, (1.3 * r1.driver + 100 * MIB) / r1.driver))
                print(verdict(f"mix time per document {args.factor}x / 1x", (s2 / d2) / (s1 / d1), 1.3))

        if args.ray:
            ray_comparison(tmp, 12)
    print(f"ratio={t_one / t_large:.2f}")


if __name__ == "__main__":
    main()
