import numpy as np
import pytest

from curate.stages.gopher import GopherQuality, GopherRepetition

pytest.importorskip("spacy", reason="datatrove's English word splitting needs spaCy (test dependency)")


def run(stage_cls, texts, lang=None, table=None, **params):
    st = stage_cls(stage_cls.Params(**params))
    st.setup()
    return st.process(table(texts, lang))


@pytest.mark.parametrize(
    "ours, theirs",
    [(GopherQuality, "GopherQualityFilter"), (GopherRepetition, "GopherRepetitionFilter")],
)
def test_parity_with_datatrove_on_english(ours, theirs, english_docs, table, reference):
    import datatrove.pipeline.filters as dt

    keep, _, _ = reference(getattr(dt, theirs)(), english_docs)
    v = run(ours, english_docs, table=table)
    agree = float(np.mean(np.asarray(keep) == v.keep))
    assert agree >= 0.99, f"{ours.name}: {agree:.4f} agreement"
    assert 0 < v.keep.sum() < len(english_docs)  # both outcomes occur: the comparison means something


PROSE_EN = (
    "The committee met on Tuesday to discuss the budget for the coming year. Members agreed that the library "
    "needs new shelves and that the roof of the town hall must be repaired before winter. A local builder "
    "offered to inspect the damage with two volunteers, and the treasurer promised a report by Friday. "
    "Several residents asked whether the park could have more benches; the chair said this would be "
    "considered at the next meeting, together with the proposal to extend opening hours on weekends."
)
NO_STOP = "Green apples grow quickly near quiet rivers during warm summers " * 8


@pytest.mark.parametrize(
    "text, reason",
    [
        ("The cat sat with the dog.", "short_doc"),
        (("a b c d e f g h " * 20) + " the and", "short_words"),
        ("Incomprehensibilities characteristically " * 30 + " the and", "long_words"),
        (PROSE_EN + " #tag" * 20, "too_many_hashes"),
        (PROSE_EN + " wait..." * 20, "too_many_ellipsis"),
        ("\n".join(["- " + PROSE_EN[:80]] * 2 + ["• item with the list and more words"] * 20), "too_many_bullets"),
        ("\n".join([PROSE_EN[:90] + "..."] * 5 + [PROSE_EN]), "too_many_end_ellipsis"),
        (PROSE_EN + " 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 " * 4, "below_alpha_threshold"),
        (NO_STOP, "few_stop_words"),
    ],
)
def test_quality_rule_reasons(text, reason, table):
    v = run(GopherQuality, [text, PROSE_EN], table=table)
    assert list(v.keep) == [False, True]
    assert v.reasons[0] == reason


@pytest.mark.parametrize(
    "text, reason",
    [
        ("", "empty"),
        ("\n\n".join(["Same paragraph here."] * 4 + [PROSE_EN]), "dup_para_frac"),
        ("\n".join([PROSE_EN[:300]] * 2 + list("abcdefg")), "dup_line_char_frac"),
        (PROSE_EN + " buy now" * 60, "top_2_gram"),
        (PROSE_EN + " " + PROSE_EN[:250], "duplicated_5_n_grams"),
    ],
)
def test_repetition_rule_reasons(text, reason, table):
    v = run(GopherRepetition, [text, PROSE_EN], table=table)
    assert list(v.keep) == [False, True]
    assert v.reasons[0] == reason


def test_presets_decide_stop_words_and_word_length(prose, table):
    zh = prose["zh"]
    # read as English, Chinese prose has none of "the", "and"...: Gopher drops it
    as_en = run(GopherQuality, zh, ["en"] * len(zh), table=table)
    assert not as_en.keep.any() and set(as_en.reasons) <= {"short_words", "few_stop_words"}
    as_zh = run(GopherQuality, zh, ["zh"] * len(zh), table=table)
    assert as_zh.keep.all()
    # a language without a preset gets neither stop-word nor word-length rules
    no_stop = NO_STOP
    unknown = run(GopherQuality, [no_stop, no_stop], ["xx", "en"], table=table)
    assert list(unknown.keep) == [True, False]
    # no lang column: default_lang applies
    assert not run(GopherQuality, [no_stop], table=table).keep[0]
    assert run(GopherQuality, [no_stop], table=table, default_lang=None).keep[0]


def test_every_rule_can_be_switched_off(table):
    v = run(GopherQuality, ["The cat sat with the dog."], table=table, min_doc_words=None)
    assert v.keep[0]
