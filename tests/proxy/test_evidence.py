"""The comparison's evidence, with exact verdicts: it tells clean data from damaged data, and data from itself.

One comparison, trained once for both tests (about a CPU minute): the baseline is text with word-order
structure (a fixed word-transition table, like language); ``shuffled`` is the same text with the words of
half its documents shuffled; ``reordered`` is the same documents in another order, so its runs differ
from the baseline's only by the windows they draw — seed noise; the control ``shuffle_0.5`` is the
comparison's own damaged copy of the baseline. Held-out documents come from the same source and are in
no candidate. Fixed seeds make the verdicts the same on every run.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from curate.core.hashing import hash_strings
from curate.proxy.compare import compare
from curate.proxy.config import CompareConfig
from curate.proxy.data import shuffle_words

WORDS = ["the", "cat", "sat", "on", "a", "mat", "while", "dogs", "ran", "in", "the", "park", "and", "birds", "sang", "over",
         "green", "hills", "every", "day"]
NEXT = {w: [WORDS[(k * 5 + d) % len(WORDS)] for d in (1, 3, 8)] for k, w in enumerate(WORDS)}


def document(i: int) -> str:
    """A random walk over the transition table, seeded by ``i``: every document is different."""
    rng = np.random.default_rng(i)
    word, out = WORDS[i % len(WORDS)], []
    for _ in range(40 + i % 30):
        out.append(word)
        word = NEXT[word][rng.integers(3)]
    return " ".join(out) + "."


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("evidence")
    train = [document(i) for i in range(300)]
    order = np.argsort(hash_strings(train, seed=7))
    sets = {"clean": train, "shuffled": shuffle_words(train, 0.5, seed=1), "reordered": [train[i] for i in order],
            "eval": [document(i) for i in range(1000, 1060)]}
    for name, texts in sets.items():
        pq.write_table(pa.table({"text": texts}), tmp / f"{name}.parquet")
    cfg = CompareConfig.model_validate({
        "baseline": "clean",
        "candidates": {n: [str(tmp / f"{n}.parquet")] for n in ("clean", "shuffled", "reordered")},
        "tokenizer": {"vocab_size": 320},
        "model": {"hidden": 32, "layers": 1, "heads": 2, "kv_heads": 1, "intermediate": 64, "context": 32},
        "train": {"tokens": 8 * 32 * 30, "batch_size": 8, "lr": 0.01, "log_every": 5, "device": "cpu"},
        "seeds": [0, 1],
        "controls": ["shuffle_0.5"],
        "eval": {"paths": [str(tmp / "eval.parquet")], "tasks": [], "bootstrap": 200},
    })
    return compare(cfg, tmp / "out", quiet=True)


def test_half_shuffled_data_is_worse_on_heldout_bpb(report):
    row = report["metrics"]["bpb/all"]["shuffled"]
    assert row["verdict"] == "worse"
    assert row["delta"] > 0.1  # bits per byte lost by learning half the word order from noise
    control = report["metrics"]["bpb/all"]["control/shuffle_0.5"]
    assert control["verdict"] == "worse" and report["controls"]["control/shuffle_0.5"]["caught"] is True
    assert any("caught" in line and "shuffle_0.5" in line for line in report["summary"])


def test_same_data_in_another_order_shows_no_clear_difference(report):
    row = report["metrics"]["bpb/all"]["reordered"]
    assert row["verdict"] == "no clear difference"
    assert abs(row["delta"]) < row["resolvable"]  # the summary's resolvable difference is what the verdict used
    assert any("resolves differences of" in line and "reordered" in line for line in report["summary"])
    assert report["data"]["reordered"]["eval_overlap_removed"] == 0  # the eval set is in no candidate
