"""Peak memory of MinHash and paragraph reduce tasks as their input grows: in one pass, and in the default passes.

Writes synthetic rows into real shuffle files (eight senders, as eight unit groups would) and real unit
summaries with signatures, then runs one task per fresh process and reports its peak RSS above its start
(``VmHWM``) and its seconds:

* ``candidates`` — ``minhash_clusters.candidates_task`` over ``n`` band rows (a tenth share a bucket);
* ``count`` — ``paragraph_counts.count_task`` over ``n`` paragraph rows;
* ``verify`` — ``minhash_clusters.verify_send_task`` then ``verify_task`` over ``n // 20`` candidate pairs
  of 400k documents with 128-permutation signatures (eight units of 50k).

``one pass`` raises the budget past ``n``; ``passes`` keeps the module's default (``ROWS_PER_PASS``,
``SIGNED_PER_PASS``). Peak memory should grow with ``n`` in one pass and stay flat in passes. The last line,
``ratio=X.XX``, is the largest peak in one pass over the largest in passes, at the largest ``n``.

    python bench/reduce_passes.py [--rows 4000000 16000000]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

from curate.engine.reduce import node_of
from curate.engine.shuffle import send
from curate.io.shards import write_parquet
from curate.stages.lib import minhash_clusters as mc
from curate.stages.lib import paragraph_counts as pcn
from curate.stages.lib.minhash_columns import SIG, as_blobs

UNITS, UNIT_DOCS, PERM = 8, 50_000, 128


SCRATCH = {"candidates": ("c", "pairs"), "count": ("p", "removals"), "verify": ("v", "verify")}  # folder, output


def write_inputs(root: Path, n: int) -> None:
    """Band and paragraph rows for partition 0, unit summaries with signatures, candidate pairs for group 0."""
    rng = np.random.default_rng(0)
    key = rng.integers(0, 2**63, n, dtype=np.int64).astype(np.uint64)
    key[: n // 10] = key[n // 10 : n // 5]  # a tenth of the rows share a bucket with another
    node = node_of(0, rng.integers(0, 2**20, n))
    for folder, column in (("c/bands", "key"), ("p/paragraphs", "hash")):
        for s in range(8):
            rows = slice(s * n // 8, (s + 1) * n // 8)
            table = pa.table({column: key[rows], "node": node[rows]})
            send(table, np.zeros(table.num_rows, np.int64), root / folder, f"g{s:05d}")
    for unit in range(UNITS):
        sig = rng.integers(0, 2**32, (UNIT_DOCS, PERM), dtype=np.uint64).astype(np.uint32)
        write_parquet(pa.table({SIG: as_blobs(sig), "_row": np.arange(UNIT_DOCS)}), root / f"unit-{unit}.parquet", "none")
    pairs = n // 20
    src, dst = (rng.integers(0, UNITS, pairs) << 32 | rng.integers(0, UNIT_DOCS, pairs) for _ in range(2))
    send(pa.table({"src": src, "dst": dst}), np.zeros(pairs, np.int64), root / "v" / "pairs", "p00000")


def run_task(root: Path, task: str, budget: int | None) -> None:
    """One task in this process, its outputs under ``root/<folder>``; prints ``peak_mib seconds``."""
    fields = {
        "summaries": tuple(str(root / f"unit-{u}.parquet") for u in range(UNITS)),
        "groups": ((0, UNITS),),
        "partitions": 1,
        "scratch": str(root / SCRATCH[task][0]),
        "state": str(root / "state"),
    }
    base, start = _peak_kib(), time.perf_counter()
    if task == "count":
        pcn.ROWS_PER_PASS = budget or pcn.ROWS_PER_PASS
        pcn.count_task(pcn.CountPlan(**fields, min_docs=3, keep_first=True), 0)
    else:
        mc.ROWS_PER_PASS, mc.SIGNED_PER_PASS = budget or mc.ROWS_PER_PASS, budget or mc.SIGNED_PER_PASS
        cp = mc.ClusterPlan(**fields, bands=14, num_perm=PERM, threshold=0.8, verify=True, window=64)
        if task == "candidates":
            mc.candidates_task(cp, 0)
        else:
            mc.verify_send_task(cp, 0)
            mc.verify_task(cp, 0)
    print((_peak_kib() - base) / 1024, time.perf_counter() - start)


def _peak_kib() -> int:
    """This process's peak RSS (``VmHWM``: unlike ``ru_maxrss``, not inherited from the parent across exec)."""
    line = next(x for x in Path("/proc/self/status").read_text().splitlines() if x.startswith("VmHWM:"))
    return int(line.split()[1])


def main() -> None:
    if sys.argv[1:2] == ["--task"]:
        run_task(Path(sys.argv[3]), sys.argv[2], int(sys.argv[4]) or None)
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[4_000_000, 16_000_000])
    args = parser.parse_args()
    print(f"{'task':<11}{'rows':>12}{'mode':>10}{'peak MiB':>10}{'seconds':>9}")
    peaks: dict[str, float] = {}
    for n in args.rows:
        with tempfile.TemporaryDirectory() as tmp:
            write_inputs(Path(tmp), n)
            for task in ("candidates", "count", "verify"):
                rows = n // 20 if task == "verify" else n
                for mode, budget in (("one pass", 10 * n), ("passes", 0)):
                    folder, output = SCRATCH[task]
                    shutil.rmtree(Path(tmp) / folder / output, ignore_errors=True)  # an earlier mode's senders
                    cmd = [sys.executable, __file__, "--task", task, tmp, str(budget)]
                    peak, seconds = map(float, subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.split())
                    print(f"{task:<11}{rows:>12,}{mode:>10}{peak:>10.0f}{seconds:>9.1f}")
                    if n == max(args.rows):
                        peaks[mode] = max(peaks.get(mode, 0.0), peak)
    print(f"ratio={peaks['one pass'] / max(peaks['passes'], 1.0):.2f}")


if __name__ == "__main__":
    main()
