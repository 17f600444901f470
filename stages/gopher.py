"""``gopher_quality`` and ``gopher_repetition``: the Gopher heuristics (Rae et al. 2021, Table A1), vectorised.

Same rules, order and defaults as datatrove's GopherQualityFilter / GopherRepetitionFilter, computed for
a whole batch at once from :mod:`text_stats`. Stop words and word-length bounds come from the document's
language preset (:mod:`lang_presets`); languages without one skip those two rules. Reasons are the rule
names (``short_doc``, ``dup_line_frac``, ``top_2_gram`` ...); docs/filters.md lists them all.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field

from curate.core.registry import register
from curate.core.schema import TEXT
from curate.core.stage import FilterStage, Resources
from curate.stages.lib import ngram_repeats as ngrams
from curate.stages.lib import batch_words as bw
from curate.stages.lib import text_stats as ts
from curate.stages.lib.lang_presets import LangAwareParams, batch_presets, english_equivalent, preset_values, scales


class GopherQualityParams(LangAwareParams):
    min_doc_words: int | None = Field(50, ge=0, description="short_doc: fewer non-symbol words than this.")
    max_doc_words: int | None = Field(100_000, ge=1, description="long_doc: more non-symbol words than this.")
    word_length: bool = Field(True, description="short_words / long_words: mean word length outside the preset's bounds.")
    max_symbol_word_ratio: float | None = Field(0.1, description="too_many_hashes / too_many_ellipsis: '#' or '...' per word.")
    max_bullet_lines_ratio: float | None = Field(0.9, description="too_many_bullets: share of lines starting with • or -.")
    max_ellipsis_lines_ratio: float | None = Field(0.3, description="too_many_end_ellipsis: share of lines ending in ... or ….")
    min_alpha_words_ratio: float | None = Field(0.8, description="below_alpha_threshold: share of words with a letter.")
    min_stop_words: int | None = Field(2, ge=0, description="few_stop_words: fewer distinct preset stop words (no preset: skipped).")


@register
class GopherQuality(FilterStage):
    name = "gopher_quality"
    row_wise = True
    Params = GopherQualityParams
    default_resources = Resources(batch_size=4096)

    def keep(self, batch: pa.Table) -> tuple[np.ndarray, np.ndarray]:
        p = self.params
        text = ts.as_array(batch.column(TEXT))
        presets, which = batch_presets(batch, p)
        words = bw.document_words(text)
        is_word, is_alpha, _ = bw.document_word_classes(text)
        n_words = words.per_doc()
        n_real = words.per_doc(is_word)
        avg_len = ts.ratio(words.per_doc(words.lengths() * is_word), n_real)
        hashes = pc.count_substring(text, "#").to_numpy(zero_copy_only=False)
        ellipses = (pc.count_substring(text, "...") + pc.count_substring(text, "…")).to_numpy(zero_copy_only=False)
        lines = ts.split_lines(text)
        left = pc.utf8_ltrim_whitespace(lines.values)
        bullet = pc.or_(pc.starts_with(left, "•"), pc.starts_with(left, "-")).to_numpy(zero_copy_only=False)
        right = pc.utf8_rtrim_whitespace(lines.values)
        end_ell = pc.or_(pc.ends_with(right, "..."), pc.ends_with(right, "…")).to_numpy(zero_copy_only=False)
        n_lines = lines.per_doc()
        lo = preset_values(presets, which, "min_avg_word_length", np.nan)
        hi = preset_values(presets, which, "max_avg_word_length", np.nan)
        # counts in English units (the language's word_scale / symbol_scale; exact counts for English)
        row_scales = scales(presets, which)
        real, other = english_equivalent(n_real, n_words - n_real, row_scales)
        n_alpha = words.per_doc(is_alpha)
        alpha, non_alpha = english_equivalent(n_alpha, n_words - n_alpha, row_scales)
        none = np.zeros(len(text), dtype=bool)
        rules = [
            ("short_doc", real < p.min_doc_words if p.min_doc_words else none),
            ("long_doc", real > p.max_doc_words if p.max_doc_words else none),
            ("short_words", avg_len < lo if p.word_length else none),
            ("long_words", avg_len > hi if p.word_length else none),
        ]
        if p.max_symbol_word_ratio:
            rules.append(("too_many_hashes", ts.ratio(hashes, real + other) > p.max_symbol_word_ratio))
            rules.append(("too_many_ellipsis", ts.ratio(ellipses, real + other) > p.max_symbol_word_ratio))
        if p.max_bullet_lines_ratio:
            rules.append(("too_many_bullets", ts.ratio(lines.per_doc(bullet), n_lines) > p.max_bullet_lines_ratio))
        if p.max_ellipsis_lines_ratio:
            rules.append(("too_many_end_ellipsis", ts.ratio(lines.per_doc(end_ell), n_lines) > p.max_ellipsis_lines_ratio))
        if p.min_alpha_words_ratio:
            rules.append(("below_alpha_threshold", ts.ratio(alpha, alpha + non_alpha) < p.min_alpha_words_ratio))
        if p.min_stop_words:
            rules.append(("few_stop_words", self._stop_words(text, words, presets, which) < p.min_stop_words))
        return ts.first_failure(rules, len(text))

    def _stop_words(self, text: pa.Array, words: ts.Pieces, presets: list, which: np.ndarray) -> np.ndarray:
        """Distinct stop words of each document's own preset; +inf (never fails) where it has none."""
        ids, dictionary = bw.document_word_ids(text)
        is_stop = np.zeros((len(presets), len(dictionary)), dtype=bool)  # per preset, per distinct word
        found = np.full(words.n_docs, np.inf)
        for i, preset in enumerate(presets):
            if preset is not None:
                found[which == i] = 0
                is_stop[i] = pc.is_in(dictionary, pa.array(sorted(preset.stop_words))).to_numpy(zero_copy_only=False)
        stop = is_stop[which[words.doc], ids]
        first = ~ts.duplicates(words.doc[stop], ids[stop])
        has = np.isfinite(found)
        found[has] = np.bincount(words.doc[stop], weights=first, minlength=words.n_docs)[has]
        return found


class GopherRepetitionParams(LangAwareParams):
    dup_line_frac: float | None = Field(0.3, description="dup_line_frac: share of lines that repeat an earlier line.")
    dup_para_frac: float | None = Field(0.3, description="dup_para_frac: share of paragraphs that repeat an earlier one.")
    dup_line_char_frac: float | None = Field(0.2, description="dup_line_char_frac: characters in repeated lines / all.")
    dup_para_char_frac: float | None = Field(0.2, description="dup_para_char_frac: characters in repeated paragraphs / all.")
    top_n_grams: list[tuple[int, float]] = Field(
        [(2, 0.2), (3, 0.18), (4, 0.16)], description="top_N_gram: (N, most frequent N-gram's characters / all)."
    )
    dup_n_grams: list[tuple[int, float]] = Field(
        [(5, 0.15), (6, 0.14), (7, 0.13), (8, 0.12), (9, 0.11), (10, 0.10)],
        description="duplicated_N_n_grams: (N, characters in repeated N-grams / all).",
    )


@register
class GopherRepetition(FilterStage):
    name = "gopher_repetition"
    row_wise = True
    Params = GopherRepetitionParams
    default_resources = Resources(batch_size=4096)

    def keep(self, batch: pa.Table) -> tuple[np.ndarray, np.ndarray]:
        p = self.params
        text = ts.as_array(batch.column(TEXT))
        n_chars = pc.utf8_length(text).to_numpy(zero_copy_only=False).astype(np.float64)
        rules = [("empty", n_chars == 0)]
        paras = ts.split_on(pc.utf8_trim_whitespace(text), r"\n{2,}")
        lines = ts.split_on(text, r"\n+")
        for name, pieces, frac, char_frac in (
            ("para", paras, p.dup_para_frac, p.dup_para_char_frac),
            ("line", lines, p.dup_line_frac, p.dup_line_char_frac),
        ):
            dup = ts.duplicates(pieces.doc, ts.piece_ids(pieces))
            if frac:
                rules.append((f"dup_{name}_frac", ts.ratio(pieces.per_doc(dup), pieces.per_doc()) > frac))
            if char_frac:
                rules.append((f"dup_{name}_char_frac", ts.ratio(pieces.per_doc(pieces.lengths() * dup), n_chars) > char_frac))
        words = bw.document_words(text)
        lens, ids = words.lengths(), bw.document_word_ids(text)[0]
        ns = [n for n, _ in p.top_n_grams + p.dup_n_grams]
        groups = []  # (n -> n-gram length, the group's documents, word lengths, their running sum, repeated n-grams)
        for sizes, docs in _ngram_sizes(batch, p, ns):
            sel = None if docs is None else docs[words.doc]
            g_ids, g_doc, g_lens = (ids, words.doc, lens) if sel is None else (ids[sel], words.doc[sel], lens[sel])
            repeats = ngrams.repeated_ngrams(g_ids, g_doc, list(sizes.values()))
            groups.append((sizes, g_doc, g_lens, np.r_[0, np.cumsum(g_lens)], repeats))
        for n, frac in p.top_n_grams:
            top = sum(
                ngrams.top_ngram_chars(*repeats[m[n]], g_lens, g_doc, m[n], len(text))
                for m, g_doc, g_lens, _, repeats in groups
            )
            rules.append((f"top_{n}_gram", ts.ratio(top, n_chars) > frac))
        for n, frac in p.dup_n_grams:
            alive = ~np.logical_or.reduce([fails for _, fails in rules])
            fails = np.logical_or.reduce([
                ngrams.dup_ngram_fails(*repeats[m[n]], g_lens, g_doc, m[n], n_chars, frac, alive, chars)
                for m, g_doc, g_lens, chars, repeats in groups
            ])
            rules.append((f"duplicated_{n}_n_grams", fails))
        return ts.first_failure(rules, len(text))


def _ngram_sizes(batch: pa.Table, p: GopherRepetitionParams, ns: list[int]) -> list[tuple[dict[int, int], np.ndarray | None]]:
    """Groups of documents with the same n-gram lengths: ({n: length}, which documents, None for all).

    Words are n-grams' units except where characters are words (zh / ja / ko): there an n-gram is
    ``n * word_scale`` characters, the length of n English words of the same content.
    """
    presets, which = batch_presets(batch, p)
    factor = np.array([q.word_scale if q is not None and q.chars_are_words else 1.0 for q in presets] or [1.0])
    if (factor == 1.0).all():
        return [({n: n for n in ns}, None)]
    per_row = factor[which]
    return [({n: max(n, round(n * f)) for n in ns}, per_row == f) for f in np.unique(per_row)]

