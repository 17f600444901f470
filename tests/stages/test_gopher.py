from collections import Counter

import numpy as np
import pytest

from curate.stages.gopher import GopherQuality, GopherRepetition
from curate.stages.lib.ngram_repeats import dup_ngram_fails, repeated_ngrams, top_ngram_chars

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


def _greedy_walk(ids, lens, doc, n, n_chars, frac):
    """Gopher's repeated n-gram count as datatrove walks it, one position at a time (the reference)."""
    fails = np.zeros(len(n_chars), dtype=bool)
    for i in range(len(n_chars)):
        words, chars = ids[doc == i].tolist(), lens[doc == i].tolist()
        seen, repeated, j = set(), 0, 0
        while j + n <= len(words) and repeated <= frac * n_chars[i]:
            gram = tuple(words[j : j + n])
            if gram in seen:
                repeated += sum(chars[j : j + n])
                j += n
            else:
                seen.add(gram)
                j += 1
        fails[i] = n_chars[i] > 0 and repeated / n_chars[i] > frac
    return fails


def _top_counter(ids, lens, doc, n, n_docs):
    """The most frequent n-gram's characters times its count, per document, by Counter (the reference)."""
    out = np.zeros(n_docs)
    for i in range(n_docs):
        words = [(int(w), int(c)) for w, c in zip(ids[doc == i], lens[doc == i])]
        grams = Counter(tuple(words[j : j + n]) for j in range(len(words) - n + 1))
        if grams:
            gram, count = grams.most_common(1)[0]
            out[i] = count * (sum(c for _, c in gram) + n - 1)
    return out


def _corpus(seed):
    """Eight documents of 0-89 words from a small vocabulary (so n-grams repeat); a word has one length."""
    rng = np.random.default_rng(seed)
    doc = np.repeat(np.arange(8), rng.integers(0, 90, 8))
    ids = rng.integers(0, rng.integers(2, 30), len(doc)).astype(np.uint64)
    lens = (ids % 8 + 1).astype(np.int64)
    return rng, doc, ids, lens, np.bincount(doc, weights=lens + 1, minlength=8)


@pytest.mark.parametrize("seed", range(40))
def test_repeated_ngram_count_is_gophers_greedy_walk(seed):
    """The bounds and the walk over repeated positions only give the one-position-at-a-time answer."""
    rng, doc, ids, lens, n_chars = _corpus(seed)
    n = int(rng.integers(2, 8))
    frac = float(rng.choice([0.05, 0.1, 0.15, 0.3]))
    ours = dup_ngram_fails(*repeated_ngrams(ids, doc, [n])[n], lens, doc, n, n_chars, frac, np.ones(8, dtype=bool))
    assert ours.tolist() == _greedy_walk(ids, lens, doc, n, n_chars, frac).tolist()


@pytest.mark.parametrize("seed", range(20))
def test_ngram_statistics_from_chained_repeats_match_the_references(seed):
    """Repeated n-grams found size by size (each larger n only where the smaller repeated) give the
    Counter answer for the top n-gram and the greedy walk for repeated n-grams, at every size."""
    _, doc, ids, lens, n_chars = _corpus(seed)
    ns = [2, 3, 4, 5, 7, 10]
    repeated = repeated_ngrams(ids, doc, ns)
    for n in ns:
        assert top_ngram_chars(*repeated[n], lens, doc, n, 8).tolist() == _top_counter(ids, lens, doc, n, 8).tolist()
        fails = dup_ngram_fails(*repeated[n], lens, doc, n, n_chars, 0.1, np.ones(8, dtype=bool))
        assert fails.tolist() == _greedy_walk(ids, lens, doc, n, n_chars, 0.1).tolist()
    assert len(repeated[10][0]) < len(repeated[2][0])  # larger n-grams repeat at fewer positions


def test_repeated_ngrams_stay_inside_documents():
    """(1, 2) repeats in document 0 only; in document 1 it occurs once, and (2, 1) across the boundary is no n-gram."""
    doc = np.array([0, 0, 0, 0, 1, 1, 1])
    ids = np.array([1, 2, 1, 2, 1, 2, 3], dtype=np.uint64)
    positions, keys = repeated_ngrams(ids, doc, [2])[2]
    assert positions.tolist() == [0, 2]
    assert keys[0] == keys[1]
