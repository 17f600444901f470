"""Mixture builder: epochs give the effective tokens, shares add up, blends are deterministic, bins read back."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

from curate.mix.blend import build_mixture
from curate.mix.config import load_mixture
from curate.mix.megatron import IndexedDataset

WORDS = ["alpha", "beta", "gamma", "delta", "river", "stone", "数据", "中文", "模型", "Wasser", "über", "cat"]


def _text(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 60)))


@pytest.fixture(scope="module")
def tokenizer_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny byte-level BPE trained here, so tests never depend on the shipped tokenizer."""
    rng = random.Random(1)
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=320, special_tokens=["<|endoftext|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator((_text(rng) for _ in range(300)), trainer=trainer)
    path = tmp_path_factory.mktemp("tok") / "tiny.json"
    tok.save(str(path))
    return path


@pytest.fixture(scope="module")
def curated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Curated outputs as other parts write them: a web run (lang, quality_bucket) and a synthesis run (task)."""
    root = tmp_path_factory.mktemp("curated")
    rng = random.Random(7)
    (root / "web" / "data").mkdir(parents=True)
    for f in range(2):
        rows = [{"id": f"w{f}-{i}", "text": _text(rng), "lang": rng.choice(["en", "zh", "de"]),
                 "quality_bucket": rng.randint(0, 19)} for i in range(250)]
        pq.write_table(pa.Table.from_pylist(rows), root / "web" / "data" / f"part-{f:05d}.parquet")
    (root / "synth" / "data").mkdir(parents=True)
    rows = [{"id": f"s{i}", "text": _text(rng), "task": ["wiki_style", "qa", "cot_template"][i % 3]} for i in range(240)]
    pq.write_table(pa.Table.from_pylist(rows), root / "synth" / "data" / "part-00000.parquet")
    return root


def write_mixture(folder: Path, tokenizer: Path, curated: Path, body: str, seed: int = 0) -> Path:
    path = folder / "mixture.yaml"
    path.write_text(
        f"name: test\nseed: {seed}\ntokenizer: {{path: {tokenizer}}}\n" + body.format(web=curated / "web", synth=curated / "synth"),
        encoding="utf-8",
    )
    return path


PHI4 = """\
sources:
  - {{name: web-high, path: {web}, category: web, filter: "quality_bucket >= 10"}}
  - {{name: web-zh, path: "{web}/data/*.parquet", category: knowledge, filter: 'lang == "zh" and quality_bucket < 10'}}
  - {{name: rewrite, path: {synth}, category: rewrite, filter: 'task in ["wiki_style", "qa"]'}}
  - {{name: cot, path: {synth}/data, category: synthesis, filter: 'task == "cot_template"'}}
  - {{name: odd, path: {web}, category: web, filter: 'lang == "de"', epochs: 2.37}}
output: {{rows_per_shard: 400, tokenize: true}}
"""


def _build(tmp_path: Path, tokenizer_path: Path, curated: Path, body: str = PHI4, seed: int = 0, out: str = "out") -> tuple[Path, dict]:
    mix = write_mixture(tmp_path, tokenizer_path, curated, body, seed)
    summary = build_mixture(load_mixture(mix), tmp_path / out, mixture_file=str(mix), quiet=True)
    return tmp_path / out, summary


def _blend(out: Path) -> pa.Table:
    return pa.concat_tables(pq.read_table(p) for p in sorted((out / "data").glob("*.parquet")))


def test_effective_tokens_are_epochs_times_tokens_and_shares_sum_to_one(tmp_path, tokenizer_path, curated):
    out, summary = _build(tmp_path, tokenizer_path, curated)
    rows = {r["source"]: r for r in summary["stages"][0]["sources"]}
    expected = {"web-high": 1.0, "web-zh": 1.5, "rewrite": 4.0, "cot": 10.0, "odd": 2.37}
    for name, epochs in expected.items():
        r = rows[name]
        assert r["epochs"] == pytest.approx(epochs)
        assert r["effective_tokens"] == pytest.approx(epochs * r["tokens"], rel=0.005), name
    assert sum(r["share"] for r in rows.values()) == pytest.approx(1.0, abs=1e-12)
    # The blend holds exactly the documents and tokens the table reports, per source.
    blend = _blend(out)
    counts = dict(zip(*np.unique(blend.column("source").to_numpy(zero_copy_only=False), return_counts=True)))
    assert counts == {n: r["effective_documents"] for n, r in rows.items()}
    assert blend.schema.names[:5] == ["id", "text", "source", "category", "repeat"]
    cot = blend.filter(pa.compute.equal(blend.column("source"), "cot"))
    assert sorted(set(cot.column("repeat").to_pylist())) == list(range(10))
    # weights.csv carries the same table; the source shares add up to 1.
    with open(out / "weights.csv", encoding="utf-8") as f:
        table = list(csv.DictReader(f))
    assert sum(float(r["share"]) for r in table if r["kind"] == "source") == pytest.approx(1.0, abs=1e-5)
    assert [r["category"] for r in table if r["kind"] == "category"] == ["web", "knowledge", "rewrite", "synthesis"]
    total = next(r for r in table if r["kind"] == "total")
    assert int(total["effective_tokens"]) == sum(r["effective_tokens"] for r in rows.values())
    md = (out / "weights.md").read_text(encoding="utf-8")
    assert "| synthesis | cot |" in md and "| **total** |" in md


def test_filters_select_the_right_rows(tmp_path, tokenizer_path, curated):
    out, _ = _build(tmp_path, tokenizer_path, curated)
    web = pq.read_table(curated / "web" / "data").to_pylist()
    synth = pq.read_table(curated / "synth" / "data").to_pylist()
    blend = _blend(out)
    by_source: dict[str, set[str]] = {}
    for doc_id, source in zip(blend.column("id").to_pylist(), blend.column("source").to_pylist()):
        by_source.setdefault(source, set()).add(doc_id)
    assert by_source["web-high"] == {r["id"] for r in web if r["quality_bucket"] >= 10}
    assert by_source["odd"] >= {r["id"] for r in web if r["lang"] == "de"}  # 2.37 epochs: all, twice, and more
    assert by_source["rewrite"] == {r["id"] for r in synth if r["task"] in ("wiki_style", "qa")}
    assert by_source["cot"] == {r["id"] for r in synth if r["task"] == "cot_template"}
    zh = {r["id"] for r in web if r["lang"] == "zh" and r["quality_bucket"] < 10}
    assert by_source["web-zh"] == zh  # 1.5 epochs: every row once, a stable half again


ROUND = """\
sources:
  - {{name: web, path: {web}, category: web}}
  - {{name: rewrite, path: {synth}, category: rewrite, filter: 'task != "cot_template"'}}
  - {{name: cot, path: {synth}, category: synthesis, filter: 'task == "cot_template"', epochs: 3}}
output: {{rows_per_shard: 300, tokenize: true}}
"""


def test_same_seed_same_bytes_other_seed_other_order(tmp_path, tokenizer_path, curated):
    a, _ = _build(tmp_path, tokenizer_path, curated, ROUND, seed=5, out="a")
    b, _ = _build(tmp_path, tokenizer_path, curated, ROUND, seed=5, out="b")
    c, _ = _build(tmp_path, tokenizer_path, curated, ROUND, seed=6, out="c")
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file() and p.parent.name in ("data", "bin"))
    assert len(files) > 3
    for rel in files:
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel
    ta, tc = _blend(a), _blend(c)
    assert ta.column("id").to_pylist() != tc.column("id").to_pylist()
    key = lambda t: sorted(zip(t.column("source").to_pylist(), t.column("id").to_pylist(), t.column("repeat").to_pylist()))
    assert key(ta) == key(tc)


def test_fractional_subset_is_stable_and_seeded(tmp_path, tokenizer_path, curated):
    body = "sources:\n  - {{name: web, path: {web}, category: web, epochs: 0.4}}\n"
    picks = []
    for seed, out in ((1, "x"), (1, "y"), (2, "z")):
        o, summary = _build(tmp_path, tokenizer_path, curated, body, seed=seed, out=out)
        r = summary["stages"][0]["sources"][0]
        assert r["effective_tokens"] == pytest.approx(0.4 * r["tokens"], rel=0.005)
        picks.append(set(_blend(o).column("id").to_pylist()))
    assert picks[0] == picks[1] and picks[0] != picks[2]


def test_bins_read_back_to_the_blend_token_ids(tmp_path, tokenizer_path, curated):
    out, summary = _build(tmp_path, tokenizer_path, curated, ROUND)
    tok = Tokenizer.from_file(str(tokenizer_path))
    eod = tok.token_to_id("<|endoftext|>")
    blend = _blend(out)
    pairs = (out / "data_path.txt").read_text(encoding="utf-8").split()
    weights, prefixes = [float(w) for w in pairs[0::2]], pairs[1::2]
    assert sum(weights) == pytest.approx(1.0, abs=1e-4)
    for r, prefix in zip(summary["stages"][0]["sources"], prefixes):
        ds = IndexedDataset(prefix)
        assert ds.dtype == np.uint16 and Path(prefix).name == f"{r['source']}_text_document"
        texts = [t for t, s in zip(blend.column("text").to_pylist(), blend.column("source").to_pylist()) if s == r["source"]]
        assert len(ds) == len(texts) == r["effective_documents"]
        assert ds.num_tokens == r["effective_tokens"] == r["bin_tokens"]
        for i in (0, len(ds) // 2, len(ds) - 1):
            assert ds[i].tolist() == tok.encode(texts[i], add_special_tokens=False).ids + [eod]


def test_shares_and_budget_instead_of_epochs(tmp_path, tokenizer_path, curated):
    body = """\
total_tokens: 40K
categories:
  web: {{share: 0.5}}
sources:
  - {{name: web, path: {web}, category: web}}
  - {{name: rewrite, path: {synth}, category: rewrite, filter: 'task != "cot_template"', share: 0.3}}
  - {{name: cot, path: {synth}, category: synthesis, filter: 'task == "cot_template"', share: 0.2}}
"""
    _, summary = _build(tmp_path, tokenizer_path, curated, body)
    stage = summary["stages"][0]
    assert stage["tokens"] == pytest.approx(40_000, rel=0.01)
    got = {r["source"]: r["share"] for r in stage["sources"]}
    assert got == pytest.approx({"web": 0.5, "rewrite": 0.3, "cot": 0.2}, abs=0.005)


def test_two_stages_write_their_own_blends(tmp_path, tokenizer_path, curated):
    body = """\
sources:
  - {{name: web, path: {web}, category: web}}
  - {{name: cot, path: {synth}, category: synthesis, filter: 'task == "cot_template"'}}
stages:
  - {{name: stable}}
  - name: anneal
    total_tokens: 5000
    sources: {{web: {{share: 0.4}}, cot: {{share: 0.6}}}}
"""
    out, summary = _build(tmp_path, tokenizer_path, curated, body)
    assert [s["name"] for s in summary["stages"]] == ["stable", "anneal"]
    stable, anneal = summary["stages"]
    assert {r["source"]: r["epochs"] for r in stable["sources"]} == {"web": 1.0, "cot": 10.0}
    assert anneal["tokens"] == pytest.approx(5000, rel=0.05)
    for name in ("stable", "anneal"):
        assert (out / name / "weights.md").is_file()
        assert not (out / name / "data_path.txt").exists() and not (out / name / "bin").exists()  # not tokenized: no .bin to name
        assert len(_blend(out / name)) == summary["stages"][[s["name"] for s in summary["stages"]].index(name)]["documents"]
    with open(out / "weights.csv", encoding="utf-8") as f:
        assert {r["stage"] for r in csv.DictReader(f)} == {"stable", "anneal"}


def test_token_counts_are_cached_per_input_piece(tmp_path, tokenizer_path, curated):
    out, first = _build(tmp_path, tokenizer_path, curated, ROUND)
    assert not any(i["token_cache_hit"] for i in first["inputs"])
    # one count per input file (2 web, 1 synth), though rewrite and cot both read the synth file
    assert len(list((out / ".cache" / "tokens").glob("*.npy"))) == 3
    _, again = _build(tmp_path, tokenizer_path, curated, ROUND)
    assert all(i["token_cache_hit"] for i in again["inputs"])
    assert again["stages"] == first["stages"]
    assert json.loads((out / "mixture.json").read_text())["fingerprint"] == again["fingerprint"]
