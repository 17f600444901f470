"""The dataset card: no local paths, every column described, sources, funnel with characters, limits, PII."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from huggingface_hub import DatasetCard

from curate.engine.recipe import parse_recipe
from curate.engine.runner import run_recipe
from curate.publish.hub import publish
from curate.report.card_sections import portable_path, portable_recipe


def _run(tmp_path: Path, stages: str) -> Path:
    src = tmp_path / "private-machine-folder" / "corpus"
    src.mkdir(parents=True)
    texts = [f"Write to person{i}@example.org about the {i}th river; it has boats and bridges and long banks." * 2
             for i in range(30)] + ["Write to person0@example.org about the 0th river; it has boats and bridges and long banks." * 2]
    pq.write_table(pa.table({"text": texts, "url": [f"https://x.org/{i}" for i in range(31)]}), src / "docs.parquet")
    recipe = parse_recipe(f"name: card\nlicense: odc-by\ninput: {{paths: ['{src}/*.parquet']}}\n"
                          f"output: {{path: /home/someone/elsewhere}}\nstages:\n{stages}")
    out = tmp_path / "run"
    run_recipe(recipe, str(out), quiet=True)
    return out


def test_card_has_no_local_paths_and_describes_everything(tmp_path: Path) -> None:
    out = _run(tmp_path, "  - stage: lang_id\n  - stage: pii_redact\n  - stage: exact_dedup\n")
    dest = publish(str(out), "org/card-test", dry_run=str(tmp_path / "hub"), say=lambda _: None)
    text = (dest / "README.md").read_text(encoding="utf-8")
    assert str(tmp_path) not in text and "private-machine-folder/corpus/" not in text.replace("…/corpus/", "")
    assert "/home/someone/elsewhere" not in text
    assert "…/corpus/*.parquet" in text  # the input glob, by its last parts only

    card = DatasetCard(text)  # huggingface_hub's parser: the YAML header is valid card metadata
    meta = card.data.to_dict()
    assert meta["license"] == "odc-by" and meta["language"] == ["en"]

    columns = [f.name for f in pq.read_schema(next((out / "data").glob("*.parquet")))]
    section = text.split("## Columns", 1)[1].split("\n## ", 1)[0]
    for name in columns:
        assert f"| `{name}` |" in section, name
    assert "| `lang` | string | step `lang_id` |" in section
    assert "| `url` | string | input |" in section

    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert f"1 input file(s) (parquet): `docs.parquet`; {manifest['totals']['docs_in']:,} documents" in text
    dedup = next(s for s in manifest["stages"] if s["name"] == "exact_dedup")
    pct = 100.0 * dedup["chars_kept"] / dedup["chars_in"]
    assert f"| exact_dedup | 31 | 30 | 96.8% | {dedup['chars_in']:,} | {dedup['chars_kept']:,} | {pct:.1f}% |" in text
    assert "## Limitations" in text and "No decontamination step ran" in text
    pii = text.split("## Personal information", 1)[1]
    assert "`pii_redact` replaced personal data" in pii and "email: 62" in pii  # two addresses in each of 31 documents


def test_card_without_pii_step_says_so(tmp_path: Path) -> None:
    out = _run(tmp_path, "  - stage: text_length\n")
    text = (publish(str(out), "org/c", dry_run=str(tmp_path / "hub"), say=lambda _: None) / "README.md").read_text(encoding="utf-8")
    assert "No PII redaction step ran" in text and "No deduplication step ran" in text


def test_portable_paths() -> None:
    assert portable_path("/tmp/pytest-1/corpus/*.jsonl") == "…/corpus/*.jsonl"
    assert portable_path("/data/models/quality.ftz") == "…/quality.ftz"
    assert portable_path("data/sample/*") == "data/sample/*"
    assert portable_path("hf://datasets/org/x/*.parquet") == "hf://datasets/org/x/*.parquet"
    recipe = {"name": "r", "input": {"paths": ["/abs/in/*.parquet"]}, "output": {"path": "/abs/out", "compression": "zstd"}}
    assert portable_recipe(recipe) == {"name": "r", "input": {"paths": ["…/in/*.parquet"]}, "output": {"compression": "zstd"}}
