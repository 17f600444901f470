"""Shared fixtures; the corpus writers they use live in tests/corpora.py."""

from __future__ import annotations

import gc
import sys
import warnings
from pathlib import Path

import pytest
from corpora import make_docs, write_jsonl, write_parquet


def pytest_sessionfinish(session, exitstatus) -> None:
    """Stop any vLLM engine a test left running before the interpreter exits (see synth/vllm_offline.py)."""
    if "vllm" not in sys.modules:
        return
    from vllm import LLM

    from curate.synth.vllm_offline import shutdown_llm

    with warnings.catch_warnings():  # isinstance on some library objects (torch's deprecated aliases) warns
        warnings.simplefilter("ignore")
        engines = [obj for obj in gc.get_objects() if isinstance(obj, LLM)]
    for engine in engines:
        shutdown_llm(engine)


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """Three shards (jsonl.gz, jsonl.zst, parquet) with exact duplicates across shards and two bad lines."""
    root = tmp_path / "corpus"
    root.mkdir()
    docs = make_docs(300, dup_every=7)
    write_jsonl(root / "a.jsonl.gz", docs[:100], [b"{not json\n", b'{"id": "num", "text": 42}\n'])
    write_jsonl(root / "b.jsonl.zst", docs[100:200])
    write_parquet(root / "c.parquet", docs[200:], row_group_size=40)
    return root


@pytest.fixture
def write_recipe(tmp_path: Path):
    def write(body: str, name: str = "recipe.yaml") -> Path:
        path = tmp_path / name
        path.write_text(body, encoding="utf-8")
        return path

    return write


REAL_MODEL = Path(__file__).resolve().parents[1] / ".cache" / "models" / "smollm2-135m-instruct"


@pytest.fixture(scope="session")
def real_model() -> str:
    """SmolLM2-135M-Instruct as `make models` prepares it (synth/models.py); skipped where it is absent."""
    if not (REAL_MODEL / ".prepared").is_file():
        pytest.skip(f"{REAL_MODEL} is missing; prepare it with `make models` (or `curate models prepare`)")
    return str(REAL_MODEL)
