import pytest

from curate.synth.preprocess import TokenCounter, split_document


@pytest.fixture(scope="module")
def counter(tiny_model):
    return TokenCounter(tiny_model)


def test_short_paragraphs_are_packed_in_order(counter):
    paras = [f"Paragraph {i} is short." for i in range(12)]
    plan = split_document("\n\n".join(paras), counter, budget=40)
    assert 1 < len(plan.chunks) < 12
    assert "\n\n".join(plan.chunks) == "\n\n".join(paras)  # nothing lost, order kept
    assert max(counter.count(plan.chunks)) <= 40
    assert not plan.truncated


def test_long_paragraph_splits_at_sentences(counter):
    para = " ".join(f"Sentence number {i} ends here." for i in range(30))
    plan = split_document(para, counter, budget=30)
    assert len(plan.chunks) > 1 and max(counter.count(plan.chunks)) <= 30
    assert all(c.endswith("here.") for c in plan.chunks)
    assert not plan.truncated


def test_over_long_sentence_is_cut_at_tokens(counter):
    plan = split_document("word " * 400, counter, budget=50)
    assert plan.truncated
    assert max(counter.count(plan.chunks)) <= 50
    assert "".join("".join(plan.chunks).split()) == "word" * 400  # nothing lost but whitespace


def test_max_chunks_and_empty_input(counter):
    text = "\n\n".join("A fairly long paragraph about one topic, written out." for _ in range(20))
    assert len(split_document(text, counter, 20, max_chunks=3).chunks) == 3
    assert split_document("  \n\n ", counter, 20).chunks == []


def test_missing_tokenizer_names_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="tokenizer.json"):
        TokenCounter(tmp_path)


def test_a_rendered_prompt_over_the_context_is_rejected_not_sent() -> None:
    from curate.synth.requests import plan
    from curate.synth.tasks import get_task

    class Words:  # one token per whitespace word
        def count(self, texts):
            return [len(t.split()) for t in texts]

        def cut(self, text, n):
            words = text.split()
            return [" ".join(words[i : i + n]) for i in range(0, len(words), n)]

    task = get_task("distill")
    text = " ".join(["word"] * 40)
    ok = plan(["d"], [text], [(task,)], Words(), 50, 1, 1, 0, max_prompt_tokens=10_000)
    over = plan(["d"], [text], [(task,)], Words(), 50, 1, 1, 0, max_prompt_tokens=20)
    assert ok[0].prompt is not None and ok[0].early is None
    assert over[0].prompt is None and over[0].early == "prompt_too_long"
