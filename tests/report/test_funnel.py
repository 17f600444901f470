"""The funnel in characters as well as documents: a step that keeps most documents but cuts most of their
text is flagged in ``curate inspect``, the HTML report and its data, on a real run."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from curate.cli import main
from curate.engine.recipe import parse_recipe
from curate.engine.runner import run_recipe
from curate.report.funnel import funnel_rows
from curate.report.html import build_report

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample" / "web-00002.parquet"
FOOTER = "\n\n".join(
    [
        "Terms of use. All content on this website is provided for general information only and does not "
        "constitute professional advice. We accept no liability for any loss arising from reliance on it. " * 3,
        "Privacy. We process personal data in accordance with our privacy notice, which explains what we "
        "collect, why we collect it, how long we keep it and the rights you have under applicable law. " * 3,
        "Copyright. Unless stated otherwise, the material on these pages is owned by the publisher and may not "
        "be reproduced, distributed or transmitted in any form without prior written permission. " * 3,
    ]
)
RECIPE = """\
name: funnel-test
input: {{paths: ["{input}"], rows_per_unit: 20}}
stages:
  - stage: text_length
    params: {{min_chars: 50}}
  - stage: paragraph_dedup
  - stage: exact_dedup
"""


@pytest.fixture(scope="module")
def cut_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """40 English sample documents of 300–2,000 characters, each followed by the same long legal footer."""
    tmp = tmp_path_factory.mktemp("funnel")
    table = pq.read_table(SAMPLE, columns=["id", "text", "source"])
    table = table.filter(pc.equal(table.column("source"), "debian-reference-en"))
    lengths = pc.utf8_length(table.column("text"))
    table = table.filter(pc.and_(pc.greater_equal(lengths, 300), pc.less_equal(lengths, 2000))).slice(0, 40)
    texts = [t.strip() + "\n\n" + FOOTER for t in table.column("text").to_pylist()]
    texts += ["Tiny.\n\n" + FOOTER, "Another tiny one.\n\n" + FOOTER]  # left with too little text
    src = tmp / "in.parquet"
    pq.write_table(pa.table({"id": table.column("id").to_pylist() + ["t1", "t2"], "text": texts}), src)
    run_recipe(parse_recipe(RECIPE.format(input=src)), str(tmp / "out"), quiet=True)
    return tmp / "out"


def test_manifest_rows_say_what_the_step_cut(cut_run: Path) -> None:
    steps = json.loads((cut_run / "manifest.json").read_text())["stages"]
    rows = {r.name: r for r in funnel_rows(steps)}
    para = rows["paragraph_dedup"]
    assert (para.docs_in, para.kept, para.dropped) == (42, 40, 2)
    assert para.docs_kept_pct > 95 and para.chars_kept_pct < 50  # few documents, most of the characters
    assert para.chars_cut == 39 * (len(FOOTER) + 2)  # the footer of every kept document but the first
    assert para.chars_dropped == 2 * len(FOOTER) + len("Tiny.\n\n") + len("Another tiny one.\n\n")
    assert para.large_char_loss and not rows["text_length"].large_char_loss and not rows["exact_dedup"].large_char_loss


def test_inspect_flags_the_character_loss(cut_run: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["inspect", str(cut_run)]) == 0
    out = capsys.readouterr().out
    para = next(line for line in out.splitlines() if line.startswith("paragraph_dedup "))
    assert "95.2%" in para and para.endswith("<- chars")
    assert not next(line for line in out.splitlines() if line.startswith("exact_dedup ")).endswith("<- chars")
    assert "paragraph_dedup keeps 95.2% of documents but only" in out
    assert "cut from documents it kept" in out


def test_report_shows_the_character_funnel(cut_run: Path) -> None:
    page = build_report(cut_run).read_text(encoding="utf-8")
    assert "<th>chars kept %</th>" in page and "<th>cut from kept docs</th>" in page
    assert '<tr class="loss"><td>paragraph_dedup</td>' in page
    assert '<tr class="loss"><td>exact_dedup</td>' not in page and '<tr><td>exact_dedup</td>' in page
    assert "Large character loss" in page and "paragraph_dedup keeps 95.2% of documents" in page
    summary = json.loads((cut_run / "report" / "report.json").read_text())
    para = next(s for s in summary["steps"] if s["name"] == "paragraph_dedup")
    assert para["chars_in"] - para["chars_kept"] - para["chars_dropped"] == 39 * (len(FOOTER) + 2)
    assert (cut_run / "report" / "funnel.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_old_manifests_without_dropped_characters_still_read() -> None:
    old = {"name": "c4_quality", "docs_in": 100, "kept": 95, "dropped": 5, "chars_in": 1000, "chars_kept": 260}
    (row,) = funnel_rows([old])
    assert row.chars_cut is None and row.large_char_loss
    assert row.warning() == "c4_quality keeps 95.0% of documents but only 26.0% of characters: 740 characters removed"
