"""Run progress: documents, docs/s and ETA, a short label that fits 100 columns, plain lines off a terminal."""

from __future__ import annotations

import io
import re

from curate.engine.progress import Progress, short_label
from curate.engine.recipe import parse_recipe
from curate.engine.runner import run_recipe


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_label_is_short() -> None:
    names = ["read", "text_length", "lang_id", "gopher_repetition", "gopher_quality", "exact_dedup"]
    assert short_label(names) == "read…exact_dedup (+4)"
    assert short_label(["score_buckets", "quality_fasttext_long_name", "domain_tag"]) == "score_bu…domain_tag (+1)"
    assert len(short_label(["a" * 40, "b" * 40, "c"])) <= 24


def test_plain_lines_off_a_terminal_count_documents() -> None:
    out = io.StringIO()
    bar = Progress("phase 1/2 read…exact_dedup (+4)", 3, stream=out, every=0.0)
    for docs in (100, 200, 50):
        bar.update(docs)
    bar.close()
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("phase 1/2 read…exact_dedup (+4): start, 0/3 units, 0 docs")
    assert re.match(r"phase 1/2 .*: running, 1/3 units, 100 docs, [\d,.kMB]+ docs/s, ETA \d:\d\d:\d\d", lines[1])
    assert lines[-1].startswith("phase 1/2 read…exact_dedup (+4): done, 3/3 units, 350 docs, ")
    assert "ETA" not in lines[-1]


def test_terminal_bar_fits_100_columns() -> None:
    out = Terminal()
    bar = Progress("phase 3/4 " + short_label(["minhash_dedup", "quality_fasttext", "score_buckets"]), 10_000, stream=out)
    for _ in range(7_000):
        bar.update(1_234)
    bar.close()
    shown = [line for line in re.split(r"[\r\n]", out.getvalue()) if line.strip()]
    assert shown and max(len(line) for line in shown) <= 100
    assert re.search(r"7000/10000 \[.*, 8\.6M docs, [\d.]+[kMB]?/s\]$", shown[-1]), shown[-1]


def test_a_run_logs_each_phase_with_documents(corpus, tmp_path, capsys) -> None:
    recipe = parse_recipe(f"name: p\ninput: {{paths: ['{corpus}/*']}}\nstages:\n  - stage: text_length\n  - stage: exact_dedup\n")
    manifest = run_recipe(recipe, str(tmp_path / "out"))
    err = capsys.readouterr().err
    read = manifest["stages"][0]["docs_in"]
    assert f"phase 1/2 read…text_length: done, 3/3 units, {read:,} docs" in err
    second = manifest["stages"][2]["docs_in"]
    assert f"phase 2/2 exact_dedup: done, 3/3 units, {second:,} docs" in err
