"""Kill the sample recipe at 20 random moments and resume each time; check memory stays flat with size."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from corpora import sample_copies
from engine.test_run import shard_bytes

RECIPE = Path(__file__).resolve().parents[1] / "recipes" / "sample.yaml"


def _cmd(corpus: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "curate.cli", "run", str(RECIPE), "--input", str(corpus), "-o", str(out), "--quiet"]


@pytest.mark.slow
def test_twenty_sigkills_at_random_moments_then_resume_is_byte_identical(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    sample_copies(corpus, copies=1, shards_per_copy=6)
    reference = tmp_path / "reference"
    start = time.monotonic()
    subprocess.run(_cmd(corpus, reference), check=True)
    full = time.monotonic() - start

    rng = random.Random(20)
    out = tmp_path / "killed"
    kills = 0
    while kills < 20:
        proc = subprocess.Popen(_cmd(corpus, out), stderr=subprocess.PIPE)
        try:
            proc.wait(timeout=rng.uniform(0.3, full))
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            kills += 1
            continue
        assert proc.returncode == 0, proc.stderr.read().decode()[-2000:]
        # it finished before the kill: start over on a fresh output so every kill interrupts real work
        out = tmp_path / f"killed-{kills}"
    subprocess.run(_cmd(corpus, out), check=True)

    assert shard_bytes(out) == shard_bytes(reference)
    counts = lambda o: [(s["name"], s["docs_in"], s["kept"], s["dropped"]) for s in json.loads((o / "manifest.json").read_text())["stages"]]
    assert counts(out) == counts(reference)


def _peak_rss_mb(cmd: list[str]) -> float:
    """Peak RSS of one child run, read with wait4 so earlier children do not count."""
    proc = subprocess.Popen(cmd)
    _, status, usage = os.wait4(proc.pid, 0)
    assert status == 0
    return usage.ru_maxrss / 1024


@pytest.mark.slow
def test_peak_memory_does_not_grow_with_the_corpus(tmp_path: Path) -> None:
    one, ten = tmp_path / "x1", tmp_path / "x10"
    sample_copies(one, copies=1)
    sample_copies(ten, copies=10)
    small = _peak_rss_mb(_cmd(one, tmp_path / "o1"))
    large = _peak_rss_mb(_cmd(ten, tmp_path / "o10"))
    # streaming by unit: ten times the data may cost global-stage summaries, not ten times the memory
    assert large <= small * 1.5 + 100, f"peak RSS {small:.0f} MiB for 1x but {large:.0f} MiB for 10x"
