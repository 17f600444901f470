"""Tiny models built in fixtures (a byte-level BPE tokenizer, a Llama LM, RoBERTa classifiers) and two text sets."""

from __future__ import annotations

from pathlib import Path

import pytest

TEXTS = [
    "The quick brown fox jumps over the lazy dog near the river bank.",
    "Python lists keep their order; dictionaries map keys to values.",
    "Debian packages install files under /usr and record them in dpkg.",
    "数据质量决定了模型的上限，清洗和去重同样重要。",
] * 20


@pytest.fixture(scope="session")
def tiny_tokenizer():
    pytest.importorskip("transformers")
    from demo_models import build_tokenizer

    return build_tokenizer(TEXTS, vocab_size=400)


@pytest.fixture(scope="session")
def tiny_lm_dir(tmp_path_factory: pytest.TempPathFactory, tiny_tokenizer) -> Path:
    from demo_models import save, tiny_llama

    return save(tiny_llama(tiny_tokenizer, hidden=32, layers=2, heads=2, context=256), tiny_tokenizer,
                tmp_path_factory.mktemp("lm"))


@pytest.fixture(scope="session")
def tiny_classifier_dir(tmp_path_factory: pytest.TempPathFactory, tiny_tokenizer) -> Path:
    from demo_models import save, tiny_roberta_classifier

    return save(tiny_roberta_classifier(tiny_tokenizer, num_labels=2, hidden=32), tiny_tokenizer,
                tmp_path_factory.mktemp("cls"))


@pytest.fixture(scope="session")
def tiny_regressor_dir(tmp_path_factory: pytest.TempPathFactory, tiny_tokenizer) -> Path:
    from demo_models import save, tiny_roberta_classifier

    return save(tiny_roberta_classifier(tiny_tokenizer, num_labels=1, hidden=32), tiny_tokenizer,
                tmp_path_factory.mktemp("reg"))


def two_sets(n: int = 200) -> tuple[list[str], list[str]]:
    """Two clearly different text sets: technical prose vs shouting spam."""
    topics = ["kernel", "compiler", "package", "library", "protocol", "filesystem", "scheduler", "parser"]
    good = [
        f"The {topics[i % 8]} documentation explains how the {topics[(i * 3) % 8]} handles errors "
        f"and why the design keeps state small, section {i}."
        for i in range(n)
    ]
    bad = [f"BUY NOW cheap pills casino bonus click here win money free offer {i} !!!" for i in range(n)]
    return good, bad
