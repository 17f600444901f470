"""recipes/warc.yaml end to end, as a user runs it: on the shipped crawl, and on JSONL (the recipe contract)."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from curate.cli import main

ROOT = Path(__file__).resolve().parents[2]


def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pattern: str) -> tuple[dict, list[dict], list[dict]]:
    monkeypatch.chdir(ROOT)  # the recipe names its block list relative to the repository
    out = tmp_path / "out"
    assert main(["run", "recipes/warc.yaml", "--input", pattern, "-o", str(out), "--quiet"]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    rejected = pq.read_table(out / "rejected").to_pylist() if (out / "rejected").exists() else []
    return manifest, pq.read_table(out / "data").to_pylist(), rejected


def test_the_shipped_crawl_through_recipes_warc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    manifest, kept, rejected = run(tmp_path, monkeypatch, "data/warc/*.warc.gz")
    steps = {s["name"]: s for s in manifest["stages"]}
    assert [(s["name"], s["docs_in"], s["kept"], s["dropped"]) for s in manifest["stages"]] == [
        ("read", 12, 6, 6), ("html_extract", 6, 5, 1), ("normalize", 5, 5, 0), ("url_filter", 5, 4, 1),
        ("lang_id", 4, 4, 0), ("gopher_quality", 4, 1, 3), ("pii_redact", 1, 1, 0),
    ]  # fmt: skip
    assert steps["html_extract"]["counters"] == {"extracted": 5, "no_text": 1, "passed_through": 0}
    assert steps["normalize"]["counters"]["mojibake"] == 1
    assert steps["normalize"]["counters"]["special_token"] == 1
    assert steps["normalize"]["counters"]["zero_width"] == 1
    assert steps["pii_redact"]["counters"] == {"email": 1, "ip": 0, "phone": 0}
    assert steps["url_filter"]["reasons"] == {"url_filter:blocked_domain=cheap-deals.example": 1}

    # the two Chinese pages are dropped with the English page they mirror (below_alpha_threshold, calibrated presets)
    assert sorted(r["lang"] for r in kept) == ["en"]
    assert set(kept[0]) >= {"id", "text", "url", "crawl_date", "content_type", "warc_record_id", "lang"}
    assert not any("html" in r for r in kept)
    en = next(r["text"] for r in kept if r["lang"] == "en")
    assert en.endswith("That isn’t all. < |endoftext|> Questions: <EMAIL>")
    assert not any(chrome in r["text"] for r in kept for chrome in ("Privacy policy", "隐私政策", "Mailing lists", "tracking"))

    assert len(rejected) == manifest["totals"]["docs_rejected"] == 11
    stages = [r["drop_stage"] for r in rejected]
    assert stages.count("read") == 6 and {"html_extract", "url_filter", "gopher_quality"} <= set(stages)


def test_the_same_recipe_runs_on_plain_text_jsonl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from corpora import write_jsonl

    docs = [
        {"id": "a", "url": "https://debian.org/a", "text": "The quick brown fox jumps over the lazy dog, and then " * 12},
        {"id": "b", "url": "http://cheap-deals.example/b", "text": "Cheap deals for the best price are here for you " * 12},
    ]
    path = write_jsonl(tmp_path / "plain.jsonl", docs)
    manifest, kept, _ = run(tmp_path, monkeypatch, str(path))
    steps = {s["name"]: s for s in manifest["stages"]}
    assert steps["html_extract"]["counters"] == {"passed_through": 2}
    assert steps["url_filter"]["dropped"] == 1
    assert [r["id"] for r in kept] == ["a"]
