import numpy as np
import pytest

from curate.stages.fineweb import FineWebQuality

pytest.importorskip("spacy", reason="datatrove's English word splitting needs spaCy (test dependency)")

GOOD = "The library opened a new reading room this spring, with more seats than before and longer hours."


def run(texts, table, lang=None, **params):
    st = FineWebQuality(FineWebQuality.Params(**params))
    st.setup()
    return st.process(table(texts, lang))


def test_parity_with_datatrove(english_docs, table, reference):
    from datatrove.pipeline.filters import FineWebQualityFilter

    keep, _, _ = reference(FineWebQualityFilter(), english_docs)
    v = run(english_docs, table)
    assert float(np.mean(np.asarray(keep) == v.keep)) >= 0.99
    assert 0 < v.keep.sum() < len(english_docs)


@pytest.mark.parametrize(
    "text, reason",
    [
        ("\n \n", "empty"),
        ("\n".join(["A line with no final stop and many words in it"] * 2 + [f"row {i} of words here" for i in range(9)]), "line_punct_ratio"),
        ("\n".join([GOOD] + [f"Item {i}." for i in range(6)]), "short_line_ratio"),
        ("\n".join([GOOD, GOOD, "Another sentence with enough words in it to be long."]), "char_dup_ratio"),
        ("".join(f"Incomprehensibilities{i} characteristically.\n" for i in range(10)), "list_ratio"),
    ],
)
def test_rules(text, reason, table):
    v = run([text, GOOD], table)
    assert list(v.keep) == [False, True]
    assert v.reasons[0] == reason


def test_short_lines_follow_the_preset(table):
    lines = "\n".join(["这是一个比较短的中文句子，但内容完整。"] + [f"第{i}行的内容相当完整，而且非常清楚。" for i in range(5)])
    assert not run([lines], table, ["en"]).keep[0]
    assert run([lines], table, ["zh"]).keep[0]
    assert not run([lines], table, ["zh"], short_line_length=30).keep[0]
