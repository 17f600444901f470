"""LLM annotation: score parsing, prompt language, the stable sample; the real model rates EN and ZH."""

import pyarrow as pa
import pytest

from curate.scorers.annotate import LEADS, PROMPTS, parse_score, picked, prompt_lang
from tests.scorers.rated_docs import RATED_DOCS


@pytest.mark.parametrize(
    ("text", "score"),
    [
        ("Educational score: 4", 4),
        ("Educational score:3.", 3),
        ("Educational score: **2**\nThe extract is short.", 2),
        ("教育价值得分：5", 5),
        ("教育价值得分：４分", 4),  # full-width digit
        ("I would rate this 3/5 because it is clear.", 3),
        ("这段文字可以得 2 分。", 2),
        ("Score is 1 since it is mostly noise", 1),
        ("The text has 12 lines; 4", 4),  # 12 is not a score, the lone 4 is
        ("Educational score: 0.00", 0),
        ("Educational score: 100", 5),  # answered out of 100 (seen from SmolLM2-135M): scaled
        ("Educational score: 40", 2),
        ("Educational score: 7", 4),  # out of 10
    ],
)
def test_scores_parse_from_varied_answers(text, score):
    assert parse_score(text) == score


@pytest.mark.parametrize("text", [None, "", "no number here", "Educational score: 150", "lines 12 and 99"])
def test_answers_without_a_0_to_5_score_give_none(text):
    assert parse_score(text) is None


def test_prompt_language_from_the_lang_column_or_the_characters():
    assert prompt_lang("zh", "anything") == "zh"
    assert prompt_lang("en", "中文内容很多很多") == "en"  # the column wins
    assert prompt_lang(None, "这是一段中文文字，讲的是软件包的安装。") == "zh"
    assert prompt_lang(None, "A plain English sentence.") == "en"
    assert set(PROMPTS) == set(LEADS) == {"en", "zh"}


def test_the_sample_is_stable_and_sized_by_fraction():
    ids = [f"doc-{i}" for i in range(2000)]
    a, b = picked(0, ids, 0.25), picked(0, ids, 0.25)
    assert a == b
    assert 400 < sum(a) < 600
    assert picked(1, ids, 0.25) != a


@pytest.mark.slow
def test_real_model_rates_english_and_chinese_documents(real_model, tmp_path):
    from curate.scorers.annotate import AnnotateConfig, annotate, write
    from curate.synth.engines import EngineSpec, SamplingSpec

    docs = RATED_DOCS
    config = AnnotateConfig(engine=EngineSpec(kind="hf", model=real_model), sampling=SamplingSpec(temperature=0, max_tokens=6))
    out = annotate(docs, config)
    path = write(out, tmp_path / "ann.parquet")
    assert path.is_file()
    assert out.column("lang").to_pylist() == ["en", "en", "zh", "zh"]
    assert out.column("prompt").to_pylist() == ["edu_en.v1", "edu_en.v1", "edu_zh.v1", "edu_zh.v1"]
    scores = out.column("score").to_pylist()
    # every answer parses to a 0-5 score, in both languages, and the label follows the threshold
    assert all(s is not None and 0 <= s <= 5 for s in scores), out.column("raw").to_pylist()
    assert out.column("label").to_pylist() == ["hq" if s >= 3 else "lq" for s in scores]


@pytest.mark.slow
def test_classifier_trained_on_real_annotations_beats_chance(real_model, tmp_path):
    """Reference prose and junk from the sample, rated by the real model; fastText learns the ratings."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from curate.scorers.annotate import AnnotateConfig, annotate
    from curate.scorers.fasttext_classifier import TrainConfig, train
    from curate.synth.engines import EngineSpec, SamplingSpec

    rows = pq.read_table("data/sample/web-00002.parquet", columns=["id", "text", "source"]).to_pylist()
    junk = [r for r in rows if r["source"] == "synthetic-junk" and len(r["text"]) > 150][:20]
    prose = [r for r in rows if r["source"] in ("python3.11-doc", "debian-handbook") and len(r["text"]) > 300][:20]
    docs = pa.table({"id": [r["id"] for r in junk + prose], "text": [r["text"] for r in junk + prose]})
    config = AnnotateConfig(engine=EngineSpec(kind="hf", model=real_model, hf_batch_size=8),
                            sampling=SamplingSpec(temperature=0, max_tokens=3), max_chars=400)
    ann = annotate(docs, config)
    labelled = ann.filter(pc.is_valid(ann.column("label")))
    labels = labelled.column("label").to_pylist()
    assert len(set(labels)) == 2, ann.column("raw").to_pylist()  # the model uses both sides of the threshold
    report = train(labelled.column("text"), labels, tmp_path / "edu.bin", TrainConfig(epoch=25, valid_fraction=0.3, seed=0))
    held = [m.support for m in report.metrics.values()]
    assert report.accuracy > max(held) / sum(held), report.to_json()


def test_labels_follow_the_threshold_and_an_unread_score_has_no_label():
    from curate.scorers.annotate import AnnotateConfig, _table
    from curate.synth.engines import EngineSpec

    config = AnnotateConfig(engine=EngineSpec(kind="hf", model="m"), threshold=2.5)
    for scores in (pa.array([4, None, 2], pa.int8()), pa.array([2.5, None, 2.4999], pa.float32())):
        out = _table(["a", "b", "c"], ["x", "y", "z"], ["en", "en", "zh"], scores, ["r"] * 3, config)
        assert out.column("label").to_pylist() == ["hq", None, "lq"]
