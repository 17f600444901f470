import pyarrow as pa
import pytest

from curate.core.registry import get_stage

ENGINE = {"kind": "hf", "model": "data/models/tiny-llama"}


def stage(**params):
    cls = get_stage("synthesize")
    s = cls(cls.Params.model_validate({"engine": ENGINE, **params}))
    s.routes = s.build_routes()
    return s


def names(routes):
    return [tuple(t.name for t in r) for r in routes]


def test_buckets_route_high_low_medium_and_null():
    s = stage(also=["cot_template"])
    batch = pa.table({"id": list("abcde"), "text": ["x"] * 5, "quality_bucket": pa.array([19, 12, 11, 0, None], pa.int32())})
    high = ("diverse_qa", "distill", "extract_knowledge", "knowledge_list", "cot_template")
    assert names(s.route(batch)) == [high, high, ("cot_template",), ("wiki_rephrase", "cot_template"), ("wiki_rephrase", "cot_template")]


def test_thresholds_and_task_lists_are_configurable():
    s = stage(high_from=15, low_below=15, high_tasks=["distill"], low_tasks=["wiki_rephrase", "diverse_qa"], bucket_column="qb")
    batch = pa.table({"id": ["a", "b"], "text": ["x", "y"], "qb": [15, 14]})
    assert names(s.route(batch)) == [("distill",), ("wiki_rephrase", "diverse_qa")]


def test_without_the_column_the_default_tasks_run():
    s = stage(default_tasks=["distill"], also=["cot_template"])
    assert names(s.route(pa.table({"id": ["a"], "text": ["x"]}))) == [("distill", "cot_template")]


def test_unknown_task_is_refused_when_the_recipe_is_read():
    with pytest.raises(ValueError, match="unknown task"):
        get_stage("synthesize").Params.model_validate({"engine": ENGINE, "also": ["poem"]})


def test_fraction_picks_a_stable_share_of_documents():
    s = stage(fraction=0.25)
    batch = pa.table({"id": [f"doc-{i}" for i in range(400)], "text": ["x"] * 400})
    picked = [bool(r) for r in s.route(batch)]
    assert 60 < sum(picked) < 140
    assert picked == [bool(r) for r in s.route(batch)]
