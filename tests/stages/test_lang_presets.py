"""Language presets end to end: lang_id then the heuristic filters, as recipes/heuristics.yaml runs them."""

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
