"""Fixtures for synthesis tests: the tiny Llama the project builds (data/build_tiny_llama.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

TINY = Path(__file__).resolve().parents[2] / "data" / "models" / "tiny-llama"


@pytest.fixture(scope="session")
def tiny_model() -> str:
    if not (TINY / "model.safetensors").is_file():
        pytest.skip("data/models/tiny-llama is missing; build it with `python data/build_tiny_llama.py`")
    return str(TINY)
