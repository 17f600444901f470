"""Tokenizers: one way to load, train and batch-encode Hugging Face ``tokenizers`` models.

Mixing (token counts, Megatron binaries), proxy models (training streams, evaluation) and the demo-model
builders all tokenize; they share this module so a tokenizer file is read, checked and encoded the same
way everywhere. Byte-level BPE means every language encodes without unknown tokens.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

from curate.core.errors import RecipeError

#: Texts per ``encode_batch`` call: large enough for the Rust side to parallelise, small enough to stream.
ENCODE_BATCH = 1024


def train_bpe(
    texts: Iterable[str], vocab_size: int, special_tokens: Sequence[str], *, min_frequency: int = 0, unk_token: str | None = None
) -> Tokenizer:
    """A byte-level BPE trained on ``texts``; ``special_tokens`` take the first ids, in order."""
    tokenizer = Tokenizer(models.BPE(unk_token=unk_token) if unk_token else models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=min_frequency,
        special_tokens=list(special_tokens),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(texts, trainer=trainer)
    return tokenizer


def read_tokenizer(path: str | Path, hint: str = "give the local path of a tokenizer.json") -> tuple[Tokenizer, bytes]:
    """A tokenizer.json and its bytes (for fingerprints); errors name the file and say what to do."""
    p = Path(path)
    if not p.is_file():
        raise RecipeError(f"tokenizer {str(path)!r} does not exist; {hint}")
    data = p.read_bytes()
    try:
        return Tokenizer.from_str(data.decode("utf-8")), data
    except Exception as exc:  # tokenizers raises a bare Exception on malformed JSON
        raise RecipeError(f"tokenizer {str(path)!r} is not a Hugging Face tokenizer.json: {exc}") from exc


def token_id(tokenizer: Tokenizer, token: str, path: str | Path, what: str) -> int:
    """The id of ``token``, or a RecipeError naming the tokenizer file and why the token is needed."""
    found = tokenizer.token_to_id(token)
    if found is None:
        raise RecipeError(f"tokenizer {str(path)!r} has no {token!r} token; {what}")
    return int(found)


def encode_batches(
    tokenizer: Tokenizer, texts: Sequence[str | None] | pa.Array | pa.ChunkedArray, batch: int = ENCODE_BATCH
) -> Iterator[list[list[int]]]:
    """Token ids of each text (no special tokens added; None as ''), one list per batch of ``batch`` texts.

    Arrow arrays are converted a batch at a time, so memory is bounded by the batch, not the column.
    """
    # encode_batch_fast (tokenizers >= 0.21) skips character offsets we never use
    fast = getattr(tokenizer, "encode_batch_fast", tokenizer.encode_batch)
    arrow = isinstance(texts, (pa.Array, pa.ChunkedArray))
    for start in range(0, len(texts), batch):
        chunk = texts.slice(start, batch).to_pylist() if arrow else texts[start : start + batch]
        yield [e.ids for e in fast([t or "" for t in chunk], add_special_tokens=False)]


def encode(tokenizer: Tokenizer, texts: Sequence[str | None]) -> list[np.ndarray]:
    """Token ids of each text as int32 arrays (no special tokens added)."""
    return [np.asarray(ids, dtype=np.int32) for ids_batch in encode_batches(tokenizer, texts) for ids in ids_batch]
