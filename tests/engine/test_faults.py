"""Faults of long runs on real processes and files: changed inputs, two runs on one output, a file-size
limit mid-write, a full disk, corrupt state under _work/. Each asserts the exact outcome: refused with the
message, or the reference bytes."""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from corpora import BASIC_RECIPE, make_docs, write_jsonl, write_parquet
from test_resume import kill_when, start
from test_run import shard_bytes

from curate.core.errors import OutputError
from curate.engine.lock import LOCK_NAME, RunLock
from curate.io.shards import write_json

ROOT = Path(__file__).resolve().parents[2]


def run(recipe: Path, out: Path, *extra: str, preexec=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "curate.cli", "run", str(recipe), "-o", str(out), *extra],
        capture_output=True, text=True, preexec_fn=preexec, check=False,
    )


def jsonl_corpus(root: Path, files: int, docs: int) -> Path:
    root.mkdir()
    for i in range(files):
        write_jsonl(root / f"s{i:02d}.jsonl", make_docs(docs, prefix=f"s{i}-", dup_every=5))
    return root


def test_a_resume_whose_input_changed_is_refused_naming_the_file(tmp_path: Path, write_recipe) -> None:
    corpus = jsonl_corpus(tmp_path / "corpus", 12, 3000)
    recipe = write_recipe(BASIC_RECIPE.format(input=corpus))
    out = tmp_path / "out"
    stats = out / "_work" / "phase-0" / "stats"
    kill_when(start(recipe, out), lambda: stats.exists() and len(list(stats.glob("*.json"))) >= 2)
    assert not (out / "manifest.json").exists()

    changed = corpus / "s03.jsonl"  # a shard re-uploaded with one more document
    with changed.open("a", encoding="utf-8") as f:
        f.write(json.dumps({"id": "late", "text": "A document appended after the run started, long enough to keep."}) + "\n")
    refused = run(recipe, out, "--quiet")
    assert refused.returncode == 2
    assert "input files changed since it started" in refused.stderr
    assert f"{changed}: changed (size " in refused.stderr
    assert str(corpus / "s02.jsonl") not in refused.stderr  # only the file that changed is named

    again = run(recipe, out, "--quiet", "--overwrite")  # starts again on the new input
    assert again.returncode == 0, again.stderr
    reference = run(recipe, tmp_path / "reference", "--quiet")
    assert reference.returncode == 0
    assert shard_bytes(out) == shard_bytes(tmp_path / "reference")
    assert json.loads((out / "manifest.json").read_text())["totals"]["docs_in"] == 12 * 3000 + 1


def test_a_model_rebuilt_after_a_run_counts_as_a_changed_input(corpus: Path, write_recipe, tmp_path: Path) -> None:
    model = tmp_path / "quality.ftz"
    shutil.copy(ROOT / "data" / "models" / "quality.ftz", model)
    recipe = write_recipe(f"""
name: scored
input: {{paths: ["{corpus}"]}}
stages:
  - stage: fasttext_score
    params: {{model: {model}, label: hq, column: quality}}
""")
    out = tmp_path / "out"
    assert run(recipe, out, "--quiet").returncode == 0
    assert str(model) in json.loads((out / "inputs.json").read_text())["input_files"]
    assert "already complete" in run(recipe, out).stderr  # unchanged: nothing to do
    shutil.copy(ROOT / "data" / "models" / "reference.ftz", model)  # the model rebuilt: other bytes, other scores
    refused = run(recipe, out, "--quiet")
    assert refused.returncode == 2
    assert f"{model}: changed (size " in refused.stderr
    assert run(recipe, out, "--quiet", "--overwrite").returncode == 0


def test_a_finished_run_whose_input_changed_is_not_called_complete(corpus: Path, write_recipe, tmp_path: Path) -> None:
    recipe = write_recipe(BASIC_RECIPE.format(input=corpus))
    out = tmp_path / "out"
    assert run(recipe, out, "--quiet").returncode == 0
    os.utime(corpus / "c.parquet", (time.time() + 60, time.time() + 60))  # touched: same size, new mtime
    refused = run(recipe, out, "--quiet")
    assert refused.returncode == 2
    assert f"{corpus / 'c.parquet'}: changed (mtime " in refused.stderr


def test_a_second_run_is_refused_and_a_dead_owners_lock_is_taken_over(tmp_path: Path, write_recipe) -> None:
    corpus = jsonl_corpus(tmp_path / "corpus", 12, 3000)
    recipe = write_recipe(BASIC_RECIPE.format(input=corpus))
    out, lock = tmp_path / "out", tmp_path / "out" / LOCK_NAME
    stats = out / "_work" / "phase-0" / "stats"
    first = start(recipe, out)
    kill_when(first, lambda: stats.exists() and len(list(stats.glob("*.json"))) >= 2, signal.SIGSTOP)  # paused mid-run
    second = run(recipe, out, "--quiet")
    first.send_signal(signal.SIGKILL)
    first.wait()
    assert second.returncode == 2
    assert f"is in use by another run: curate run {recipe} (pid {first.pid} on {socket.gethostname()}" in second.stderr

    assert json.loads(lock.read_text())["pid"] == first.pid  # left behind by the killed owner
    third = run(recipe, out, "--quiet")  # its owner is gone: taken over, and the run resumes
    assert third.returncode == 0, third.stderr
    assert not lock.exists()
    assert run(recipe, tmp_path / "reference", "--quiet").returncode == 0
    assert shard_bytes(out) == shard_bytes(tmp_path / "reference")


def test_a_lock_from_another_node_is_refused_while_it_beats_and_taken_over_when_stale(tmp_path: Path) -> None:
    held = {"host": "node-7", "pid": 4242, "token": "t", "what": "curate run web.yaml", "started": time.time(), "heartbeat": time.time()}
    write_json(held, tmp_path / LOCK_NAME)
    with pytest.raises(OutputError, match=r"in use by another run: curate run web\.yaml \(pid 4242 on node-7, last heartbeat 0s ago\)"):
        RunLock(tmp_path, "second", stale_after_s=5).acquire()

    write_json({**held, "heartbeat": time.time() - 10}, tmp_path / LOCK_NAME)  # node-7 stopped beating
    with RunLock(tmp_path, "mine", heartbeat_s=0.05, stale_after_s=5) as mine:
        record = json.loads((tmp_path / LOCK_NAME).read_text())
        assert (record["token"], record["pid"]) == (mine.token, os.getpid())
        time.sleep(0.2)
        assert json.loads((tmp_path / LOCK_NAME).read_text())["heartbeat"] > record["heartbeat"]  # it beats
    assert not (tmp_path / LOCK_NAME).exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # nothing left beside it


def test_a_run_whose_lock_is_taken_over_stops(tmp_path: Path) -> None:
    mine = RunLock(tmp_path, "mine", heartbeat_s=0.05).acquire()
    write_json({"host": "node-2", "pid": 1, "token": "other", "what": "curate run retry", "heartbeat": time.time()}, tmp_path / LOCK_NAME)
    time.sleep(0.3)
    with pytest.raises(OutputError, match=r"lock was taken over by curate run retry \(pid 1 on node-2\)"):
        mine.check()
    mine.release()
    assert json.loads((tmp_path / LOCK_NAME).read_text())["token"] == "other"  # never removes another's lock


LENGTH_ONLY = """\
name: lengths
input:
  paths: ["{input}"]
stages:
  - stage: text_length
    params: {{min_chars: 70}}
"""


def test_a_file_size_limit_mid_write_names_the_path_keeps_no_partial_shard_and_resumes_identically(tmp_path: Path, write_recipe) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    rng = np.random.default_rng(0)
    words = np.array([f"w{i}" for i in range(5000)])
    for i in range(4):  # s02 is large enough that its data/ shard passes the limit; the others are small
        n = 3000 if i == 2 else 40
        docs = [{"id": f"s{i}-{k}", "text": " ".join(rng.choice(words, 60)) if k % 9 else "short"} for k in range(n)]
        write_parquet(corpus / f"s{i:02d}.parquet", docs)
    recipe = write_recipe(LENGTH_ONLY.format(input=corpus))
    out = tmp_path / "out"
    limit = 256 * 1024

    def limited() -> None:  # Python ignores SIGXFSZ, so a write past the limit fails with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    failed = run(recipe, out, "--quiet", preexec=limited)
    assert failed.returncode == 2, failed.stderr
    assert f"curate: error: {out / 'data' / 'part-00002.parquet'}: cannot write, the file-size limit was reached (File too large)" in failed.stderr
    assert not (out / "data" / "part-00002.parquet").exists() and not (out / "rejected" / "part-00002.parquet").exists()
    assert not list(out.rglob("*.tmp"))
    assert not (out / "manifest.json").exists()
    assert all(p.stat().st_size <= limit for p in out.rglob("*") if p.is_file())

    resumed = run(recipe, out, "--quiet")  # space freed (no limit): the run finishes where it stopped
    assert resumed.returncode == 0, resumed.stderr
    assert run(recipe, tmp_path / "reference", "--quiet").returncode == 0
    assert shard_bytes(out) == shard_bytes(tmp_path / "reference")
    assert (out / "data" / "part-00002.parquet").stat().st_size > limit


def test_a_full_disk_is_a_clear_error_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "data" / "part-00000.parquet"
    target.parent.mkdir()
    (target.parent / f"{target.name}.{os.getpid()}.tmp").symlink_to("/dev/full")  # writes there fail: ENOSPC
    import pyarrow as pa

    from curate.io.shards import write_parquet as write_shard

    with pytest.raises(OutputError, match=rf"{target}: cannot write, the disk is full \(No space left on device\)"):
        write_shard(pa.table({"text": ["x" * 100_000]}), target, "none")
    assert list(target.parent.iterdir()) == []


@pytest.mark.slow
def test_corrupt_state_under_work_is_detected_and_redone_to_the_reference_bytes(tmp_path: Path, write_recipe) -> None:
    corpus = jsonl_corpus(tmp_path / "corpus", 12, 3000)
    recipe = write_recipe(BASIC_RECIPE.format(input=corpus))
    out = tmp_path / "out"
    phase0 = out / "_work" / "phase-0"
    kill_when(start(recipe, out), lambda: (phase0 / "stats").exists() and len(list((phase0 / "stats").glob("*.json"))) >= 4)
    # a torn stats file, a truncated staged shard, a flipped byte in a summary
    torn = phase0 / "stats" / "unit-00000.json"
    torn.write_bytes(torn.read_bytes()[:40])
    staged = phase0 / "staged" / "unit-00001.parquet"
    staged.write_bytes(staged.read_bytes()[:-100])
    summary = phase0 / "summary" / "unit-00002.parquet"
    flipped = bytearray(summary.read_bytes())
    flipped[len(flipped) // 2] ^= 0x01
    summary.write_bytes(bytes(flipped))

    data = out / "data"
    second = start(recipe, out)
    kill_when(second, lambda: data.exists() and len(list(data.glob("*.parquet"))) >= 2)
    said = second.stderr.read().decode()
    for unit in (0, 1, 2):
        assert f"redoing unit {unit} of phase 1" in said
    assert f"{torn}: its commit record is unreadable (torn)" in said
    assert "_work/phase-0/staged/unit-00001.parquet: checksum mismatch" in said
    assert "_work/phase-0/summary/unit-00002.parquet: checksum mismatch" in said

    state = next((phase0 / "state").glob("*.parquet"))  # the reduce's committed state, bit-flipped
    flipped = bytearray(state.read_bytes())
    flipped[len(flipped) // 3] ^= 0x10
    state.write_bytes(bytes(flipped))
    finish = run(recipe, out)
    assert finish.returncode == 0, finish.stderr
    assert f"{phase0 / 'state'}: {state.name}: checksum mismatch; reducing again" in finish.stderr
    assert run(recipe, tmp_path / "reference", "--quiet").returncode == 0
    assert shard_bytes(out) == shard_bytes(tmp_path / "reference")


def test_a_run_refused_before_work_leaves_no_output_folder(tmp_path: Path, write_recipe) -> None:
    refused = run(write_recipe(BASIC_RECIPE.format(input=tmp_path / "missing")), tmp_path / "out", "--quiet")
    assert refused.returncode == 2 and "does not exist" in refused.stderr
    assert not (tmp_path / "out").exists()
