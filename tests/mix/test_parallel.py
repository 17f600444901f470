"""``curate mix`` as parallel tasks: the same bytes for any workers and executor, resumable after SIGKILL,
fractional epochs exactly as :mod:`curate.mix.select` defines them, and no tokenizer needed without bins."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import xxhash
from tokenizers import Tokenizer

from curate.core.errors import RecipeError
from curate.core.hashing import splitmix64
from curate.mix import select
from curate.mix.blend import build_mixture
from curate.mix.config import load_mixture
from tests.mix.test_blend import WORDS, tokenizer_path  # noqa: F401  (fixture)


def _corpus(root: Path, files: int, rows: int, seed: int = 3) -> Path:
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    for f in range(files):
        docs = [{"id": f"d{f}-{i}", "text": " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 80))),
                 "kind": ["web", "qa", "cot"][i % 3], "bucket": rng.randint(0, 19)} for i in range(rows)]
        pq.write_table(pa.Table.from_pylist(docs), root / f"part-{f:05d}.parquet", row_group_size=max(1, rows // 2))
    return root


MIX = """\
name: par
seed: {seed}
tokenizer: {{path: {tok}}}
sources:
  - {{name: web, path: {data}, category: web, filter: 'kind == "web" and bucket >= 5'}}
  - {{name: know, path: {data}, category: knowledge, filter: 'kind == "qa"', epochs: 1.37}}
  - {{name: cot, path: {data}, category: synthesis, filter: 'kind == "cot"', epochs: 2.6}}
output: {{rows_per_shard: {shard}, rows_per_task: {task}, tokenize: true, data_path_prefix: /data/blend}}
"""


def _mixture(tmp: Path, tok: Path, data: Path, seed: int = 0, task: int = 150, body: str = MIX, shard: int = 300) -> Path:
    path = tmp / f"mix-{seed}-{task}.yaml"
    path.write_text(body.format(seed=seed, tok=tok, data=data, task=task, shard=shard), encoding="utf-8")
    return path


def blend_bytes(out: Path) -> dict[str, bytes]:
    """Every file a blend consumer reads: shards, bins, the weights table and the data path."""
    names = [p for p in out.rglob("*") if p.is_file() and (p.parent.name in ("data", "bin") or p.name in ("weights.md", "weights.csv", "data_path.txt"))]
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(names)}


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _corpus(tmp_path_factory.mktemp("par") / "data", files=6, rows=300)


def test_one_and_two_workers_give_the_same_bytes(tmp_path, tokenizer_path, data):  # noqa: F811
    mix = _mixture(tmp_path, tokenizer_path, data)
    one = build_mixture(load_mixture(mix), tmp_path / "one", str(mix), quiet=True)
    two = build_mixture(load_mixture(mix), tmp_path / "two", str(mix), quiet=True, workers=2)
    a, b = blend_bytes(tmp_path / "one"), blend_bytes(tmp_path / "two")
    assert len([n for n in a if n.startswith("bin/")]) == 6 and len([n for n in a if n.startswith("data/")]) >= 5
    assert a == b
    assert one["stages"] == two["stages"]
    assert one["run"]["steps"]["send"]["processes"] == 1 and two["run"]["steps"]["send"]["processes"] == 2
    assert one["run"]["pieces"] == 12  # 6 files of 2 row groups of 150 rows, one task reads 150 rows
    # the same mixture read in whole files (6 tasks) gives the same bytes too
    whole = _mixture(tmp_path, tokenizer_path, data, task=50_000)
    assert build_mixture(load_mixture(whole), tmp_path / "whole", str(whole), quiet=True)["run"]["pieces"] == 6
    assert blend_bytes(tmp_path / "whole") == a


def _sizes_and_keys(data: Path, tok_path: Path, source: str, kind: str, seed: int) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The definition's inputs, computed independently: ids, tokens + EOD, subset keys of one source."""
    table = pq.read_table(data)
    rows = [r for r in table.to_pylist() if r["kind"] == kind]
    tok = Tokenizer.from_file(str(tok_path))
    sizes = np.array([len(tok.encode(r["text"], add_special_tokens=False).ids) + 1 for r in rows], dtype=np.int64)
    h = np.array([xxhash.xxh64_intdigest(source.encode() + b"\x00" + r["id"].encode(), seed=seed) for r in rows], dtype=np.uint64)
    return [r["id"] for r in rows], sizes, splitmix64(h ^ np.uint64(0x5DEECE66D2B1A5F3))


def _reference_subset(sizes: np.ndarray, keys: np.ndarray, frac: float, window: int, steps: int) -> set[int]:
    """The fractional epoch as documented: the longest run in key order within T, then first fits in a window."""
    order = np.argsort(keys)
    target = frac * sizes.sum()
    cum = np.cumsum(sizes[order])
    k = int(np.searchsorted(cum, target, side="right"))
    taken, gap = set(order[:k].tolist()), target - (cum[k - 1] if k else 0)
    for j in order[k : k + window]:
        if len(taken) - k == steps:
            break
        if sizes[j] <= gap:
            taken.add(int(j))
            gap -= sizes[j]
    return taken


@pytest.mark.parametrize("seed", [0, 11])
def test_fractional_epochs_are_the_documented_subset(tmp_path, tokenizer_path, data, monkeypatch, seed):  # noqa: F811
    monkeypatch.setattr(select, "FILL_WINDOW", 40)  # a window far smaller than the source: the cut is placed across buckets
    mix = _mixture(tmp_path, tokenizer_path, data, seed=seed)
    summary = build_mixture(load_mixture(mix), tmp_path / "out", str(mix), quiet=True)
    blend = pa.concat_tables(pq.read_table(p) for p in sorted((tmp_path / "out" / "data").glob("*.parquet")))
    rows = {r["source"]: r for r in summary["stages"][0]["sources"]}
    for source, kind, whole, frac in (("know", "qa", 1, 0.37), ("cot", "cot", 2, 0.6)):
        ids, sizes, keys = _sizes_and_keys(data, tokenizer_path, source, kind, seed)
        want = _reference_subset(sizes, keys, frac, 40, select.FILL_STEPS)
        got = {i for i, s, r in zip(blend.column("id").to_pylist(), blend.column("source").to_pylist(), blend.column("repeat").to_pylist())
               if s == source and r == whole}
        assert got == {ids[j] for j in want}
        assert rows[source]["effective_tokens"] == whole * sizes.sum() + sizes[list(want)].sum()
    # The blend is in order-key order across all its shards.
    h = np.array([xxhash.xxh64_intdigest(s.encode() + b"\x00" + i.encode(), seed=seed)
                  for i, s in zip(blend.column("id").to_pylist(), blend.column("source").to_pylist())], dtype=np.uint64)
    order = select.order_keys(h, blend.column("repeat").to_numpy())
    assert np.all(np.diff(order.astype(np.float64)) >= 0) and len(order) == summary["stages"][0]["documents"]


def test_target_tokens_are_hit_within_the_smallest_document_left_out(tmp_path, tokenizer_path, data):  # noqa: F811
    body = MIX.replace("epochs: 1.37", "epochs: {e1}").replace("epochs: 2.6", "epochs: {e2}")
    for seed, e1, e2 in ((0, 0.13, 3.77), (5, 0.5, 0.91), (9, 1.01, 2.333)):
        mix = _mixture(tmp_path, tokenizer_path, data, seed=seed, body=body.replace("{e1}", str(e1)).replace("{e2}", str(e2)))
        summary = build_mixture(load_mixture(mix), tmp_path / f"o{seed}", str(mix), quiet=True, tokenize=False)
        for r in summary["stages"][0]["sources"]:
            target = r["epochs"] * r["tokens"]
            assert 0 <= target - r["effective_tokens"] < 0.001 * target, (seed, r["source"])
        assert summary["stages"][0]["shards"] and not (tmp_path / f"o{seed}" / "data_path.txt").exists()


def test_no_tokenizer_sizes_are_utf8_bytes_and_bins_need_one(tmp_path, data):
    body = "name: bytes\nsources:\n  - {{name: web, path: {data}, category: web}}\n  - {{name: cot, path: {data}, category: rewrite, filter: 'kind == \"cot\"', epochs: 1.5}}\n"
    mix = _mixture(tmp_path, Path("unused"), data, body=body)
    summary = build_mixture(load_mixture(mix), tmp_path / "out", str(mix), quiet=True)
    web = next(r for r in summary["stages"][0]["sources"] if r["source"] == "web")
    assert web["tokens"] == sum(len(t.encode("utf-8")) for t in pq.read_table(data).column("text").to_pylist())
    assert summary["tokenizer"] is None and summary["size_unit"] == "utf8_bytes"
    assert "UTF-8 bytes" in (tmp_path / "out" / "weights.md").read_text() and not (tmp_path / "out" / "data_path.txt").exists()
    with pytest.raises(RecipeError, match="output.tokenize: writing .bin files needs a `tokenizer:`"):
        build_mixture(load_mixture(mix), tmp_path / "out2", str(mix), quiet=True, tokenize=True)
    assert not (tmp_path / "out2").exists()


@pytest.mark.ray
def test_ray_gives_the_same_bytes_as_local(tmp_path, tokenizer_path, data):  # noqa: F811
    mix = _mixture(tmp_path, tokenizer_path, data)
    build_mixture(load_mixture(mix), tmp_path / "local", str(mix), quiet=True)
    summary = build_mixture(load_mixture(mix), tmp_path / "ray", str(mix), quiet=True, executor="ray", workers=2)
    assert summary["run"]["executor"] == "ray" and summary["run"]["steps"]["send"]["nodes"] == 1
    assert blend_bytes(tmp_path / "ray") == blend_bytes(tmp_path / "local")


def kill_when(proc: subprocess.Popen, ready, timeout: float = 120) -> None:
    """SIGKILL ``proc`` as soon as ``ready()`` (as tests/engine/test_resume.py does for ``curate run``)."""
    deadline = time.monotonic() + timeout
    while not ready():
        assert proc.poll() is None, f"mix ended before it could be killed: {proc.stderr.read().decode()}"
        assert time.monotonic() < deadline, "mix made no progress"
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def _start(mix: Path, out: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "curate.cli", "mix", str(mix), "-o", str(out), "--quiet"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@pytest.mark.slow
def test_sigkill_mid_mix_then_the_same_command_gives_the_same_bytes(tmp_path, tokenizer_path):  # noqa: F811
    data = _corpus(tmp_path / "big", files=12, rows=600)
    mix = _mixture(tmp_path, tokenizer_path, data, task=300, shard=1000)  # 24 input tasks
    reference, resumed = tmp_path / "reference", tmp_path / "resumed"
    assert subprocess.run([sys.executable, "-m", "curate.cli", "mix", str(mix), "-o", str(reference), "--quiet"], check=False).returncode == 0

    steps = resumed / "_work" / "reduce" / "steps"
    kill_when(_start(mix, resumed), lambda: len(list((steps / "send").glob("*.json"))) >= 5 if (steps / "send").exists() else False)
    assert not (resumed / "mixture.json").exists()
    done = {p.name: p.read_bytes() for p in (steps / "count").glob("*.json")}
    assert len(done) == 24
    kill_when(_start(mix, resumed), lambda: len(list((steps / "write").glob("*.json"))) >= 3 if (steps / "write").exists() else False)
    assert not (resumed / "mixture.json").exists()
    assert {p.name: p.read_bytes() for p in (steps / "count").glob("*.json")} == done  # finished tasks were not run again
    finish = subprocess.run([sys.executable, "-m", "curate.cli", "mix", str(mix), "-o", str(resumed), "--quiet"], check=False, capture_output=True)
    assert finish.returncode == 0, finish.stderr.decode()
    assert blend_bytes(resumed) == blend_bytes(reference)
    assert not (resumed / "_work").exists() and not list(resumed.rglob("*.tmp"))
