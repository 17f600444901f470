"""``fineweb_quality``: FineWeb's line heuristics (Penedo et al. 2024), vectorised over lines.

Same rules, order and defaults as datatrove's FineWebQualityFilter: too few lines ending in terminal
punctuation (``line_punct_ratio``), too many short lines (``short_line_ratio``), too many characters in
repeated lines (``char_dup_ratio``), too many newlines per word (``list_ratio``). Lines are split on
``\\n`` and blank lines ignored. Language-aware: the short-line length comes from the language preset
(30 characters times the language's characters per English character: 10 for Chinese, 34 for German),
and words are counted by our splitter (one per CJK character) in English units (the preset's scales).
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field

from curate.core.registry import register
from curate.core.schema import TEXT
from curate.core.stage import FilterStage, Resources
from curate.stages.lib import batch_words as bw
from curate.stages.lib import text_stats as ts
from curate.stages.lib.lang_presets import LangAwareParams, batch_presets, english_equivalent, preset_values, scales


class FineWebQualityParams(LangAwareParams):
    line_punct_thr: float = Field(0.12, description="line_punct_ratio: least share of lines ending in terminal punctuation.")
    line_punct_exclude_zero: bool = Field(False, description="Keep documents where no line ends in punctuation.")
    short_line_thr: float = Field(0.67, description="short_line_ratio: most share of short lines.")
    short_line_length: int | None = Field(
        None, ge=1, description="A line this long or shorter is short (None: the language preset's, 30 without one)."
    )
    char_duplicates_ratio: float = Field(0.01, description="char_dup_ratio: most characters in repeated lines / all.")
    new_line_ratio: float = Field(0.3, description="list_ratio: most newlines per word.")


@register
class FineWebQuality(FilterStage):
    name = "fineweb_quality"
    row_wise = True
    Params = FineWebQualityParams
    default_resources = Resources(batch_size=4096)

    def keep(self, batch: pa.Table) -> tuple[np.ndarray, np.ndarray]:
        p = self.params
        text = ts.as_array(batch.column(TEXT))
        presets, which = batch_presets(batch, p)
        lines = ts.split_on(text, "\n", regex=False)
        lines = lines.select(pc.not_equal(pc.utf8_trim_whitespace(lines.values), "").to_numpy(zero_copy_only=False))
        n_lines = lines.per_doc()
        ends = pl.Series(values=lines.values).str.contains(f"{ts.TERMINAL}$").to_numpy()
        punct = ts.ratio(lines.per_doc(ends), n_lines)
        short_len = np.full(len(text), float(p.short_line_length)) if p.short_line_length else preset_values(
            presets, which, "short_line_chars", 30
        )
        lengths = lines.lengths()
        short = ts.ratio(lines.per_doc(lengths <= short_len[lines.doc]), n_lines)
        dup = ts.duplicates(lines.doc, ts.piece_ids(lines))
        no_newline = pc.utf8_length(text).to_numpy(zero_copy_only=False) - pc.count_substring(text, "\n").to_numpy(
            zero_copy_only=False
        )
        newlines = pc.count_substring(text, "\n").to_numpy(zero_copy_only=False)
        words = bw.document_words(text)
        row_scales = scales(presets, which)
        if row_scales is not None:  # tokens in English units (English batches skip the extra pass)
            is_alpha = bw.document_word_classes(text)[1]
            alpha, other = english_equivalent(words.per_doc(is_alpha), words.per_doc(~is_alpha), row_scales)
            words = alpha + other
        else:
            words = words.per_doc()
        rules = [
            ("empty", n_lines == 0),
            ("line_punct_ratio", (punct < p.line_punct_thr) & ~((punct == 0) & p.line_punct_exclude_zero)),
            ("short_line_ratio", short > p.short_line_thr),
            ("char_dup_ratio", ts.ratio(lines.per_doc(lengths * dup), no_newline) > p.char_duplicates_ratio),
            ("list_ratio", ts.ratio(newlines, words) > p.new_line_ratio),
        ]
        return ts.first_failure(rules, len(text))
