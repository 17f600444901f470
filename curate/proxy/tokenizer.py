"""The comparison's tokenizer: a byte-level BPE trained once on a reference sample and shared by every candidate.

Why shared: losses of two blends compare only under one tokenizer; bits per byte (what we report) would
survive a tokenizer change, but the models' capacity spent on the vocabulary would not. Byte-level means
every language of the corpus encodes without unknown tokens. ``<|endoftext|>`` (id 0) separates documents
in training and starts every evaluated sequence, as GPT-2 style models do.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from tokenizers import Tokenizer

from curate.core.tokenizer import read_tokenizer, token_id, train_bpe

EOD = "<|endoftext|>"
PAD = "<|pad|>"
SPECIAL_TOKENS = [EOD, PAD]


def train_tokenizer(texts: Iterable[str], vocab_size: int = 4096) -> Tokenizer:
    """Train a byte-level BPE on ``texts``; the special tokens come first (``<|endoftext|>`` is id 0)."""
    return train_bpe(texts, vocab_size, SPECIAL_TOKENS, min_frequency=2)


def load_tokenizer(path: str | Path) -> Tokenizer:
    """A tokenizer.json with an ``<|endoftext|>`` token; errors say which file and what to do."""
    tokenizer, _ = read_tokenizer(path, "give a tokenizer.json or train one (tokenizer.train_on)")
    token_id(tokenizer, EOD, path, "proxy models need it between documents")
    return tokenizer


def eod_id(tokenizer: Tokenizer) -> int:
    return int(tokenizer.token_to_id(EOD))


def write_hf_files(tokenizer: Tokenizer, folder: str | Path, context: int) -> None:
    """tokenizer.json plus the config files ``AutoTokenizer`` reads, so an exported model folder is complete."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tokenizer.save(str(folder / "tokenizer.json"))
    pad = PAD if tokenizer.token_to_id(PAD) is not None else EOD
    config = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": EOD,
        "eos_token": EOD,
        "unk_token": None,
        "pad_token": pad,
        "model_max_length": context,
        "add_bos_token": False,
        "clean_up_tokenization_spaces": False,
    }
    (folder / "tokenizer_config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    special = {"bos_token": EOD, "eos_token": EOD, "pad_token": pad}
    (folder / "special_tokens_map.json").write_text(json.dumps(special, indent=2) + "\n", encoding="utf-8")
