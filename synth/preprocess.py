"""Pre-processing: cut documents into chunks that fit the model's context, counted in the model's tokens.

Why by tokens of the model's own tokenizer: a chunk, the prompt around it and the answer must fit in the
context together, and characters per token vary threefold between English, Chinese and code. The cut
follows Nemotron-CC: split at paragraphs, pack consecutive short paragraphs into one chunk up to the
budget, split a paragraph longer than the budget at sentence ends, and cut a sentence longer than the
budget at a token boundary. Chunks keep document order, so chunk ``k`` of a document is the same chunk
in every run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_PARAGRAPH = re.compile(r"\n\s*\n")
_SENTENCE = re.compile(r"(?<=[.!?。！？])\s+|(?<=[。！？])")


class TokenCounter:
    """Counts tokens with a model's ``tokenizer.json`` (the fast ``tokenizers`` library, batched)."""

    def __init__(self, path: str | Path) -> None:
        from tokenizers import Tokenizer

        p = Path(path)
        file = p / "tokenizer.json" if p.is_dir() else p
        if not file.is_file():
            raise FileNotFoundError(
                f"{file}: no tokenizer.json; point `tokenizer` at the model directory or its tokenizer.json"
            )
        self._tok = Tokenizer.from_file(str(file))
        self._tok.no_padding()
        self._tok.no_truncation()

    def count(self, texts: list[str]) -> list[int]:
        """Tokens of each text, without special tokens."""
        if not texts:
            return []
        return [len(e.ids) for e in self._tok.encode_batch(texts, add_special_tokens=False)]

    def cut(self, text: str, max_tokens: int) -> list[str]:
        """Cut ``text`` at token boundaries into pieces of at most ``max_tokens`` tokens."""
        enc = self._tok.encode(text, add_special_tokens=False)
        pieces = []
        for start in range(0, len(enc.ids), max_tokens):
            span = enc.offsets[start : start + max_tokens]
            pieces.append(text[span[0][0] : span[-1][1]])
        return [p for p in pieces if p.strip()]


@dataclass(frozen=True)
class ChunkPlan:
    """The chunks of one document; ``truncated`` when some piece had to be cut mid-sentence."""

    chunks: list[str]
    truncated: bool


def _pieces(text: str) -> list[str]:
    return [p.strip() for p in _PARAGRAPH.split(text) if p.strip()]


def _sentences(paragraph: str) -> list[str]:
    return [s for s in _SENTENCE.split(paragraph) if s.strip()]


def _pack(units: list[str], sizes: list[int], budget: int, joiner: str) -> list[str]:
    """Greedily join consecutive units while the sum of their tokens stays within ``budget``."""
    out: list[str] = []
    current: list[str] = []
    used = 0
    for unit, size in zip(units, sizes):
        if current and used + size > budget:
            out.append(joiner.join(current))
            current, used = [], 0
        current.append(unit)
        used += size
    if current:
        out.append(joiner.join(current))
    return out


def split_document(text: str, counter: TokenCounter, budget: int, max_chunks: int | None = None) -> ChunkPlan:
    """Split one document into chunks of at most ``budget`` tokens (see the module docstring)."""
    if budget < 1:
        raise ValueError(f"chunk budget must be at least 1 token, got {budget}")
    paragraphs = _pieces(text)
    sizes = counter.count(paragraphs)
    units: list[str] = []
    unit_sizes: list[int] = []
    truncated = False
    for para, size in zip(paragraphs, sizes):
        if size <= budget:
            units.append(para)
            unit_sizes.append(size)
            continue
        sentences = _sentences(para)
        sent_sizes = counter.count(sentences)
        parts: list[str] = []
        for sent, s_size in zip(sentences, sent_sizes):
            if s_size <= budget:
                parts.append(sent)
            else:
                parts.extend(counter.cut(sent, budget))
                truncated = True
        # a paragraph's sentences pack among themselves (joined by a space), then join the stream
        packed = _pack(parts, counter.count(parts), budget, " ")
        units.extend(packed)
        unit_sizes.extend(counter.count(packed))
    chunks = _pack(units, [s + 1 for s in unit_sizes], budget, "\n\n")
    if max_chunks is not None:
        chunks = chunks[:max_chunks]
    return ChunkPlan(chunks, truncated)
