"""Build ``data/tokenizer/sample-bpe.json``: a small byte-level BPE tokenizer trained on the shipped sample.

Why: ``curate mix`` plans blends in tokens and writes Megatron ``.bin`` files, so the demo mixture needs a
tokenizer, and nothing may be downloaded at run time. A 4,096-entry byte-level BPE trained on
``data/sample/`` is small enough to ship (< 1 MB), covers every language of the sample (byte-level: no
unknown tokens) and has the ``<|endoftext|>`` token Megatron appends to each document.

Rebuild::

    python data/build_tokenizer.py            # reads data/sample/*, writes data/tokenizer/sample-bpe.json

Real training runs should point ``tokenizer.path`` of the mixture at their model's own tokenizer.json.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import zstandard
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

HERE = Path(__file__).resolve().parent
SPECIAL_TOKENS = ["<|endoftext|>", "<|pad|>"]


def _jsonl_lines(path: Path) -> Iterator[str]:
    raw = path.read_bytes()
    if path.name.endswith(".gz"):
        raw = gzip.decompress(raw)
    elif path.name.endswith((".zst", ".zstd")):
        raw = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(raw)).read()
    for line in raw.decode("utf-8", errors="replace").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue  # the sample has deliberately broken lines
        if isinstance(record, dict) and isinstance(record.get("text"), str):
            yield record["text"]


def sample_texts(folder: Path) -> Iterator[str]:
    """The ``text`` of every document in ``folder`` (JSONL plain/.gz/.zst and Parquet), in file order."""
    for path in sorted(folder.iterdir()):
        if path.name.endswith(".parquet"):
            table = pq.read_table(path, columns=["text"])
            yield from (t for t in table.column("text").to_pylist() if isinstance(t, str))
        elif ".jsonl" in path.name or path.name.endswith(".json"):
            yield from _jsonl_lines(path)


def train(texts: Iterator[str], vocab_size: int = 4096) -> Tokenizer:
    """A byte-level BPE with the special tokens first (``<|endoftext|>`` is id 0)."""
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=2,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(texts, trainer=trainer)
    return tokenizer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sample", type=Path, default=HERE / "sample", help="folder of sample shards to train on")
    parser.add_argument("--out", type=Path, default=HERE / "tokenizer" / "sample-bpe.json", help="tokenizer.json to write")
    parser.add_argument("--vocab-size", type=int, default=4096, help="vocabulary size, special tokens included")
    args = parser.parse_args()
    if not args.sample.is_dir() or not any(args.sample.iterdir()):
        raise SystemExit(f"{args.sample} has no sample shards; build them first with `python data/build_sample.py`")
    tokenizer = train(sample_texts(args.sample), args.vocab_size)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tokenizer.save(str(args.out), pretty=False)
    size = args.out.stat().st_size
    print(f"{args.out}: vocab {tokenizer.get_vocab_size()}, {size / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
