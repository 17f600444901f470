"""``curate report``: plots and an HTML page from real run outputs, finished and partial."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from corpora import BASIC_RECIPE, make_docs

from curate.core.errors import OutputError
from curate.engine.recipe import load_recipe, parse_recipe
from curate.engine.runner import run_recipe
from curate.engine.worker import RunPaths, Worker
from curate.io.readers import ColumnMap, find_inputs, plan_units
from curate.report.html import build_report, open_run

ROOT = Path(__file__).resolve().parents[2]
LANGS = ["en", "zh", "de", "fr"]
DOMAINS = ["news", "code", "forum"]

RECIPE = BASIC_RECIPE.replace("name: basic", "name: report-test").replace("rows_per_unit: 50", "rows_per_unit: 100")


def write_scored_input(root: Path, n: int = 400) -> Path:
    """Generated documents that already carry the columns lang_id / score_buckets / domain_tag would add."""
    docs = make_docs(n, dup_every=9)
    rng = np.random.default_rng(0)  # random, so no language goes wholly with a length the filters drop
    table = pa.Table.from_pylist(docs).append_column("lang", pa.array([LANGS[k] for k in rng.integers(0, 4, n)]))
    table = table.append_column("lang_score", pa.array(rng.uniform(0.3, 1.0, n), pa.float32()))
    table = table.append_column("quality", pa.array(rng.normal(0.0, 1.0, n)))
    table = table.append_column("quality_bucket", pa.array([i % 20 for i in range(n)], pa.int16()))
    table = table.append_column("domain", pa.array([DOMAINS[i % 3] for i in range(n)]))
    root.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, root / "scored.parquet", row_group_size=100)
    return root / "scored.parquet"


def build_run(tmp: Path) -> Path:
    """A finished real run (4 units, filters and a dedup) over generated, pre-scored documents."""
    src = write_scored_input(tmp / "in")
    out = tmp / "out"
    run_recipe(parse_recipe(RECIPE.format(input=src)), str(out), quiet=True)
    return out


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_run(tmp_path_factory.mktemp("report"))


def _images(page: Path) -> list[str]:
    return re.findall(r'<img src="([^"]+)"', page.read_text(encoding="utf-8"))


def test_report_draws_every_plot_the_data_allows(finished_run: Path) -> None:
    page = build_report(finished_run)
    assert page == finished_run / "report" / "index.html"
    images = _images(page)
    for name in ("funnel.png", "drop_reasons.png", "lang.png", "lang_removal.png", "domain.png", "score_lang_score.png",
                 "score_quality.png", "characters_per_quality_bucket.png"):
        assert name in images
    for name in images:  # every referenced PNG exists and is a real PNG
        data = (page.parent / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5_000, name
    assert "Partial run" not in page.read_text(encoding="utf-8")


def test_report_numbers_match_the_run(finished_run: Path) -> None:
    build_report(finished_run)
    summary = json.loads((finished_run / "report" / "report.json").read_text(encoding="utf-8"))
    kept = pl.read_parquet(finished_run / "data" / "*.parquet")
    rejected = pl.read_parquet(finished_run / "rejected" / "*.parquet")
    assert sum(summary["lang_counts"].values()) == kept.height
    assert summary["lang_counts"] == dict(kept["lang"].value_counts().iter_rows())
    removed = dict(rejected["lang"].value_counts().iter_rows())
    assert summary["lang_removal"] == {
        lang: {"kept": summary["lang_counts"].get(lang, 0), "removed": removed.get(lang, 0)} for lang in LANGS
    }
    per_stage = {stage: sum(n for _, n in rows) for stage, rows in summary["drop_reasons"].items()}
    assert per_stage == dict(rejected["drop_stage"].value_counts().iter_rows())
    assert [k for k, _ in summary["drop_reasons"]["exact_dedup"]] == ["dup_of"]  # per-document ids folded
    buckets = summary["per_bucket"]["quality_bucket"]
    chars = kept.with_columns(pl.col("text").str.len_chars().alias("n")).group_by("quality_bucket").agg(pl.len(), pl.col("n").sum())
    assert {str(b): [d, c] for b, d, c in chars.iter_rows()} == buckets
    hist = summary["histograms"]["quality"]
    assert sum(hist["counts"]) == kept.height and hist["nulls"] == 0


def test_report_reads_only_the_columns_it_needs(finished_run: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[tuple[str, ...]] = []
    original = pq.ParquetFile.iter_batches

    def recording(self, *args, columns=None, **kw):  # noqa: ANN001, ANN003, ANN202  (test spy on pyarrow)
        asked.append(tuple(columns) if columns is not None else ("<all>",))
        return original(self, *args, columns=columns, **kw)

    monkeypatch.setattr(pq.ParquetFile, "iter_batches", recording)
    monkeypatch.setattr(pq, "read_table", lambda *a, **k: pytest.fail("report must stream columns, not read tables"))
    build_report(finished_run)
    assert asked and ("<all>",) not in asked
    with_text = [cols for cols in asked if "text" in cols]
    assert with_text and all(set(cols) <= {"text", "quality_bucket"} for cols in with_text)


def test_report_tokens_with_a_tokenizer(finished_run: Path, tmp_path: Path) -> None:
    from tokenizers import Tokenizer, models, pre_tokenizers

    tok = Tokenizer(models.WordLevel({"[UNK]": 0}, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.save(str(tmp_path / "tok.json"))
    page = build_report(finished_run, tokenizer=str(tmp_path / "tok.json"))
    assert "tokens_per_quality_bucket.png" in _images(page)
    summary = json.loads((finished_run / "report" / "report.json").read_text(encoding="utf-8"))
    kept = pl.read_parquet(finished_run / "data" / "*.parquet", columns=["text"])
    words = sum(len(re.findall(r"\w+|[^\w\s]+", t)) for t in kept["text"].to_list())
    assert sum(v[1] for v in summary["per_bucket"]["quality_bucket"].values()) == words


def test_report_on_a_partial_run(tmp_path: Path) -> None:
    """What a killed run leaves: phase 0 committed for two of four units, no manifest."""
    src = write_scored_input(tmp_path / "in")
    out = tmp_path / "out"
    recipe = parse_recipe(RECIPE.format(input=src))
    units = plan_units(find_inputs(recipe.input.paths), ColumnMap(), "auto", recipe.input.rows_per_unit)
    recipe = recipe.model_copy(update={"input": recipe.input.model_copy(update={"paths": find_inputs(recipe.input.paths)})})
    (out / "_work").mkdir(parents=True)
    (out / "_work" / "run.json").write_text(json.dumps({"fingerprint": "x", "recipe": recipe.name, "units": len(units)}))
    worker = Worker(recipe, str(out))
    for unit in units[:2]:
        worker.run(0, unit)
    paths = RunPaths(out)
    assert not paths.manifest.exists() and paths.staged(0, 0).exists()

    page = build_report(out)
    text = page.read_text(encoding="utf-8")
    assert "Partial run" in text and "0 of 4 unit(s) are finished" in text
    for name in ("funnel.png", "lang.png", "characters_per_quality_bucket.png"):
        assert name in _images(page) and (page.parent / name).exists()
    view = open_run(out)
    assert view.partial and len(view.kept) == 2
    summary = json.loads((out / "report" / "report.json").read_text(encoding="utf-8"))
    staged_rows = sum(pq.read_metadata(p).num_rows for p in view.kept)
    assert sum(summary["lang_counts"].values()) == staged_rows
    read = next(s for s in summary["steps"] if s["name"] == "read")
    assert read["docs_in"] == 200  # two units of 100 rows


@pytest.mark.skipif(not (ROOT / "data" / "sample").is_dir(), reason="data/sample is not built")
def test_report_on_the_sample_run(tmp_path: Path) -> None:
    """The shipped sample recipe, run for real, renders with a plot for every column it has."""
    out = tmp_path / "sample"
    recipe = load_recipe(ROOT / "recipes" / "sample.yaml")
    paths = [str(ROOT / p) for p in recipe.input.paths]
    recipe = recipe.model_copy(update={"input": recipe.input.model_copy(update={"paths": paths})})
    run_recipe(recipe, str(out), quiet=True)
    page = build_report(out)
    images = _images(page)
    assert images[0] == "funnel.png" and all((page.parent / name).is_file() for name in images)
    fields = {f.name: f.type for p in (out / "data").glob("*.parquet") for f in pq.read_schema(p)}
    for name, dtype in fields.items():
        if pa.types.is_floating(dtype):
            assert f"score_{name}.png" in images
    if "lang" in fields:
        assert "lang.png" in images and "lang_removal.png" in images
        # rejected rows carry lang from lang_id on; those dropped before it (read, text_length) have none
        summary = json.loads((page.parent / "report.json").read_text(encoding="utf-8"))
        rejected = pl.read_parquet(out / "rejected" / "*.parquet", missing_columns="insert")
        early = rejected.filter(pl.col("drop_stage").is_in(["read", "text_length"]))
        assert early["lang"].null_count() == early.height > 0
        assert rejected.filter(~pl.col("drop_stage").is_in(["read", "text_length"]))["lang"].null_count() == 0
        assert summary["lang_removal"]["(none)"] == {"kept": 0, "removed": early.height}
        assert sum(v["kept"] + v["removed"] for v in summary["lang_removal"].values()) == sum(
            1 for _ in pl.read_parquet(out / "data" / "*.parquet")["id"]) + rejected.height


def test_report_refuses_a_folder_that_is_not_a_run(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="no such directory"):
        build_report(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(OutputError, match="neither manifest.json nor any committed shard"):
        build_report(tmp_path / "empty")
