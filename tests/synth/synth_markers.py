"""Skip markers shared by the synthesis tests."""

import importlib.util

import pytest

HAS_VLLM = importlib.util.find_spec("vllm") is not None
needs_vllm = pytest.mark.skipif(not HAS_VLLM, reason="vllm is not installed (pip install 'curate[vllm]')")
