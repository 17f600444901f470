"""``c4_quality``: C4's line clean-up and document rules (Raffel et al. 2020), vectorised over lines.

Same rules, order and defaults as datatrove's C4QualityFilter (split on lines). Each line is stripped;
a line is removed if it has a word over ``max_word_length`` characters, does not end in terminal
punctuation (or ends in ``...``), has fewer than ``min_words_per_line`` words, mentions javascript, or
holds a cookie / terms-of-use phrase. A document is dropped if a surviving line says "lorem ipsum"
(``lorem_ipsum``) or has a curly bracket (``curly_bracket``), or if fewer than ``min_num_sentences``
sentences survive (``too_few_sentences``). Kept documents get the cleaned text (kept lines joined by
newlines), as in C4.

Language-aware: for zh / ja / ko (``chars_are_words`` presets) a line's words are counted with our word
splitter (one per character) instead of whitespace, and CJK sentence marks (。！？) end lines. A line's
word count is compared in English words (divided by the preset's ``word_scale``): three English words are
about eight Japanese characters; sentences likewise (``sentence_scale``).
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field

from curate.core.registry import register
from curate.core.schema import TEXT
from curate.core.stage import MapStage, Resources, Verdict
from curate.stages.lib import batch_words as bw
from curate.stages.lib import text_stats as ts
from curate.stages.lib.columns import set_column
from curate.stages.lib.lang_presets import LangAwareParams, batch_presets, preset_values

_CITATION = r"\[\d*\]|\[edit\]|\[citation needed\]"
_POLICY = "terms of use|privacy policy|cookie policy|uses cookies|use of cookies|use cookies"
_END = r"""[.?!"'。！？]$"""


class C4QualityParams(LangAwareParams):
    remove_citations: bool = Field(True, description="Remove Wikipedia-style citations ([1], [edit]) from lines.")
    filter_no_terminal_punct: bool = Field(True, description="Remove lines not ending in . ? ! \" ' (or ending in ...).")
    min_num_sentences: int = Field(5, description="too_few_sentences: fewer sentences left after clean-up (-1: off).")
    min_words_per_line: int = Field(3, description="Remove lines with fewer words (-1: off).")
    max_word_length: int = Field(1000, description="Remove lines with a longer word (-1: off).")
    filter_lorem_ipsum: bool = Field(True, description="lorem_ipsum: drop documents with 'lorem ipsum' in a kept line.")
    filter_javascript: bool = Field(True, description="Remove lines mentioning javascript.")
    filter_curly_bracket: bool = Field(True, description="curly_bracket: drop documents with '{' in a kept line.")
    filter_policy: bool = Field(True, description="Remove lines with cookie / privacy / terms-of-use phrases.")


@register
class C4Quality(MapStage):
    name = "c4_quality"
    row_wise = True
    Params = C4QualityParams
    default_resources = Resources(batch_size=4096)

    def process(self, batch: pa.Table) -> Verdict:
        p = self.params
        text = ts.as_array(batch.column(TEXT))
        n = len(text)
        presets, which = batch_presets(batch, p)
        cjk_doc = np.array([bool(x and x.chars_are_words) for x in presets] or [False])[which]
        lines = ts.split_lines(text)
        line = pc.utf8_trim_whitespace(lines.values)
        cjk = cjk_doc[lines.doc]
        uncited = pc.replace_substring_regex(line, _CITATION, "") if p.remove_citations else line
        # our words of each line without citations (for sentences), and counts before it (CJK lines' words)
        words, before = bw.line_words(text, lines, uncited) if cjk.any() or p.min_num_sentences != -1 else (None, None)
        n_words = pc.list_value_length(pc.utf8_split_whitespace(line)).to_numpy(zero_copy_only=False)
        if cjk.any():  # characters are words there: count them with our word split, as the line was
            n_words = np.where(cjk, before, n_words)
        keep = np.ones(len(lines.doc), dtype=bool)
        if p.max_word_length != -1:
            long_line = pc.greater(pc.utf8_length(line), p.max_word_length).to_numpy(zero_copy_only=False)
            if long_line.any():
                tokens = ts.flatten(pc.utf8_split_whitespace(line), len(keep))
                too_long = tokens.per_doc((tokens.lengths() > p.max_word_length).astype(float)) > 0
                keep &= ~too_long
        line = uncited
        if p.filter_no_terminal_punct:
            ends = pc.match_substring_regex(line, _END).to_numpy(zero_copy_only=False)
            keep &= ends & ~pc.ends_with(line, "...").to_numpy(zero_copy_only=False)
        if p.min_words_per_line != -1:
            # in English words: the language's word_scale (1 for English, so its counts are exact)
            scale = preset_values(presets, which, "word_scale", 1.0)[lines.doc]
            keep &= (n_words if (scale == 1.0).all() else n_words / scale) >= p.min_words_per_line
        lower = pc.utf8_lower(line)
        lorem = keep & pc.match_substring(lower, "lorem ipsum").to_numpy(zero_copy_only=False) if p.filter_lorem_ipsum else None
        if p.filter_javascript:
            keep &= ~pc.match_substring(lower, "javascript").to_numpy(zero_copy_only=False)
        curly = keep & pc.match_substring(line, "{").to_numpy(zero_copy_only=False) if p.filter_curly_bracket else None
        if p.filter_policy:
            keep &= ~pc.match_substring_regex(lower, _POLICY).to_numpy(zero_copy_only=False)
        rules = [
            ("lorem_ipsum", _first_line(lorem, lines.doc, n)),
            ("curly_bracket", _first_line(curly, lines.doc, n)),
        ]
        # whichever document rule fires on the earlier line wins, as in a line-by-line scan
        first = np.minimum(rules[0][1], rules[1][1])
        rules = [(name, (at < np.iinfo(np.int64).max) & (at == first)) for name, at in rules]
        kept = lines.select(keep)
        kept_text = pc.filter(line, pa.array(keep))
        if p.min_num_sentences != -1:
            sentences = kept.per_doc(sentences_in(words.select(keep[words.doc]))[keep])
            # in English sentences: the preset's sentence_scale (Japanese cuts one English sentence in more)
            sentence_scale = preset_values(presets, which, "sentence_scale", 1.0)
            if (sentence_scale != 1.0).any():
                sentences = sentences / sentence_scale
            rules.append(("too_few_sentences", sentences < p.min_num_sentences))
        mask, reasons = ts.first_failure(rules, n)
        offsets = np.concatenate([[0], np.cumsum(kept.per_doc())]).astype(np.int32)
        cleaned = pc.utf8_trim_whitespace(pc.binary_join(pa.ListArray.from_arrays(pa.array(offsets), kept_text), "\n"))
        return Verdict(set_column(batch, TEXT, cleaned), mask, reasons)


def _first_line(hit: np.ndarray | None, doc: np.ndarray, n_docs: int) -> np.ndarray:
    """Index of the first line per document where ``hit`` is true (int64 max where none)."""
    out = np.full(n_docs, np.iinfo(np.int64).max, dtype=np.int64)
    if hit is not None and hit.any():
        where = np.flatnonzero(hit)
        np.minimum.at(out, doc[where], where)
    return out


def sentences_per_line(lines: pa.Array) -> np.ndarray:
    """Sentences per line, counted the way spaCy's sentencizer does on our words."""
    return sentences_in(ts.split_words(lines))


def sentences_in(words: ts.Pieces) -> np.ndarray:
    """Sentences per line from the words of each line (``words.doc`` is the line).

    A sentence starts at the first word (not punctuation) after a sentence-ending mark; the first one
    starts at the line's first word or mark.
    """
    encoded = pc.dictionary_encode(words.values)  # each distinct word classified once
    classes = pl.DataFrame({"w": pl.Series(values=encoded.dictionary)}).select(
        pl.col("w").str.contains(f"^{ts.TERMINAL}$").alias("end"),
        pl.col("w").str.contains(r"^\p{P}+$").alias("punct"),
    )
    index = encoded.indices.to_numpy(zero_copy_only=False)
    end = classes.get_column("end").to_numpy()[index]
    plain = ~end & ~classes.get_column("punct").to_numpy()[index]
    seen = np.cumsum(end)
    idx = np.flatnonzero(plain)
    # a plain word starts a sentence when a mark was seen since the previous plain word of its line
    prev_seen = np.zeros(len(idx), dtype=np.int64)
    same = np.zeros(len(idx), dtype=bool)
    same[1:] = words.doc[idx][1:] == words.doc[idx][:-1]
    prev_seen[same] = seen[idx[:-1]][same[1:]]
    line_start = np.searchsorted(words.doc, words.doc[idx])
    base = np.where(same, prev_seen, np.where(line_start > 0, seen[np.maximum(line_start - 1, 0)], 0))
    starts = words.per_doc(np.zeros(len(words.doc)))
    np.add.at(starts, words.doc[idx], (seen[idx] - base > 0).astype(float))
    has_words = words.per_doc() > 0
    return starts + has_words
