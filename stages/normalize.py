"""``normalize``: make text clean Unicode and safe to tokenize.

In order: mojibake repair with ftfy (``fix_mojibake``; ``donâ€™t`` → ``don’t``), Unicode normalisation
(NFC by default, NFKC also folds full-width forms and ligatures), removal of control characters (not tab or
line breaks) and zero-width characters (ZWSP, word joiner, BOM, soft hyphen, Mongolian vowel separator;
ZWJ/ZWNJ are kept: they join emoji and shape Persian and Indic words), then special tokens: strings a
tokenizer would read as control tokens (``<|endoftext|>``, ``<s>``, ``[INST]`` … or a ``tokenizer.json``'s
special ``added_tokens``), so that web text cannot end a document or open a chat turn. ``escape`` inserts a space after the token's first character (``<|endoftext|>`` →
``< |endoftext|>``), ``remove`` deletes it (repeatedly, so removal cannot join a new one), ``drop`` drops the
document (reason ``special_token``); last, whitespace cleanup (CRLF and CR to LF, exotic spaces to a
space, trailing spaces, more than one blank line, leading/trailing blank space).

Vectorised with Arrow regex kernels; the per-row Python paths (ftfy, ``unicodedata``) run only on the rows
a kernel flagged: non-ASCII rows for normalisation, rows with a UTF-8-read-as-cp1252 byte pair for ftfy.
The manifest's ``counters`` count documents changed per kind. Memory: one batch.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import defaultdict
from pathlib import Path
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field

from curate.core.registry import register
from curate.core.schema import TEXT
from curate.core.stage import MapStage, Params, Verdict
from curate.stages.lib.rows import on_rows

DEFAULT_SPECIAL_TOKENS = [
    "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|im_sep|>", "<|endofprompt|>",
    "<s>", "</s>", "<unk>", "<pad>", "[INST]", "[/INST]", "<<SYS>>", "<</SYS>>",
    "<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>",
    "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>", "<|fim_pad|>",
]  # fmt: skip
CONTROL = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\x{80}-\x{9f}]"
ZERO_WIDTH = r"[\x{200b}\x{2060}\x{feff}\x{ad}\x{180e}]"
SPACES = r"[\x{a0}\x{2000}-\x{200a}\x{202f}\x{205f}]"
#: a UTF-8 lead byte read as Latin-1/cp1252, then a continuation byte read the same way: likely mojibake
MOJIBAKE = (
    r"[\x{c2}-\x{f4}][\x{80}-\x{bf}\x{152}\x{153}\x{160}\x{161}\x{178}\x{17d}\x{17e}\x{192}\x{2c6}\x{2dc}"
    r"\x{2013}\x{2014}\x{2018}-\x{201e}\x{2020}-\x{2022}\x{2026}\x{2030}\x{2039}\x{203a}\x{20ac}\x{2122}]"
)


class NormalizeParams(Params):
    form: Literal["NFC", "NFKC", "none"] = Field("NFC", description="Unicode normalisation form (none: leave as is).")
    fix_mojibake: bool = Field(False, description="Repair UTF-8 decoded as Latin-1/cp1252 (`â€™` → `’`) with ftfy.")
    remove_control: bool = Field(True, description="Remove C0/C1 control characters other than tab, LF and CR.")
    remove_zero_width: bool = Field(True, description="Remove ZWSP, word joiner, BOM, soft hyphen, U+180E (ZWJ/ZWNJ stay).")
    whitespace: bool = Field(True, description="CRLF/CR → LF, odd spaces → space, no trailing spaces, ≤1 blank line, trimmed.")
    special_tokens: Literal["escape", "remove", "drop", "keep"] = Field(
        "escape", description="What to do with special-token strings: escape, remove, drop the document, or keep."
    )
    tokens: list[str] | None = Field(None, description="Special-token strings to look for (None: a built-in list).")
    tokenizer: str | None = Field(None, description="A tokenizer.json whose `added_tokens` marked special are added.")


@register
class Normalize(MapStage):
    name = "normalize"
    Params = NormalizeParams

    def setup(self) -> None:
        p = self.params
        tokens = list(DEFAULT_SPECIAL_TOKENS if p.tokens is None else p.tokens)
        if p.tokenizer:
            added = json.loads(Path(p.tokenizer).read_text(encoding="utf-8")).get("added_tokens", [])
            tokens += [t["content"] for t in added if t.get("special")]
        tokens = sorted({t for t in tokens if t}, key=lambda t: (-len(t), t))  # longest first wins
        self._any_token = "|".join(re.escape(t) for t in tokens) or None
        by_first: dict[str, list[str]] = defaultdict(list)
        for t in tokens:
            by_first[t[0]].append(re.escape(t[1:]))
        # escape: one kernel call per distinct first character, `X(rest)` → `X \1`
        self._escapes = [(f"{re.escape(first)}({'|'.join(rests)})", f"{_re2_literal(first)} \\1") for first, rests in by_first.items()]

    def process(self, batch: pa.Table) -> Verdict:
        p = self.params
        text = batch.column(TEXT).combine_chunks() if batch.num_rows else pa.array([], pa.string())
        counters: dict[str, int] = {}

        def step(kind: str, new: pa.Array) -> None:
            nonlocal text
            counters[kind] = int(pc.sum(pc.not_equal(text, new)).as_py() or 0)
            text = new

        if p.fix_mojibake:
            step("mojibake", on_rows(text, pc.match_substring_regex(text, MOJIBAKE), _ftfy))
        if p.form != "none":
            form = p.form
            step(form.lower(), on_rows(text, pc.invert(pc.string_is_ascii(text)), lambda s: unicodedata.normalize(form, s)))
        if p.remove_control:
            step("control", pc.replace_substring_regex(text, CONTROL, ""))
        if p.remove_zero_width:
            step("zero_width", pc.replace_substring_regex(text, ZERO_WIDTH, ""))
        keep = None
        if p.special_tokens != "keep" and self._any_token:
            found = pc.fill_null(pc.match_substring_regex(text, self._any_token), False).to_numpy(zero_copy_only=False)
            counters["special_token"] = int(found.sum())
            if p.special_tokens == "drop":
                keep = ~found
            elif p.special_tokens == "remove":
                while pc.any(pc.match_substring_regex(text, self._any_token)).as_py():
                    text = pc.replace_substring_regex(text, self._any_token, "")
            else:
                for pattern, replacement in self._escapes:
                    text = pc.replace_substring_regex(text, pattern, replacement)
        if p.whitespace:
            step("whitespace", _clean_whitespace(text))
        out = batch.set_column(batch.column_names.index(TEXT), TEXT, text)
        reasons = None if keep is None else np.where(keep, "", "special_token")
        return Verdict(out, keep, reasons, counters)


def _re2_literal(ch: str) -> str:
    """``ch`` as a literal in an RE2 replacement string (only the backslash is special there)."""
    return "\\\\" if ch == "\\" else ch


def _ftfy(s: str) -> str:
    import ftfy

    config = ftfy.TextFixerConfig(
        unescape_html=False, fix_latin_ligatures=False, fix_character_width=False, uncurl_quotes=False,
        fix_line_breaks=False, remove_control_chars=False, normalization=None,
    )  # fmt: skip
    return ftfy.fix_text(s, config)


def _clean_whitespace(text: pa.Array) -> pa.Array:
    text = pc.replace_substring_regex(text, r"\r\n?", "\n")
    text = pc.replace_substring_regex(text, SPACES, " ")
    text = pc.replace_substring_regex(text, r"[ \t]+\n", "\n")
    text = pc.replace_substring_regex(text, r"\n{3,}", "\n\n")
    return pc.utf8_trim_whitespace(text)
