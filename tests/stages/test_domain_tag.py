from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
from pydantic import ValidationError

from curate.engine.pipeline import run_in_memory
from curate.scorers.fasttext_classifier import TrainConfig, train
from curate.stages.domain_tag import DomainTag, DomainTagParams

RULES = {"bbc.co.uk": "news", "wikipedia.org": "encyclopedia", "en.wikipedia.org": "enwiki"}


def test_rules_match_longest_host_suffix() -> None:
    urls = ["https://www.BBC.co.uk/news/1", "http://de.wikipedia.org/x", "https://user@en.wikipedia.org:443/y", None, "ftp"]
    unit = pa.table({"id": [str(i) for i in range(5)], "text": ["t"] * 5, "url": urls})
    kept, rejected = run_in_memory([("domain_tag", DomainTag(DomainTagParams(rules=RULES)))], [unit])
    assert rejected is None
    assert kept.column("domain").to_pylist() == ["news", "encyclopedia", "enwiki", "other", "other"]
    assert kept.column("domain_score").to_pylist() == [1.0, 1.0, 1.0, 0.0, 0.0]


def test_model_tags_and_rules_override(tmp_path: Path) -> None:
    code = [f"def function_{i}(x): return x + {i}  # python code import numpy" for i in range(120)]
    food = [f"Stir the soup, add {i} grams of salt and bake the bread in the oven" for i in range(120)]
    train(code + food, ["code"] * 120 + ["cooking"] * 120, tmp_path / "d.bin", TrainConfig(bucket=5_000))
    texts = ["def helper(x): return x  # python code", "bake the bread and stir the soup", "bake bread"]
    unit = pa.table({"id": ["a", "b", "c"], "text": texts, "url": ["http://x.org", "http://y.org", "http://bbc.co.uk/food"]})
    stage = DomainTag(DomainTagParams(model=str(tmp_path / "d.bin"), rules={"bbc.co.uk": "news"}, min_score=0.6))
    kept, _ = run_in_memory([("domain_tag", stage)], [unit])
    assert kept.column("domain").to_pylist() == ["code", "cooking", "news"]
    assert all(0.6 <= s <= 1.0 for s in kept.column("domain_score").to_pylist())


def test_needs_a_source_and_a_url_column() -> None:
    with pytest.raises(ValidationError, match="give `model`"):
        DomainTagParams()
    stage = DomainTag(DomainTagParams(rules=RULES))
    stage.setup()
    with pytest.raises(KeyError, match="url_column"):
        stage.process(pa.table({"id": ["a"], "text": ["t"]}))
