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
from collections.abc import Iterator
from pathlib import Path

from curate.io.readers import ColumnMap, find_inputs, plan_units, read_unit
from curate.proxy.tokenizer import train_tokenizer

HERE = Path(__file__).resolve().parent


def sample_texts(folder: Path) -> Iterator[str]:
    """The text of every well-formed document in ``folder``, read as ``curate run`` reads it, in file order."""
    for unit in plan_units(find_inputs([str(folder)]), ColumnMap()):
        docs, _ = read_unit(unit, ColumnMap())
        yield from docs.column("text").to_pylist()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sample", type=Path, default=HERE / "sample", help="folder of sample shards to train on")
    parser.add_argument("--out", type=Path, default=HERE / "tokenizer" / "sample-bpe.json", help="tokenizer.json to write")
    parser.add_argument("--vocab-size", type=int, default=4096, help="vocabulary size, special tokens included")
    args = parser.parse_args()
    if not args.sample.is_dir() or not any(args.sample.iterdir()):
        raise SystemExit(f"{args.sample} has no sample shards; build them first with `python data/build_sample.py`")
    tokenizer = train_tokenizer(sample_texts(args.sample), args.vocab_size)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tokenizer.save(str(args.out), pretty=False)
    size = args.out.stat().st_size
    print(f"{args.out}: vocab {tokenizer.get_vocab_size()}, {size / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
