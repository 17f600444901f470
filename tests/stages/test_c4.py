import numpy as np
import pytest

from curate.stages.c4 import C4Quality

pytest.importorskip("spacy", reason="datatrove's sentence splitting needs spaCy (test dependency)")

GOOD = "The library opened a new reading room this spring. It has more seats than before! Students like it."


def run(texts, table, lang=None, **params):
    st = C4Quality(C4Quality.Params(**params))
    st.setup()
    return st.process(table(texts, lang))


def test_parity_with_datatrove_decisions_and_text(english_docs, table, reference):
    from datatrove.pipeline.filters import C4QualityFilter

    keep, _, text = reference(C4QualityFilter(), english_docs)
    v = run(english_docs, table)
    keep = np.asarray(keep)
    assert float(np.mean(keep == v.keep)) >= 0.99
    both = np.flatnonzero(keep & v.keep)
    cleaned = v.table.column("text").to_pylist()
    assert len(both) > 50
    assert np.mean([cleaned[i] == text[i] for i in both]) >= 0.99


def test_lines_are_cleaned(table):
    text = "\n".join(
        [
            GOOD[:-1] + "[1].",
            "Menu Home About",
            "Please enable JavaScript to view this page.",
            "This site uses cookies to improve your visit.",
            "x" * 1001 + " is a long word.",
            "   " + GOOD + "   ",
        ]
    )
    v = run([text], table)
    assert v.keep[0]
    assert v.table.column("text").to_pylist() == [GOOD + "\n" + GOOD]


@pytest.mark.parametrize(
    "text, reason",
    [
        (GOOD + "\nLorem ipsum dolor sit amet, consectetur.\n" + GOOD, "lorem_ipsum"),
        (GOOD + "\nUse the form {name} to fill it in.\n" + GOOD, "curly_bracket"),
        ("One sentence here is all.\nNo terminal punctuation here\nshort.", "too_few_sentences"),
    ],
)
def test_document_rules(text, reason, table):
    v = run([text, GOOD + " " + GOOD], table)
    assert list(v.keep) == [False, True]
    assert v.reasons[0] == reason


def test_cjk_lines_count_characters(prose, table):
    zh = prose["zh"]
    assert not run(zh, table, ["en"] * len(zh), min_num_sentences=-1).table.column("text").to_pylist()[0]
    v = run(zh, table, ["zh"] * len(zh))
    assert v.keep.all()
    assert v.table.column("text").to_pylist()[0].startswith("春天来了")


def test_cjk_words_are_counted_before_citations_are_removed(prose, table):
    """As datatrove counts a line's words before removing citations: 好的[1]。 is 6 words (4.2 needed), 好的。 3."""
    zh = prose["zh"][0]
    v = run([zh + "\n好的[1]。", zh + "\n好的。"], table, ["zh", "zh"])
    assert v.keep.all()
    kept = v.table.column("text").to_pylist()
    assert kept[0].endswith("\n好的。")
    assert not kept[1].endswith("好的。")
