"""The shipped quality classifier: rebuilt from its shipped LLM labels, better than the majority class, kept
apart from the sample, and ensembled with two other scorers by max as CCI4.0 does."""

import json
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "data" / "models"
sys.path.insert(0, str(ROOT / "data"))


def test_shipped_labels_and_train_classifier_reproduce_the_shipped_metrics(tmp_path):
    from build_quality import LABELS, train_quality

    shipped = json.loads((MODELS / "quality.ftz.metrics.json").read_text(encoding="utf-8"))
    got = train_quality(LABELS, tmp_path / "quality.ftz")
    again = json.loads((tmp_path / "quality.ftz.metrics.json").read_text(encoding="utf-8"))
    assert got["labels"] == shipped["labels"]
    assert got["accuracy"] == pytest.approx(shipped["agreement_held_out"], abs=0.02)
    assert again["majority_baseline"] == pytest.approx(shipped["majority_baseline"])


def test_the_classifier_agrees_with_the_llm_more_often_than_the_majority_label():
    metrics = json.loads((MODELS / "quality.ftz.metrics.json").read_text(encoding="utf-8"))
    assert metrics["valid_examples"] >= 40
    assert metrics["agreement_held_out"] > metrics["majority_baseline"] + 0.1, metrics


def test_labels_come_from_the_llm_on_text_the_sample_does_not_use():
    labels = pq.read_table(MODELS / "quality-labels.parquet")
    assert set(labels.column("lang").to_pylist()) == {"en", "zh"}
    assert set(labels.column("model").to_pylist()) == {"smollm2-135m-instruct"}
    # hq at or above the language's median score: each language splits in half
    for lang in ("en", "zh"):
        rows = labels.filter(pa.compute.equal(labels.column("lang"), lang))
        scores, hq = rows.column("score").to_numpy(), np.asarray(rows.column("label").to_pylist()) == "hq"
        assert (scores[hq] >= np.median(scores)).all() and (scores[~hq] < np.median(scores)).all()
    from build_quality import _used_paragraphs

    used = _used_paragraphs()  # every paragraph of the sample and the evalset
    shared = [t[:80] for t in labels.column("text").to_pylist() if any(" ".join(p.split()) in used for p in t.split("\n\n"))]
    assert shared == []


def test_cci4_web_quality_bucket_is_the_max_of_its_three_scorers_on_the_sample():
    from curate.engine.pipeline import run_in_memory
    from curate.engine.recipe import build_stages, load_recipe

    steps = [(n, s) for n, s in build_stages(load_recipe(ROOT / "recipes/cci4-web.yaml"))
             if n.startswith("quality_") or n == "score_buckets"]
    columns = ["fasttext_quality", "fasttext_quality_head", "fasttext_reference"]
    assert [n for n, _ in steps] == ["quality_fasttext", "quality_fasttext_head", "quality_reference", "score_buckets"]
    docs = pq.read_table(ROOT / "data/sample/web-00002.parquet", columns=["id", "text"])
    kept, _ = run_in_memory(steps, [docs.slice(0, docs.num_rows // 2), docs.slice(docs.num_rows // 2)])
    buckets = np.stack([kept.column(f"{c}_bucket").to_numpy() for c in columns])  # [3, docs]
    for c, b in zip(columns, buckets):  # each score's bucket: the number of its 5%-percentiles strictly below it
        score = kept.column(c).to_numpy()
        edges = np.percentile(score, np.arange(5, 100, 5))
        np.testing.assert_array_equal(b, (score[:, None] > edges[None, :]).sum(axis=1))
    np.testing.assert_array_equal(kept.column("quality_bucket").to_numpy(), buckets.max(axis=0))
    # the three disagree: each scorer alone decides the maximum for some documents
    alone = [(b > np.delete(buckets, i, axis=0).max(axis=0)).sum() for i, b in enumerate(buckets)]
    assert all(n > 0 for n in alone), alone
