"""fastText classifiers: train one from labelled texts, load one, and score Arrow text columns with it.

Quality classifiers in the DCLM / CCI4.0 style and domain classifiers are both supervised fastText models:
a bag of words and word bigrams, trained in seconds on one core, applied at hundreds of thousands of
documents a second. Training is deterministic (one thread, fixed seed), so the same data gives the same
model bytes.

fastText reads one line per example, so texts are flattened (newlines become spaces) both when training
and when scoring; the two must agree or the model sees a different distribution than it learnt.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

LABEL_PREFIX = "__label__"


def flatten(text: pa.Array | pa.ChunkedArray, max_chars: int | None = None) -> pa.Array | pa.ChunkedArray:
    """Texts as fastText lines: each newline becomes a space (fastText reads CR, tab, VT and FF as spaces)."""
    if max_chars is not None:
        text = pc.utf8_slice_codeunits(text, 0, max_chars)
    return pc.replace_substring(text, "\n", " ")


def label_name(label: str) -> str:
    """``hq`` and ``__label__hq`` both name the label ``__label__hq``."""
    return label if label.startswith(LABEL_PREFIX) else LABEL_PREFIX + label


@dataclass
class TrainConfig:
    """fastText supervised-training settings; the defaults suit a binary quality or a small domain model."""

    epoch: int = 5  # passes over the training set
    lr: float = 0.1  # learning rate
    word_ngrams: int = 2  # 2 = words and word bigrams (DCLM's setting)
    dim: int = 16  # embedding size; small is enough for a few labels
    bucket: int = 200_000  # hash buckets for n-grams; dominates model size (bucket * dim * 4 bytes)
    min_count: int = 1  # drop words seen fewer times
    seed: int = 0  # fastText's seed; one thread makes training deterministic
    valid_fraction: float = 0.1  # share of each label held out for precision / recall
    max_chars: int | None = None  # cut each training text to this many characters (None: whole text)


@dataclass
class LabelMetrics:
    precision: float
    recall: float
    support: int  # held-out examples with this label


@dataclass
class TrainReport:
    """What `train-classifier` prints and writes next to the model as JSON."""

    model: str
    train_examples: int
    valid_examples: int
    labels: dict[str, int]  # training examples per label
    metrics: dict[str, LabelMetrics] = field(default_factory=dict)
    accuracy: float = float("nan")
    config: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return asdict(self)


def split_held_out(labels: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """Boolean mask of held-out rows: ``fraction`` of each label, chosen by a seeded permutation."""
    rng = np.random.default_rng(seed)
    held = np.zeros(len(labels), dtype=bool)
    if fraction <= 0:
        return held
    for value in np.unique(labels):
        rows = np.flatnonzero(labels == value)
        take = int(round(len(rows) * fraction))
        if 0 < take < len(rows):
            held[rng.permutation(rows)[:take]] = True
    return held


def train(
    texts: Sequence[str] | pa.Array | pa.ChunkedArray,
    labels: Sequence[str],
    out: str | Path,
    config: TrainConfig | None = None,
) -> TrainReport:
    """Train a supervised fastText model on (text, label) pairs, save it to ``out``, report held-out scores.

    Labels are plain names (``hq``, ``news``); the ``__label__`` prefix is added. The model is trained on
    the examples not held out, evaluated on the held-out ones, and saved (``.ftz`` suffix: quantised).
    """
    import fasttext

    config = config or TrainConfig()
    texts = pa.array(texts, pa.string()) if not isinstance(texts, (pa.Array, pa.ChunkedArray)) else texts
    lines = np.asarray(flatten(texts, config.max_chars).to_pylist(), dtype=object)
    names = np.asarray([label_name(str(x)) for x in labels], dtype=object)
    if len(lines) != len(names):
        raise ValueError(f"{len(lines)} texts but {len(names)} labels; give one label per text")
    if len(set(names)) < 2:
        raise ValueError(f"need at least two labels to train a classifier, got {sorted(set(names))}")
    held = split_held_out(names, config.valid_fraction, config.seed)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        train_file = Path(tmp) / "train.txt"
        rows = np.flatnonzero(~held)
        # fastText's reader sees examples in file order; a seeded shuffle mixes labels so SGD does not
        # see one label at a time, and keeps the model bytes reproducible
        order = np.random.default_rng(config.seed).permutation(rows)
        train_file.write_text("".join(f"{names[i]} {lines[i]}\n" for i in order), encoding="utf-8")
        _fit_in_child(train_file, out, config)
    model = fasttext.load_model(str(out))
    report = TrainReport(
        model=str(out),
        train_examples=int((~held).sum()),
        valid_examples=int(held.sum()),
        labels={k.removeprefix(LABEL_PREFIX): int(v) for k, v in zip(*np.unique(names[~held], return_counts=True))},
        config=asdict(config),
    )
    if held.any():
        predicted = np.asarray([p[0] for p in model.predict([lines[i] for i in np.flatnonzero(held)])[0]], dtype=object)
        report.accuracy, report.metrics = _metrics(names[held], predicted)
    return report


# fastText 0.9.3 allocates its input matrix with posix_memalign and, with one training thread, initialises
# only the first tenth of it: the rest is whatever the heap held, so training hits NaN at random and is not
# reproducible. Memory fresh from mmap is zero, so the child process that trains maps every allocation
# above 1 KiB (a glibc tunable for that child only): one thread, zeros instead of garbage, same bytes each run.
_CHILD = """
import json, sys, fasttext
a = json.loads(sys.argv[1])
m = fasttext.train_supervised(input=a["input"], epoch=a["epoch"], lr=a["lr"], wordNgrams=a["word_ngrams"],
    dim=a["dim"], bucket=a["bucket"], minCount=a["min_count"], seed=a["seed"], thread=1, verbose=0)
if a["output"].endswith(".ftz"):
    m.quantize(qnorm=True, retrain=False)
m.save_model(a["output"])
"""


def _fit_in_child(train_file: Path, out: Path, config: TrainConfig) -> None:
    import os
    import subprocess
    import sys

    args = {**asdict(config), "input": str(train_file), "output": str(out)}
    tunables = ":".join(t for t in (os.environ.get("GLIBC_TUNABLES"), "glibc.malloc.mmap_threshold=1024") if t)
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, json.dumps(args)],
        env={**os.environ, "GLIBC_TUNABLES": tunables},
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"fastText training on {train_file} failed: {done.stderr.strip().splitlines()[-1:]}")


def _metrics(truth: np.ndarray, predicted: np.ndarray) -> tuple[float, dict[str, LabelMetrics]]:
    metrics = {}
    for label in sorted(set(truth) | set(predicted)):
        tp = int(((predicted == label) & (truth == label)).sum())
        said = int((predicted == label).sum())
        real = int((truth == label).sum())
        metrics[label.removeprefix(LABEL_PREFIX)] = LabelMetrics(
            precision=tp / said if said else 0.0, recall=tp / real if real else 0.0, support=real
        )
    return float((truth == predicted).mean()), metrics


def save_report(report: TrainReport, model_path: str | Path) -> Path:
    """Write the report as JSON next to the model (``model.bin`` -> ``model.bin.metrics.json``)."""
    path = Path(f"{model_path}.metrics.json")
    path.write_text(json.dumps(report.to_json(), indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


class FastTextClassifier:
    """A loaded fastText model that scores whole Arrow text columns at once."""

    def __init__(self, path: str | Path) -> None:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(
                f"fastText model {str(path)!r} does not exist; train one with `curate train-classifier` "
                "(or `python data/build_models.py` for the sample models) and point the stage's `model` at it"
            )
        import fasttext

        self.path = path
        self.model = fasttext.load_model(str(path))
        self.labels = [str(x) for x in self.model.get_labels()]
        from fasttext_pybind import loss_name

        self._binary_softmax = len(self.labels) == 2 and self.model.f.getArgs().loss == loss_name.softmax

    def _lines(self, text: pa.Array | pa.ChunkedArray, max_chars: int | None) -> list[str]:
        if max_chars is not None:
            text = pc.utf8_slice_codeunits(text, 0, max_chars)
        # per-document Python path: str.replace is faster here than two Arrow kernels plus the copy out.
        # fastText ends a line at "\n" (its end-of-sentence token) and treats \r \t \v \f as spaces;
        # predict() appends the "\n", and so do we
        return [t.replace("\n", " ") + "\n" for t in text.to_pylist()]

    def probabilities(self, text: pa.Array | pa.ChunkedArray, max_chars: int | None = None) -> tuple[list[str], np.ndarray]:
        """(labels, probabilities): one column per label of the model, one row per text."""
        lines = self._lines(text, max_chars)
        if not lines:
            return self.labels, np.zeros((0, len(self.labels)), dtype=np.float32)
        if self._binary_softmax:
            # two labels, softmax: fastText reports p + 1e-5 for each label, so the top label's value alone
            # gives both (other = 1 + 2e-5 - top); asking for one label skips fastText's top-k work
            got_labels, got_probs = self.model.f.multilinePredict(lines, 1, 0.0, "replace")
            top = np.asarray(got_probs, dtype=np.float64).reshape(len(lines))
            first = np.fromiter((row[0] == self.labels[0] for row in got_labels), dtype=bool, count=len(lines))
            other = 1.0 + 2e-5 - top
            probs = np.stack([np.where(first, top, other), np.where(first, other, top)], axis=1).astype(np.float32)
            return self.labels, probs
        got_labels, got_probs = self.model.f.multilinePredict(lines, -1, 0.0, "replace")
        got = np.asarray(got_probs, dtype=np.float32)  # (docs, labels), each row sorted by probability
        probs = np.empty_like(got)
        index = {label: i for i, label in enumerate(self.labels)}
        codes = np.asarray([[index[x] for x in row] for row in got_labels], dtype=np.int64)
        np.put_along_axis(probs, codes, got, axis=1)
        return self.labels, probs

    def label_probability(self, text: pa.Array | pa.ChunkedArray, label: str, max_chars: int | None = None) -> np.ndarray:
        """Probability of ``label`` for each text (float32)."""
        name = label_name(label)
        if name not in self.labels:
            raise ValueError(f"{self.path}: no label {label!r}; the model's labels are {self.labels}")
        labels, probs = self.probabilities(text, max_chars)
        return probs[:, labels.index(name)]

    def top_label(self, text: pa.Array | pa.ChunkedArray, max_chars: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(best label without prefix, its probability) per text."""
        labels, probs = self.probabilities(text, max_chars)
        best = probs.argmax(axis=1) if len(probs) else np.zeros(0, dtype=np.int64)
        names = np.asarray([x.removeprefix(LABEL_PREFIX) for x in labels], dtype=object)
        return names[best], probs[np.arange(len(best)), best]
