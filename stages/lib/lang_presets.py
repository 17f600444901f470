"""Per-language presets for the heuristic filters: stop words, word-length bounds, how words are counted.

English keeps Gopher's own values (its eight stop words, mean word length 3–10). Other languages get
their commonest function words (a document of real prose always has several) and word-length bounds
widened where words run long (German, Russian, Polish). Chinese, Japanese and Korean count characters as
words: stop "words" are single characters and mean word length is not checked (it is always about 1).

A language without a preset gets only the language-neutral rules: no stop-word rule and no word-length
rule, never the English ones.
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


def _words(s: str) -> frozenset[str]:
    return frozenset(s.split())


PRESETS: dict[str, LangPreset] = {
    p.code: p
    for p in (
        LangPreset("en", _words("the be to of and that have with"), 3, 10),
        LangPreset("de", _words("der die das und ist nicht mit zu den von sich des auf ein eine im"), 3, 12),
        LangPreset("ru", _words("и в не на что с по это как к из для от то он но"), 3, 12),
        LangPreset("es", _words("de la que el en y los se del las un por con una para es"), 3, 10),
        LangPreset("fr", _words("de la le et les des en un du une que est pour qui dans à"), 3, 10),
        LangPreset("it", _words("di e il la che in a per un del è non una della con le"), 3, 10),
        LangPreset("pt", _words("de a o que e do da em um para é com não uma os no"), 3, 10),
        LangPreset("pl", _words("i w nie na się z do to że jest o jak po a ale od"), 3, 12),
        LangPreset("zh", _words("的 了 是 在 和 有 我 不 这 也 就 人 都 一 个 中 为 以 可 们"), None, None, True, 15),
        LangPreset("ja", _words("の に は を た が で て と し れ さ も な い か"), None, None, True, 15),
        LangPreset("ko", _words("이 의 는 에 을 를 가 고 다 한 하 서 지 로 도 은"), None, None, True, 15),
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
