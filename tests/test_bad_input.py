"""Bad input never crashes a run mid-way and never loses a document (the sample recipe's stages)."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from badinput import make_bad_corpus

from curate.cli import main

RECIPE = Path(__file__).resolve().parents[1] / "recipes" / "sample.yaml"


@pytest.fixture(scope="module")
def bad_corpus(tmp_path_factory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("bad")
    return root, make_bad_corpus(root)


@pytest.mark.parametrize("name", [
    "truncated.parquet", "wrong-schema.parquet", "int-text.parquet", "broken-lines.jsonl", "bad-utf8.jsonl",
    "mixed-encodings.jsonl", "empty-texts.jsonl", "huge-doc.jsonl", "nul-bytes.jsonl", "duplicate-ids.jsonl",
])
def test_each_bad_input_is_refused_or_accounted_for(bad_corpus, name: str, tmp_path: Path, capsys) -> None:
    root, cases = bad_corpus
    case = cases[name]
    out = tmp_path / "out"
    code = main(["run", str(RECIPE), "--input", str(root / name), "-o", str(out), "--quiet"])
    err = capsys.readouterr().err
    if case.outcome == "refuse":
        assert code == 2 and name in err, err
        assert not (out / "data").exists(), "refused before any work"
        return
    assert code == 0, err
    manifest = json.loads((out / "manifest.json").read_text())
    read = manifest["stages"][0]
    assert read["name"] == "read" and read["docs_in"] == case.records and read["dropped"] == case.bad
    kept = pq.read_table(out / "data").num_rows
    rejected = pq.read_table(out / "rejected") if (out / "rejected").exists() else None
    assert kept + (rejected.num_rows if rejected is not None else 0) == case.records
    if case.bad:
        reasons = [r for r in rejected.column("drop_reason").to_pylist() if r.startswith("read:")]
        assert len(reasons) == case.bad and all(f"{root / name}:" in r for r in reasons)
