"""Per-language presets for the heuristic filters, calibrated on parallel text so that a document and its
translation get the same verdict.

English keeps Gopher's own values (its eight stop words, mean word length 3–10, every scale 1), so English
decisions are datatrove's. Every other language is measured against English on the same documents
(``curate calibrate --stats`` over ``data/parallel``, the Debian Administrator's Handbook in eleven
languages; medians of per-document ratios):

- ``word_scale``: words per English word. Word-count thresholds (Gopher ``min_doc_words``, C4
  ``min_words_per_line``) compare ``words / word_scale``; Russian says in 86 words what English says in 100,
  Japanese in 271 characters. For zh / ja / ko the Gopher repetition n-grams are ``n * word_scale``
  characters long, so a repeated 5-gram is a repeated phrase of five English words' worth.
- ``symbol_scale``: tokens without a letter (mostly punctuation) per English one. German, Russian and
  Polish put a comma before every subordinate clause; the alphabetic-word ratio and the symbol ratios
  count ``alphabetic / word_scale`` against ``other / symbol_scale``.
- ``sentence_scale``: sentences per English sentence (C4 ``min_num_sentences``); Japanese and Korean
  translations cut a long English sentence in two. 1 for the others (the median).
- word-length bounds: Gopher's 3–10 times the language's mean word length over English's.
- ``short_line_chars``: FineWeb's 30 characters times the language's characters per English character.

Stop words are each language's commonest function words (a document of real prose always has several).
Chinese, Japanese and Korean count characters as words: stop "words" are single characters and mean word
length is not checked (it is always about 1). A language without a preset gets only the language-neutral
rules with English scales: no stop-word rule and no word-length rule, never the English ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field

from curate.core.stage import Params


@dataclass(frozen=True)
class LangPreset:
    """What the heuristic filters need to know about one language."""

    code: str
    stop_words: frozenset[str]
    min_avg_word_length: float | None  # None: the rule is skipped for this language
    max_avg_word_length: float | None
    chars_are_words: bool = False  # zh / ja / ko: every CJK character counts as one word
    short_line_chars: int = 30  # FineWeb short_line_ratio: a line this long or shorter is "short"
    word_scale: float = 1.0  # words per English word, on the same content
    symbol_scale: float = 1.0  # tokens without a letter per English one, on the same content
    sentence_scale: float = 1.0  # sentences per English sentence, on the same content


def _words(s: str) -> frozenset[str]:
    return frozenset(s.split())


def _latin(code: str, stop: str, word_length: float, chars: float, words: float, symbols: float) -> LangPreset:
    """A preset from its measured ratios to English: mean word length, characters, words, other tokens."""
    lo, hi = round(3 * word_length, 1), round(10 * word_length, 1)
    return LangPreset(code, _words(stop), lo, hi, False, round(30 * chars), words, symbols)


def _cjk(code: str, stop: str, chars: float, words: float, symbols: float, sentences: float) -> LangPreset:
    return LangPreset(code, _words(stop), None, None, True, round(30 * chars), words, symbols, sentences)


#: Measured ratios (see the module docstring); ``curate calibrate --stats`` prints them again.
PRESETS: dict[str, LangPreset] = {
    p.code: p
    for p in (
        LangPreset("en", _words("the be to of and that have with"), 3, 10),
        _latin("de", "der die das und ist nicht mit zu den von sich des auf ein eine im", 1.208, 1.132, 0.956, 1.131),
        _latin("ru", "и в не на что с по это как к из для от то он но", 1.261, 1.058, 0.862, 1.056),
        _latin("es", "de la que el en y los se del las un por con una para es", 1.068, 1.084, 1.023, 0.944),
        _latin("fr", "de la le et les des en un du une que est pour qui dans à", 1.082, 1.087, 1.017, 0.935),
        _latin("it", "di e il la che in a per un del è non una della con le", 1.108, 1.086, 1.003, 0.947),
        _latin("pt", "de a o que e do da em um para é com não uma os no", 1.043, 1.056, 1.017, 1.005),
        _latin("pl", "i w nie na się z do to że jest o jak po a ale od", 1.255, 1.057, 0.876, 1.017),
        _cjk("zh", "的 了 是 在 和 有 我 不 这 也 就 人 都 一 个 中 为 以 可 们", 0.348, 1.412, 0.926, 1.000),
        _cjk("ja", "の に は を た が で て と し れ さ も な い か", 0.580, 2.706, 1.012, 1.121),
        _cjk("ko", "이 의 는 에 을 를 가 고 다 한 하 서 지 로 도 은", 0.521, 2.102, 0.881, 1.101),
    )
}


def preset_for(lang: str | None) -> LangPreset | None:
    """The preset of an ISO 639-1 code (``en``, ``zh``; ``zh-Hans`` and ``pt_BR`` read as their base), or None."""
    if not lang:
        return None
    return PRESETS.get(lang.replace("_", "-").split("-")[0].lower())


def row_presets(lang: object, n: int, default: str | None) -> tuple[list[LangPreset | None], np.ndarray]:
    """Distinct presets of a batch and, per row, the index into them.

    ``lang`` is the batch's language column (or None when the batch has none); null or absent languages
    read as ``default``. Looked up once per distinct language, not per row.
    """
    if lang is None:
        return [preset_for(default)], np.zeros(n, dtype=np.int64)
    encoded = pc.dictionary_encode(pc.fill_null(lang, default or ""))
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks() if encoded.num_chunks else pa.array([], pa.dictionary(pa.int32(), pa.string()))
    presets = [preset_for(code) for code in encoded.dictionary.to_pylist()]
    return presets, encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)


def scales(presets: list[LangPreset | None], index: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Per row, (word_scale, symbol_scale) of its preset; None when every row's are 1 (English, or no preset)."""
    if all(p is None or (p.word_scale == 1 and p.symbol_scale == 1) for p in presets):
        return None
    return preset_values(presets, index, "word_scale", 1.0), preset_values(presets, index, "symbol_scale", 1.0)


def english_equivalent(words: np.ndarray, others: np.ndarray, row_scales: tuple[np.ndarray, np.ndarray] | None) -> tuple[np.ndarray, np.ndarray]:
    """Counts of words and of other tokens per document, in English units (unchanged where scales are 1)."""
    if row_scales is None:
        return words, others
    return words / row_scales[0], others / row_scales[1]


def preset_values(presets: list[LangPreset | None], index: np.ndarray, field: str, missing: float) -> np.ndarray:
    """Per row, ``field`` of the row's preset as float (``missing`` where no preset or the field is None)."""
    table = np.array(
        [missing if p is None or getattr(p, field) is None else float(getattr(p, field)) for p in presets] or [missing]
    )
    return table[index]


class LangAwareParams(Params):
    """Parameters every language-aware heuristic filter shares."""

    lang_column: str = Field("lang", description="Column with each document's ISO 639-1 language (from lang_id).")
    default_lang: str | None = Field(
        "en",
        description="Language assumed where the column is absent or null (None: no preset, neutral rules only).",
    )


def batch_presets(batch: pa.Table, params: LangAwareParams) -> tuple[list[LangPreset | None], np.ndarray]:
    """:func:`row_presets` for a batch, reading ``params.lang_column`` when the batch has it."""
    lang = batch.column(params.lang_column) if params.lang_column in batch.column_names else None
    return row_presets(lang, batch.num_rows, params.default_lang)
