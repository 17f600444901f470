import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from curate.stages.lib import batch_words as bw
from curate.stages.lib import text_stats as ts


def words(text: str) -> list[str]:
    return [w.replace("\ue000", "-").replace("\ue001", "-") for w in ts.split_words(pa.array([text])).values.to_pylist()]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Don't stop the U.S. team.", ["Do", "n't", "stop", "the", "U.S.", "team", "."]),
        ("well-known (see http://x.org/a?b=1).", ["well", "-", "known", "(", "see", "http://x.org/a?b=1", ")", "."]),
        ("It's 3.5% of $10...", ["It", "'s", "3.5", "%", "of", "$", "10", "..."]),
        ("os.path.join(a, b) Inc. e.g. GPL-2", ["os.path.join(a", ",", "b", ")", "Inc.", "e.g.", "GPL-2"]),
        ("run ls -l --all and/or a/b", ["run", "ls", "-l", "--all", "and-or", "a", "/", "b"]),
        ("中文字，ok", ["中", "文", "字", "，", "ok"]),
    ],
)
def test_word_splitting(text, expected):
    assert words(text) == expected


def test_word_splitting_keeps_document_order_and_lengths():
    texts = pa.array(["a/b c", "", "x y:z", None])
    p = ts.split_words(ts.as_array(texts))
    assert p.doc.tolist() == [0, 0, 0, 0, 2, 2, 2, 2]
    assert p.per_doc().tolist() == [4, 0, 4, 0]
    assert p.values.to_pylist() == ["a", "/", "b", "c", "x", "y", ":", "z"]


_PIECES = list("abcXYZ019 \n\t.,;:!?()[]\"'’‘“”-–—/@#=<>_~+*&%$中文日本ーカ한。，、：（）「」…①éñßИж\u0301\ue000") + [
    "cannot", "Inc", "Dr", "co", "vs", "n't", "'s", "http://", "https://x.y/", "km", "MB", "--", "and/or", "e.g.",
    "U.S.", "8)", "):", "...", "C++", "word", "Straße",
]


@settings(max_examples=60, deadline=None)
@example(["cannot CANNOT “cannot” Inc. inc. Dr. e.g. U.S. A. 中.文. 中文@x.com 8) ): (中文) “中文”。 word: (word)"])
@example(["\"x\" x-1 5km a/b and/or it's don't ’s 中's ‘s »xfs«. ― … …… 日本語・カタカナー。한국어 텍스트입니다."])
@example(["a\u0301b ①，② x=1 os.path ./configure .pyc --help -l https://x.com/中文 foo@bar.org", "", "Mr. co. vs."])
@given(st.lists(st.lists(st.sampled_from(_PIECES), max_size=40).map("".join), min_size=1, max_size=30))
def test_chunk_classes_give_the_words_of_the_full_pattern(texts):
    """The fast paths (plain words, CJK runs, wrapped words) split exactly as the full rules on whole texts."""
    fast = ts.split_words(pa.array(texts))
    full, owner = ts._split_chunks(pl.Series(texts))
    assert fast.values.to_pylist() == full.to_list()
    assert fast.doc.tolist() == owner.tolist()


#: every Unicode White_Space character, and look-alikes that are not (zero-width space, U+001C..U+001F, NUL)
_SPACES = [" ", "\t", "\n", "\x0b", "\x0c", "\r", "\x85", "\xa0", "\u1680", "\u2000", "\u2005", "\u200a", "\u2028",
           "\u2029", "\u202f", "\u205f", "\u3000", "\u200b", "\u2027", "\u2030", "\x1c", "\x1f", "\x00", "\u1681", "\u3001"]


@settings(max_examples=80, deadline=None)
@given(st.lists(st.lists(st.sampled_from(_SPACES + ["a", "b", "ab", "中", "é", "…", "\U0001F600"]), max_size=30).map("".join),
                max_size=20), st.integers(0, 3))
def test_whitespace_chunks_are_the_regex_chunks_dictionary_encoded(texts, skip):
    """The compiled chunker against polars' ``\\S+``, distinct chunks numbered by first occurrence, on sliced
    input with a null."""
    text = ts.as_array(pa.array(["x y"] * skip + texts + [None], pa.string()).slice(skip))
    per_doc, index, dictionary = ts.whitespace_chunks(text)
    want = pl.Series(values=text).str.extract_all(r"\S+")
    assert per_doc.tolist() == want.list.len().to_list()
    chunks = [c for row in want.to_list() for c in row]
    first = {c: None for c in chunks}  # distinct, in order of first occurrence
    assert dictionary.to_pylist() == list(first)
    assert index.tolist() == [list(first).index(c) for c in chunks]


@pytest.mark.parametrize("text", ["a\nb", "a\n", "", "\n", "a\r\nb\rc\x0bd\x85e\u2028", "a\n\nb\n\n", "x"])
def test_lines_match_python_splitlines(text):
    p = ts.split_lines(pa.array([text]))
    assert p.values.to_pylist() == text.splitlines()


def test_duplicates_are_per_document():
    doc = np.array([0, 0, 0, 1, 1])
    key = np.array([5, 5, 6, 5, 5], dtype=np.uint64)
    assert ts.duplicates(doc, key).tolist() == [False, True, False, False, True]


def test_first_failure_reports_rule_order():
    keep, reasons = ts.first_failure([("a", np.array([False, True, False])), ("b", np.array([True, True, False]))], 3)
    assert keep.tolist() == [False, False, True]
    assert reasons.tolist() == ["b", "a", ""]


_LINE_PIECES = _PIECES + ["\n", "\r\n", "\n\n", "\x0b", "\x1c", "\x1e", "\x1f", "\u2028", "\u00a0", "\u3000", "[1]", "[edit]"]


@settings(max_examples=60, deadline=None)
@example(["a [1] b.\n c\x1cd \x1f\n\n中文[2]。\u2028 x", "", "\n", "one\r\ntwo [edit]\n"])
@given(st.lists(st.lists(st.sampled_from(_LINE_PIECES), max_size=40).map("".join), min_size=1, max_size=20))
def test_line_words_are_the_words_of_each_changed_or_unchanged_line(texts):
    """Words taken from the document split equal a fresh split of every line, trimmed or rewritten."""
    text = pa.array(texts)
    lines = ts.split_lines(text)
    for line_text in (
        pc.utf8_trim_whitespace(lines.values),
        pc.replace_substring_regex(pc.utf8_trim_whitespace(lines.values), r"\[\d*\]|\[edit\]", ""),
    ):
        bw.document_words(text)  # as when an earlier filter split the batch
        got, before = bw.line_words(text, lines, line_text)
        fresh = ts.split_words(line_text)
        assert got.values.to_pylist() == fresh.values.to_pylist()
        assert got.doc.tolist() == fresh.doc.tolist()
        assert before.tolist() == ts.split_words(pc.utf8_trim_whitespace(lines.values)).per_doc().tolist()
