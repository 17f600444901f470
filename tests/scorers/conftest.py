"""Fixtures of tests/scorers: the tiny models of tiny_models.py."""

from tests.scorers.tiny_models import (  # noqa: F401
    tiny_classifier_dir,
    tiny_lm_dir,
    tiny_regressor_dir,
    tiny_tokenizer,
)
