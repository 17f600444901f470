"""A node lost in the middle of a parallel reduce, and a driver killed during one, on a real two-node Ray
cluster (``ray start`` twice on loopback, as tests/engine/test_ray_cluster.py): both runs complete with the
bytes of a local run. The cluster is this module's own, since the test stops one of its nodes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from corpora import make_docs, write_parquet
from test_ray_cluster import HOST, RAY_CLI, _alive_nodes, _curate, _free_port
from test_resume import kill_when
from test_run import shard_bytes

pytestmark = [pytest.mark.ray, pytest.mark.slow]

RECIPE = """\
name: near
input:
  paths: ["{input}"]
  rows_per_unit: 250
stages:
  - stage: minhash_dedup
    params: {{partitions: 8}}
"""


def _start_node(args: list[str], env: dict) -> subprocess.Popen:
    return subprocess.Popen([*RAY_CLI, "start", *args, f"--node-ip-address={HOST}", "--num-cpus=1", "--block"],
                            env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _stop(proc: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    try:
        os.killpg(proc.pid, sig)
        proc.wait(timeout=20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _wait_nodes(address: str, env: dict, count: int) -> None:
    deadline = time.monotonic() + 90
    while _alive_nodes(address, env) != count:
        assert time.monotonic() < deadline, f"the cluster did not reach {count} live nodes"
        time.sleep(2)


@pytest.fixture
def cluster():
    """A head and one worker node; yields (address, env, nodes), where nodes["worker"] may be stopped and replaced."""
    env = {**os.environ, "RAY_AUTH_MODE": "token", "RAY_USAGE_STATS_ENABLED": "0"}
    address = f"{HOST}:{_free_port()}"
    nodes = {"head": _start_node(["--head", f"--port={address.split(':')[1]}", "--include-dashboard=false"], env)}
    time.sleep(6)
    nodes["worker"] = _start_node([f"--address={address}"], env)
    try:
        _wait_nodes(address, env, 2)
        yield address, env, nodes
    finally:
        for name in ("worker", "head"):
            _stop(nodes[name])


def test_a_lost_node_and_a_killed_driver_during_a_reduce_still_give_the_reference_bytes(cluster, write_recipe, tmp_path: Path) -> None:
    address, env, nodes = cluster
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for i in range(3):  # 12 units of 250 rows
        write_parquet(corpus / f"s{i}.parquet", make_docs(1000, prefix=f"s{i}-", dup_every=5), row_group_size=250)
    recipe = write_recipe(RECIPE.format(input=corpus))
    reference = tmp_path / "reference"
    subprocess.run([sys.executable, "-m", "curate.cli", "run", str(recipe), "-o", str(reference), "--quiet"], check=True)

    def reducing(out: Path):
        steps = out / "_work" / "phase-0" / "reduce" / "steps"
        return lambda: steps.exists() and any(len(list(d.glob("*.json"))) >= 1 for d in steps.iterdir())

    # 1. The worker node's raylet and its workers die while the reduce's tasks run
    out = tmp_path / "node-lost"
    run = subprocess.Popen(_curate(recipe, out, address, env), env=env, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 240
    while not reducing(out)():
        assert run.poll() is None and time.monotonic() < deadline, "run ended or stalled before the reduce"
        time.sleep(0.01)
    _stop(nodes["worker"], signal.SIGKILL)
    try:
        assert run.wait(timeout=400) == 0, run.stderr.read().decode()[-3000:]
    finally:  # a run that hangs (an actor waiting for the lost node's CPUs) must not outlive the test
        if run.poll() is None:
            run.kill()
    assert shard_bytes(out) == shard_bytes(reference)

    # 2. With a node back, the driver is killed during the reduce and started again
    nodes["worker"] = _start_node([f"--address={address}"], env)
    _wait_nodes(address, env, 2)
    out = tmp_path / "driver-killed"
    kill_when(subprocess.Popen(_curate(recipe, out, address, env), env=env, stderr=subprocess.PIPE), reducing(out), timeout=240)
    assert not (out / "_work" / "phase-0" / "state").exists() and not (out / "manifest.json").exists()
    again = subprocess.run(_curate(recipe, out, address, env), env=env, capture_output=True, text=True, timeout=400, check=False)
    assert again.returncode == 0, again.stderr[-3000:]
    assert shard_bytes(out) == shard_bytes(reference)
