"""A real run killed with SIGKILL mid-phase resumes to the same bytes as an uninterrupted run."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from corpora import BASIC_RECIPE, make_docs, write_parquet
from test_run import shard_bytes


def start(recipe: Path, out: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "curate.cli", "run", str(recipe), "-o", str(out), "--quiet"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def kill_when(proc: subprocess.Popen, ready, sig: int = signal.SIGKILL, timeout: float = 120) -> None:
    """Send ``sig`` (SIGKILL: and wait for the end) once ``ready()`` holds."""
    deadline = time.monotonic() + timeout
    while not ready():
        assert proc.poll() is None, f"run ended before it could be killed: {proc.stderr.read().decode()}"
        assert time.monotonic() < deadline, "run made no progress"
        time.sleep(0.005)
    proc.send_signal(sig)
    if sig == signal.SIGKILL:
        proc.wait()


@pytest.mark.slow
def test_sigkill_in_each_phase_then_resume_gives_identical_shards(tmp_path: Path, write_recipe) -> None:
    corpus = tmp_path / "big"
    corpus.mkdir()
    for i in range(30):
        write_parquet(corpus / f"s{i:02d}.parquet", make_docs(4000, prefix=f"s{i}-", dup_every=5))
    recipe = write_recipe(BASIC_RECIPE.format(input=corpus).replace("rows_per_unit: 50", "rows_per_unit: 4000"))
    reference, resumed = tmp_path / "reference", tmp_path / "resumed"
    assert subprocess.run([sys.executable, "-m", "curate.cli", "run", str(recipe), "-o", str(reference), "--quiet"]).returncode == 0

    phase0 = resumed / "_work" / "phase-0" / "stats"
    kill_when(start(recipe, resumed), lambda: phase0.exists() and len(list(phase0.glob("*.json"))) >= 5)
    assert not (resumed / "manifest.json").exists()
    data = resumed / "data"
    kill_when(start(recipe, resumed), lambda: data.exists() and len(list(data.glob("*.parquet"))) >= 5)
    assert not (resumed / "manifest.json").exists()
    finish = subprocess.run([sys.executable, "-m", "curate.cli", "run", str(recipe), "-o", str(resumed), "--quiet"])
    assert finish.returncode == 0

    assert shard_bytes(resumed) == shard_bytes(reference)
    counts = lambda out: [(s["name"], s["docs_in"], s["kept"], s["dropped"]) for s in json.loads((out / "manifest.json").read_text())["stages"]]
    assert counts(resumed) == counts(reference)
    assert not list(resumed.rglob("*.tmp"))


NEAR_DUP_RECIPE = """\
name: near
input:
  paths: ["{input}"]
  rows_per_unit: 250
stages:
  - stage: minhash_dedup
    params: {{partitions: 16}}
"""


@pytest.mark.slow
def test_sigkill_during_a_parallel_reduce_resumes_it_to_the_same_bytes(tmp_path: Path, write_recipe) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for i in range(3):  # 12 units of 250 rows (one per row group)
        write_parquet(corpus / f"s{i}.parquet", make_docs(1000, prefix=f"s{i}-", dup_every=5), row_group_size=250)
    recipe = write_recipe(NEAR_DUP_RECIPE.format(input=corpus))
    reference, resumed = tmp_path / "reference", tmp_path / "resumed"
    assert subprocess.run([sys.executable, "-m", "curate.cli", "run", str(recipe), "-o", str(reference), "--quiet"]).returncode == 0

    steps = resumed / "_work" / "phase-0" / "reduce" / "steps"
    kill_when(start(recipe, resumed), lambda: (steps / "candidates").exists() and len(list((steps / "candidates").glob("*.json"))) >= 4)
    assert not (resumed / "_work" / "phase-0" / "state").exists() and not (resumed / "manifest.json").exists()
    done_before = {p.name: p.read_bytes() for p in (steps / "bands").glob("*.json")}
    units = len(list((resumed / "_work" / "phase-0" / "summary").glob("*.parquet")))
    assert len(done_before) == units > 1  # one band-shuffle task per unit group (here, per unit): all finished

    finish = start(recipe, resumed)
    seen: dict[str, bytes] = {}
    while finish.poll() is None:  # the records of finished tasks are kept, not rewritten, until the commit
        if (steps / "candidates").exists():
            seen = {p.name: p.read_bytes() for p in (steps / "bands").glob("*.json")} or seen
        time.sleep(0.01)
    assert finish.returncode == 0, finish.stderr.read().decode()
    assert seen == done_before
    assert shard_bytes(resumed) == shard_bytes(reference)
