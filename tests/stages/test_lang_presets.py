"""Language presets end to end: lang_id then the heuristic filters, as recipes/heuristics.yaml runs them."""

import random

import pytest

from curate.engine.pipeline import run_in_memory
from curate.stages.c4 import C4Quality
from curate.stages.fineweb import FineWebQuality
from curate.stages.gopher import GopherQuality, GopherRepetition
from curate.stages.lang_id import LangId
from curate.stages.lib.lang_presets import PRESETS, preset_for


def heuristics():
    return [
        ("lang_id", LangId()),
        ("gopher_repetition", GopherRepetition()),
        ("gopher_quality", GopherQuality()),
        ("fineweb_quality", FineWebQuality()),
        ("c4_quality", C4Quality()),
    ]


def test_presets_cover_the_main_languages():
    assert {"en", "zh", "de", "ru", "es", "fr", "it", "pt", "pl"} <= set(PRESETS)
    assert preset_for("zh-Hans").chars_are_words and preset_for("pt_BR").code == "pt"
    assert preset_for("xx") is None and preset_for(None) is None
    assert preset_for("en").stop_words == {"the", "be", "to", "of", "and", "that", "have", "with"}


def test_clean_prose_is_kept(prose, table):
    texts = [p for lang in ("zh", "de", "ru") for p in prose[lang]]
    kept, rejected = run_in_memory(heuristics(), [table(texts)])
    assert rejected is None or rejected.num_rows == 0, rejected.column("drop_reason").to_pylist()
    assert kept.column("lang").to_pylist() == ["zh", "zh", "de", "de", "ru", "ru"]


def test_junk_is_dropped_in_every_language(junk, table):
    names = list(junk)
    kept, rejected = run_in_memory(heuristics(), [table([junk[k] for k in names])])
    assert kept.num_rows == 0, [names[int(i)] for i in kept.column("id").to_pylist()]
    assert rejected.num_rows == len(names)
    assert all(":" in r for r in rejected.column("drop_reason").to_pylist())


@pytest.mark.parametrize("lang", ["de", "ru", "zh"])
def test_each_kind_of_junk_is_caught_by_the_native_filters(lang, junk, table):
    kinds = [k for k in junk if k.endswith(":" + lang)]
    kept, _ = run_in_memory(heuristics()[1:], [table([junk[k] for k in kinds], [lang] * len(kinds))])
    assert kept.num_rows == 0


def test_word_counts_are_compared_in_english_words(table):
    # Russian says in 86 words what English says in 100: 45 Russian words pass min_doc_words 50, 45 English do not
    gopher = GopherQuality(GopherQuality.Params(min_doc_words=50, min_stop_words=None, word_length=False))
    text = " ".join(["wort"] * 45) + "."
    keep, reasons = gopher.keep(table([text, text, text], ["en", "ru", "de"]))
    assert keep.tolist() == [False, True, False]  # de: 45 / 0.956 = 47 words, still short
    assert reasons[0] == "short_doc" and reasons[2] == "short_doc"
    assert 45 / PRESETS["ru"].word_scale >= 50 > 45 / PRESETS["de"].word_scale


def test_alpha_ratio_weighs_punctuation_by_the_language(table):
    # 78 words and 22 commas: 0.78 alphabetic, below Gopher's 0.8 in English; German puts a comma before
    # every subordinate clause, so in German units the same text is 78 / 0.956 against 22 / 1.131
    text = " ".join("wort ," if i < 22 else "wort" for i in range(78)) + " ."
    gopher = GopherQuality(GopherQuality.Params(min_doc_words=None, min_stop_words=None, word_length=False))
    keep, reasons = gopher.keep(table([text, text], ["en", "de"]))
    assert keep.tolist() == [False, True] and reasons[0] == "below_alpha_threshold"


def test_cjk_repetition_ngrams_are_english_phrases_long(table):
    # a repeated 5-character phrase is a repeated 5-gram of characters but, at 2.7 characters per English
    # word, only two English words: Japanese n-grams are n * word_scale characters long
    rng = random.Random(0)
    kana = [chr(c) for c in range(0x3042, 0x3093)] + [chr(c) for c in range(0x4E00, 0x4F00)]
    text = "。".join("".join(rng.choices(kana, k=10)) + "ということ" + "".join(rng.choices(kana, k=10)) for _ in range(40))
    rep = GopherRepetition(GopherRepetition.Params(top_n_grams=[], dup_n_grams=[(5, 0.15)],
                                                   dup_para_frac=None, dup_line_frac=None,
                                                   dup_para_char_frac=None, dup_line_char_frac=None))
    keep, reasons = rep.keep(table([text, text], ["xx", "ja"]))
    assert keep.tolist() == [False, True] and reasons[0] == "duplicated_5_n_grams"


def test_english_has_no_scales():
    en = PRESETS["en"]
    assert (en.word_scale, en.symbol_scale, en.sentence_scale) == (1.0, 1.0, 1.0)
    assert (en.min_avg_word_length, en.max_avg_word_length, en.short_line_chars) == (3, 10, 30)
