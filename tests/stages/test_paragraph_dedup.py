"""``paragraph_dedup`` on real documents (English excerpts of the shipped sample) with injected boilerplate,
run through the real pipeline from Parquet and JSONL files, in memory for partition counts, and with a
killed reduce that resumes."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from reduce_helpers import committed_states, held_rows, kill_then_resume, reduce_holding, state_bytes, write_summaries

from curate.engine.pipeline import reduce_step, run_in_memory
from curate.engine.recipe import parse_recipe
from curate.engine.reduce import ReduceJob
from curate.engine.runner import run_recipe
from curate.stages.lib import paragraph_counts
from curate.stages.paragraph_dedup import REMOVED, ParagraphDedup, ParagraphDedupParams

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample" / "web-00002.parquet"

BANNER = (
    "We use cookies to personalise content and ads, to provide social media features and to analyse our "
    "traffic. By clicking Accept you consent to our use of cookies."
)
PAIR = "This paragraph was quoted by exactly two pages of the corpus, which is not enough to call it boilerplate."
SHORT = "Share this page"  # below min_chars: never removed, though it is in every document
NAV = "Home | Products | About us | Contact | Careers"
THIN = "thin"  # a document that is a banner and a few words


@pytest.fixture(scope="module")
def base() -> list[tuple[str, str]]:
    """(id, text) of English sample documents that share no long paragraph with each other."""
    table = pq.read_table(SAMPLE, columns=["id", "text", "source"])
    table = table.filter(pc.is_in(table.column("source"), pa.array(["debian-reference-en", "fortunes"])))
    docs = [(i, t.strip()) for i, t in zip(table.column("id").to_pylist(), table.column("text").to_pylist())]
    clean = pa.table({"id": [i for i, _ in docs], "text": [t for _, t in docs]})
    kept, rejected = run_in_memory([("p", ParagraphDedup())], [clean])
    assert rejected is None and pc.sum(kept.column(REMOVED)).as_py() == 0  # the base has no boilerplate of its own
    return docs


def injected(base: list[tuple[str, str]]) -> tuple[pa.Table, dict[str, str], list[str]]:
    """Documents with the banner in every third (at varying positions), SHORT everywhere, PAIR in two, a thin one.

    Returns the table, each document's text without the banner, and the ids with a banner in input order.
    """
    ids, texts, clean, with_banner = [], [], {}, []
    for i, (doc_id, text) in enumerate(base):
        paras = [SHORT] + text.split("\n\n") + ([PAIR] if i in (5, 11) else [])
        clean[doc_id] = "\n\n".join(paras)
        if i % 3 == 0:
            paras.insert((i // 3) % (len(paras) + 1), BANNER)
            with_banner.append(doc_id)
        ids.append(doc_id)
        texts.append("\n\n".join(paras))
        if i == 50:
            ids.append(THIN)
            texts.append(BANNER + "\n\nThanks for reading!")
            with_banner.append(THIN)
    return pa.table({"id": ids, "text": texts}), clean, with_banner


def write_inputs(table: pa.Table, root: Path) -> str:
    """The documents as real files: a gzipped JSONL shard, then a Parquet shard of several row groups."""
    root.mkdir(parents=True, exist_ok=True)
    cut = table.num_rows // 3
    with gzip.open(root / "a.jsonl.gz", "wt", encoding="utf-8") as f:
        for row in table.slice(0, cut).to_pylist():
            f.write(json.dumps(row) + "\n")
    pq.write_table(table.slice(cut), root / "b.parquet", row_group_size=25)
    return str(root / "*")


RECIPE = """\
name: paragraph-test
input: {{paths: ["{input}"], rows_per_unit: 25}}
stages:
  - stage: paragraph_dedup
    params: {{keep_first: {keep_first}}}
"""


def run(tmp: Path, table: pa.Table, keep_first: bool = True, workers: int = 1) -> Path:
    out = tmp / f"out-{keep_first}-{workers}"
    recipe = parse_recipe(RECIPE.format(input=write_inputs(table, tmp / "in"), keep_first=str(keep_first).lower()))
    run_recipe(recipe, str(out), workers=workers, quiet=True)
    return out


def _read(folder: Path) -> pa.Table:
    return pa.concat_tables([pq.read_table(p) for p in sorted(folder.glob("*.parquet"))])


@pytest.fixture(scope="module")
def corpus(base):
    return injected(base)


@pytest.fixture(scope="module")
def first_kept_run(tmp_path_factory, corpus) -> Path:
    return run(tmp_path_factory.mktemp("para"), corpus[0])


def test_banner_removed_everywhere_but_its_first_document(first_kept_run, corpus) -> None:
    table, clean, with_banner = corpus
    kept = _read(first_kept_run / "data")
    texts = dict(zip(kept.column("id").to_pylist(), kept.column("text").to_pylist()))
    removed = dict(zip(kept.column("id").to_pylist(), kept.column(REMOVED).to_pylist()))
    original = dict(zip(table.column("id").to_pylist(), table.column("text").to_pylist()))
    first = with_banner[0]
    assert texts[first] == original[first] and BANNER in texts[first] and removed[first] == 0
    for doc_id in with_banner[1:]:
        if doc_id == THIN:
            continue
        assert texts[doc_id] == clean[doc_id], doc_id  # the rest of the document is untouched, separators too
        assert removed[doc_id] == len(BANNER) + 2  # the banner and one blank-line separator
    untouched = [i for i in texts if i not in with_banner]
    assert untouched and all(texts[i] == original[i] and removed[i] == 0 for i in untouched)
    assert all(SHORT in texts[i].split("\n\n") for i in texts)  # short pieces are never removed
    assert sum(PAIR in t for t in texts.values()) == 2  # two documents are below min_docs


def test_document_left_too_short_is_dropped_with_its_reason(first_kept_run, corpus) -> None:
    del corpus  # the fixture built the run
    rejected = _read(first_kept_run / "rejected")
    assert rejected.column("id").to_pylist() == [THIN]
    row = rejected.to_pylist()[0]
    assert row["drop_reason"] == "paragraph_dedup:too_little_text_left"
    assert row["text"] == BANNER + "\n\nThanks for reading!"  # the original text, so nothing is lost
    assert row[REMOVED] == len(BANNER) + 2


def test_manifest_counts_the_characters_removed(first_kept_run, corpus) -> None:
    table, _, with_banner = corpus
    step = json.loads((first_kept_run / "manifest.json").read_text())["stages"][1]
    assert step["name"] == "paragraph_dedup" and step["dropped"] == 1 and step["kept"] == table.num_rows - 1
    thin = len(BANNER) + len("\n\nThanks for reading!")
    cut = (len(with_banner) - 2) * (len(BANNER) + 2)  # every banner but the first and the thin document's
    assert step["chars_dropped"] == thin
    assert step["chars_in"] - step["chars_kept"] - step["chars_dropped"] == cut
    assert step["chars_kept"] == pc.sum(pc.utf8_length(_read(first_kept_run / "data").column("text"))).as_py()


def test_keep_first_false_removes_every_occurrence(tmp_path, corpus) -> None:
    table, clean, _ = corpus
    out = run(tmp_path, table, keep_first=False)
    kept = _read(out / "data")
    texts = dict(zip(kept.column("id").to_pylist(), kept.column("text").to_pylist()))
    assert not any(BANNER in t for t in texts.values())
    assert all(texts[i] == clean[i] for i in texts)
    assert _read(out / "rejected").column("id").to_pylist() == [THIN]


def test_two_workers_write_the_same_bytes(tmp_path, corpus, first_kept_run) -> None:
    out = run(tmp_path, corpus[0], workers=2)
    for folder in ("data", "rejected"):
        ours = {p.name: p.read_bytes() for p in sorted((out / folder).glob("*.parquet"))}
        theirs = {p.name: p.read_bytes() for p in sorted((first_kept_run / folder).glob("*.parquet"))}
        assert ours == theirs and len(ours) == (5 if folder == "data" else 1)  # 1 JSONL + 4 Parquet units


def _units(table: pa.Table, rows: int) -> list[pa.Table]:
    return [table.slice(i, rows) for i in range(0, table.num_rows, rows)]


def test_same_output_for_any_partition_count_and_unit_split(corpus) -> None:
    table = corpus[0]
    kept, rejected = run_in_memory([("p", ParagraphDedup(ParagraphDedupParams(partitions=1)))], _units(table, 17))
    assert rejected.num_rows == 1 and pc.sum(kept.column(REMOVED)).as_py() > 0
    for parts, rows in ((3, 17), (7, 17), (3, 60)):
        stage = ParagraphDedup(ParagraphDedupParams(partitions=parts))
        kept_p, rejected_p = run_in_memory([("p", stage)], _units(table, rows))
        assert kept_p.equals(kept) and rejected_p.equals(rejected), (parts, rows)


def test_lines_are_deduplicated_with_unit_line(base) -> None:
    texts = []
    for i, (_, text) in enumerate(base[:30]):
        lines = text.split("\n")
        lines.insert(1 + i % 3, NAV)  # inside a paragraph: paragraph mode sees 30 different paragraphs
        texts.append("\n".join(lines))
    table = pa.table({"id": [str(i) for i in range(30)], "text": texts})
    by_paragraph, _ = run_in_memory([("p", ParagraphDedup())], [table])
    assert pc.sum(by_paragraph.column(REMOVED)).as_py() == 0
    by_line, rejected = run_in_memory([("p", ParagraphDedup(ParagraphDedupParams(unit="line", min_remaining_chars=0)))], [table])
    assert rejected is None
    out = by_line.column("text").to_pylist()
    assert NAV in out[0] and not any(NAV in t for t in out[1:])
    assert out[1:] == [t.replace(NAV + "\n", "", 1) for t in texts[1:]]


def test_killed_reduce_resumes_to_the_same_state(tmp_path, corpus) -> None:
    stage = ParagraphDedup(ParagraphDedupParams(partitions=4))
    units = _units(corpus[0], 20)
    summaries = write_summaries(tmp_path / "s", stage, units)
    whole = ReduceJob(summaries, tmp_path / "whole")
    reduce_step(stage, whole)
    total = sum(len(records) for records in whole.steps_run.values())
    assert len(state_bytes(whole)) == len(units)
    removal_rows = sum(pq.read_table(whole.state_dir / name).num_rows for name in state_bytes(whole))
    assert removal_rows == len(corpus[2]) - 1  # one per banner occurrence after the first

    resumed, done, rerun = kill_then_resume(stage, summaries, tmp_path / "killed", total // 2)
    assert rerun == total - done
    assert state_bytes(resumed) == state_bytes(whole)
    assert not resumed.scratch.exists()


@pytest.mark.parametrize("rows_per_pass", [9, 60, 400])
def test_tasks_taken_in_passes_leave_the_same_state(tmp_path, monkeypatch, corpus, rows_per_pass) -> None:
    """Route, count and state tasks over more than ROWS_PER_PASS rows hold one pass at a time: same state bytes."""
    stage = ParagraphDedup(ParagraphDedupParams(partitions=3))
    summaries = write_summaries(tmp_path / "s", stage, _units(corpus[0], 20))
    occurrences = sum(pq.ParquetFile(s).metadata.num_rows for s in summaries)
    removals = len(corpus[2]) - 1  # one per banner occurrence after the first

    whole, whole_held = reduce_holding(stage, summaries, tmp_path / "whole", monkeypatch)
    assert len(whole_held["paragraphs"]) == 3 and sum(whole_held["paragraphs"]) == occurrences
    monkeypatch.setattr(paragraph_counts, "ROWS_PER_PASS", rows_per_pass)
    passed, passed_held = reduce_holding(stage, summaries, tmp_path / "passes", monkeypatch)
    assert state_bytes(passed) == state_bytes(whole)
    assert sum(pq.read_table(passed.state_dir / name).num_rows for name in state_bytes(passed)) == removals
    assert sum(passed_held["removals"]) == sum(whole_held["removals"]) == removals
    assert len(passed_held["paragraphs"]) > 3 and sum(passed_held["paragraphs"]) == occurrences  # every row once
    assert max(passed_held["paragraphs"]) < max(whole_held["paragraphs"])  # each pass held fewer than a whole partition


def test_run_in_passes_writes_the_same_bytes(tmp_path, monkeypatch, corpus) -> None:
    """A whole run whose reduce tasks take tiny passes: the same data/, rejected/ and state, byte for byte."""
    table, _, with_banner = corpus
    states = committed_states(monkeypatch)
    whole = run(tmp_path / "whole", table)
    monkeypatch.setattr(paragraph_counts, "ROWS_PER_PASS", 7)
    held = held_rows(monkeypatch)
    passed = run(tmp_path / "passes", table)
    assert len(held["paragraphs"]) > 10 and max(held["paragraphs"]) < sum(held["paragraphs"]) / 10  # taken in passes
    assert len(states) == 2 and states[0] == states[1]
    for folder in ("data", "rejected"):
        ours = {p.name: p.read_bytes() for p in sorted((passed / folder).glob("*.parquet"))}
        assert ours == {p.name: p.read_bytes() for p in sorted((whole / folder).glob("*.parquet"))}
    assert _read(passed / "rejected").column("id").to_pylist() == [THIN]
    kept = _read(passed / "data")
    has_banner = [i for i, t in zip(kept.column("id").to_pylist(), kept.column("text").to_pylist()) if BANNER in t]
    assert has_banner == [with_banner[0]]  # removed everywhere but in its first document


def test_rebuild_refuses_a_split_that_disagrees() -> None:
    import re

    from curate.stages.paragraph_dedup import SEPARATORS, rebuild

    splitter = re.compile(f"({SEPARATORS['paragraph']})")
    assert rebuild("a\n \n\nb\n\nc", np.array([False, True, False]), splitter) == "a\n \n\nc"
    assert rebuild("a\n\nb", np.array([False, True]), splitter) == "a"
    with pytest.raises(RuntimeError, match="pieces"):
        rebuild("a\n\nb", np.array([False]), splitter)
