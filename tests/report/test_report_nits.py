"""Report details that erode trust when wrong: drop counts in plot titles, one-value histograms."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from curate.engine.recipe import parse_recipe
from curate.engine.runner import run_recipe
from curate.report.html import build_report
from curate.report.plots import panel_title


def test_panel_title_counts_every_drop() -> None:
    assert panel_title("gopher", [100] * 4 + [50] * 6, 458) == "gopher: 700 dropped"  # counts above the manifest: the counts win
    assert panel_title("gopher", [44] * 10 + [6], 458) == "gopher: 458 dropped (top 11 reasons: 446)"
    assert panel_title("dedup", [12], 12) == "dedup: 12 dropped"


def test_constant_columns_are_named_not_plotted(tmp_path: Path) -> None:
    src = tmp_path / "in.parquet"
    rng = np.random.default_rng(0)
    n = 60
    pq.write_table(pa.table({
        "text": [f"document {i} " * (3 + i % 10) for i in range(n)],
        "pages": pa.array(np.ones(n, dtype=np.int64)),
        "quality": pa.array(rng.normal(size=n)),
    }), src)
    out = tmp_path / "out"
    run_recipe(parse_recipe(f"name: r\ninput: {{paths: ['{src}']}}\nstages:\n  - stage: text_length\n    params: {{min_chars: 40}}\n"),
               str(out), quiet=True)
    page = build_report(out)
    summary = json.loads((out / "report" / "report.json").read_text(encoding="utf-8"))
    assert summary["constant_columns"] == {"pages": 1.0}
    assert "pages" not in summary["histograms"] and "quality" in summary["histograms"]
    assert not (out / "report" / "score_pages.png").exists() and (out / "report" / "score_quality.png").exists()
    html = page.read_text(encoding="utf-8")
    assert "Columns with one value" in html and "<td>pages</td><td>1</td>" in html and 'src=""' not in html
