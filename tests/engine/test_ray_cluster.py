"""A real two-node Ray cluster on this machine (``ray start --head`` + ``ray start --address``, loopback only).

Runs on it must give the same bytes as the local executor, survive a SIGKILLed worker process (actor
restart + task retry), and a SIGKILLed driver resumes like any run.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from corpora import BASIC_RECIPE, make_docs, write_parquet
from test_resume import kill_when
from test_run import shard_bytes

pytestmark = [pytest.mark.ray, pytest.mark.slow]

HOST = "127.0.0.2"  # loopback; Ray rewrites 127.0.0.1 to the host's network address
RAY = str(Path(sys.executable).with_name("ray"))
# the `ray` script beside this Python, else the same command through it (so workers import this checkout)
RAY_CLI = [RAY] if Path(RAY).exists() else [sys.executable, "-m", "ray.scripts.scripts"]


def _free_port() -> int:
    for port in range(6400, 7000):  # below Ray's worker port range (10002+)
        with socket.socket() as s:
            try:
                s.bind((HOST, port))
                return port
            except OSError:
                continue
    raise RuntimeError("no free port")


def _alive_nodes(address: str, env: dict) -> int:
    probe = f"import ray; ray.init(address='{address}', _node_ip_address='{HOST}', log_to_driver=False); print(sum(n['Alive'] for n in ray.nodes()))"
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=60)
    return int(out.stdout.strip() or 0)


@pytest.fixture(scope="module")
def cluster():
    env = {**os.environ, "RAY_AUTH_MODE": "token", "RAY_USAGE_STATS_ENABLED": "0"}
    address = f"{HOST}:{_free_port()}"
    common = [f"--node-ip-address={HOST}", "--num-cpus=1", "--block"]
    head = subprocess.Popen(
        [*RAY_CLI, "start", "--head", f"--port={address.split(':')[1]}", "--include-dashboard=false", *common],
        env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    time.sleep(6)
    node = subprocess.Popen(
        [*RAY_CLI, "start", f"--address={address}", *common],
        env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 90
        while _alive_nodes(address, env) < 2:
            assert time.monotonic() < deadline, "the two-node cluster did not come up"
            time.sleep(2)
        yield address, env
    finally:
        for proc in (node, head):
            with_signal = lambda sig: os.killpg(proc.pid, sig)  # noqa: E731
            try:
                with_signal(signal.SIGTERM)
                proc.wait(timeout=20)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    with_signal(signal.SIGKILL)
                except ProcessLookupError:
                    pass


def _curate(recipe: Path, out: Path, address: str, env: dict, *extra: str) -> list[str]:
    return [sys.executable, "-m", "curate.cli", "run", str(recipe), "-o", str(out), "--ray-address", address, "--workers", "2", "--quiet", *extra]


def _actor_pids() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if b"ray::_UnitActor" in (entry / "cmdline").read_bytes():
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


@pytest.fixture(scope="module")
def big_corpus(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("big")
    for i in range(16):
        write_parquet(root / f"s{i:02d}.parquet", make_docs(3000, prefix=f"s{i}-", dup_every=5))
    return root


def _local_then_cluster(recipe: Path, tmp_path: Path, address: str, env: dict) -> Path:
    """Run the recipe locally and on the cluster; assert the same bytes; return the cluster run's folder."""
    local = tmp_path / "local"
    subprocess.run([sys.executable, "-m", "curate.cli", "run", str(recipe), "-o", str(local), "--quiet"], check=True)
    subprocess.run(_curate(recipe, tmp_path / "cluster", address, env), env=env, check=True, timeout=300)
    assert shard_bytes(tmp_path / "cluster") == shard_bytes(local)
    return tmp_path / "cluster"


def test_a_two_node_cluster_gives_the_same_bytes_as_local(cluster, corpus, write_recipe, tmp_path) -> None:
    _local_then_cluster(write_recipe(BASIC_RECIPE.format(input=corpus)), tmp_path, *cluster)


def test_killed_worker_and_killed_driver_still_give_the_same_bytes(cluster, big_corpus, write_recipe, tmp_path) -> None:
    address, env = cluster
    recipe = write_recipe(BASIC_RECIPE.format(input=big_corpus).replace("rows_per_unit: 50", "rows_per_unit: 3000"))
    reference = tmp_path / "reference"
    subprocess.run([sys.executable, "-m", "curate.cli", "run", str(recipe), "-o", str(reference), "--quiet"], check=True)

    # 1. SIGKILL a worker process mid-run: the actor restarts, the unit is retried, the run completes.
    out = tmp_path / "worker-killed"
    run = subprocess.Popen(_curate(recipe, out, address, env), env=env, stderr=subprocess.PIPE)
    stats = out / "_work" / "phase-0" / "stats"
    deadline = time.monotonic() + 120
    while not (stats.exists() and len(list(stats.glob("*.json"))) >= 2 and _actor_pids()):
        assert run.poll() is None and time.monotonic() < deadline, "run ended or stalled before the kill"
        time.sleep(0.01)
    os.kill(_actor_pids()[0], signal.SIGKILL)
    assert run.wait(timeout=300) == 0, run.stderr.read().decode()[-2000:]
    assert shard_bytes(out) == shard_bytes(reference)

    # 2. SIGKILL the driver mid-run: running the same command again resumes.
    out = tmp_path / "driver-killed"
    driver = subprocess.Popen(_curate(recipe, out, address, env), env=env, stderr=subprocess.PIPE)
    kill_when(driver, lambda: stats_dir(out).exists() and len(list(stats_dir(out).glob("*.json"))) >= 3, timeout=180)
    assert not (out / "manifest.json").exists()
    subprocess.run(_curate(recipe, out, address, env), env=env, check=True, timeout=300)
    assert shard_bytes(out) == shard_bytes(reference)


NEAR_DUP_RECIPE = """\
name: near
input:
  paths: ["{input}"]
  rows_per_unit: 50
stages:
  - stage: minhash_dedup
    params: {{partitions: 4}}
"""


def test_minhash_clustering_runs_on_both_nodes_and_gives_the_same_bytes(cluster, corpus, write_recipe, tmp_path) -> None:
    out = _local_then_cluster(write_recipe(NEAR_DUP_RECIPE.format(input=corpus)), tmp_path, *cluster)
    manifest = json.loads((out / "manifest.json").read_text())
    steps = next(s for s in manifest["stages"] if s["name"] == "minhash_dedup")["reduce_steps"]
    assert steps["candidates"]["tasks"] == 4
    assert max(step["nodes"] for step in steps.values()) == 2  # SPREAD put the band shuffle's tasks on both


def stats_dir(out: Path) -> Path:
    return out / "_work" / "phase-0" / "stats"
