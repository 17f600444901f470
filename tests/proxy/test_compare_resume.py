"""A comparison killed mid-training is finished by running the same command again, from each run's checkpoint."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest


def _config(shard: str, out, steps: int) -> str:
    return json.dumps({
        "name": "resume",
        "output": str(out),
        "baseline": "clean",
        "candidates": {"clean": [shard], "again": [shard]},
        "tokenizer": {"vocab_size": 320},
        "model": {"hidden": 32, "layers": 1, "heads": 2, "kv_heads": 1, "intermediate": 64, "context": 32},
        "train": {"tokens": 4 * 32 * steps, "batch_size": 4, "lr": 0.01, "log_every": 5, "checkpoint_every": 1},
        "seeds": [0],
        "eval": {"paths": [shard], "heldout_fraction": 0.2, "tasks": [], "bootstrap": 20},
    })  # JSON is YAML


def _compare(config) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "curate.cli", "proxy", "compare", str(config)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


@pytest.mark.slow
def test_a_compare_killed_mid_training_continues_from_the_checkpoint_to_the_same_numbers(shard, tmp_path) -> None:
    steps = 120
    reference_cfg = tmp_path / "reference.yaml"
    reference_cfg.write_text(_config(shard, tmp_path / "reference", steps))
    assert _compare(reference_cfg).wait(timeout=600) == 0

    config = tmp_path / "killed.yaml"
    config.write_text(_config(shard, tmp_path / "killed", steps))
    state = tmp_path / "killed" / "runs" / "clean" / "seed0" / "checkpoint" / "state.json"
    proc = _compare(config)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:  # kill once the first run is part-trained
        try:
            if 5 <= json.loads(state.read_text())["step"] < steps:
                break
        except (OSError, ValueError, KeyError):
            pass
        assert proc.poll() is None, "the comparison ended before it could be killed"
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    killed_at = json.loads(state.read_text())["step"]
    assert 0 < killed_at < steps and not (state.parents[1] / "eval.json").exists()

    assert _compare(config).wait(timeout=600) == 0
    resumed = json.loads((tmp_path / "killed" / "report.json").read_text())
    reference = json.loads((tmp_path / "reference" / "report.json").read_text())
    for name in ("clean", "again"):  # bit-identical training, so identical held-out numbers
        assert resumed["metrics"]["bpb/all"][name]["seeds"] == reference["metrics"]["bpb/all"][name]["seeds"]
    log = json.loads((tmp_path / "killed" / "runs" / "clean" / "seed0" / "eval.json").read_text())
    assert log["history"][-1]["step"] == steps
