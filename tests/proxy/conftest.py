"""Fixtures for the proxy tests: a small repetitive corpus, its tokenizer and token stream."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from curate.proxy.data import read_documents, token_stream
from curate.proxy.tokenizer import train_tokenizer

WORDS = "the cat sat on a mat while dogs ran in the park and birds sang over green hills every day".split()


def corpus(n: int = 120) -> list[dict]:
    """Documents from a small vocabulary with structure a model can learn (repeated word patterns)."""
    docs = []
    for i in range(n):
        words = [WORDS[(i * 7 + j * (1 + i % 3)) % len(WORDS)] for j in range(40 + i % 30)]
        docs.append({"text": " ".join(words) + ".", "domain": "animals" if i % 2 else "places"})
    return docs


@pytest.fixture(scope="session")
def shard(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("proxy") / "data" / "part-00000.parquet"
    path.parent.mkdir()
    pq.write_table(pa.Table.from_pylist(corpus()), path)
    return str(path)


@pytest.fixture(scope="session")
def tokenizer(shard):
    return train_tokenizer(read_documents([shard]).column("text").to_pylist(), vocab_size=320)


@pytest.fixture(scope="session")
def stream(shard, tokenizer):
    return token_stream(tokenizer, read_documents([shard]).column("text").to_pylist())
