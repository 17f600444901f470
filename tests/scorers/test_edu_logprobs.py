"""Educational value from digit log-probabilities: the expected value, the digit tokens, the real model."""

import math

import numpy as np
import pytest

from curate.scorers.edu_logprobs import DIGITS, expected_scores, probs_json
from tests.scorers.rated_docs import RATED_DOCS


def test_expected_score_is_the_mean_digit_under_renormalised_probabilities():
    p = np.array([[0.0, 0.0, 0.0, 0.25, 0.25, 0.0], [0.1, 0.1, 0.1, 0.1, 0.1, 0.1]])
    with np.errstate(divide="ignore"):
        score, mass = expected_scores(np.log(p))
    assert score.tolist() == pytest.approx([3.5, 2.5])
    assert mass.tolist() == pytest.approx([0.5, 0.6])


def test_a_row_with_no_digit_probability_has_no_score():
    score, mass = expected_scores(np.full((1, 6), -np.inf))
    assert math.isnan(score[0]) and mass[0] == 0


def test_probabilities_are_kept_as_json_per_digit():
    (row,) = probs_json(np.log(np.array([[0.5, 0.25, 0.125, 0.0625, 0.03125, 0.03125]])))
    assert row == '{"0": 0.5, "1": 0.25, "2": 0.125, "3": 0.0625, "4": 0.0312, "5": 0.0312}'


def test_digits_of_the_real_tokenizer_are_single_tokens_after_a_space_token(real_model):
    from transformers import AutoTokenizer

    from curate.scorers.edu_logprobs import digit_token_ids

    tok = AutoTokenizer.from_pretrained(real_model)
    ids, space = digit_token_ids(tok)
    assert [tok.decode(i) for i in ids] == list(DIGITS)  # SmolLM2 has no " 3" token: the space is its own token
    assert space is True




@pytest.mark.slow
def test_real_model_scores_english_and_chinese_from_logprobs(real_model):
    from curate.scorers.annotate import AnnotateConfig, annotate
    from curate.synth.engines import EngineSpec

    config = AnnotateConfig(engine=EngineSpec(kind="hf", model=real_model), score_from="logprobs", threshold=2.0)
    out = annotate(RATED_DOCS, config)
    assert out.column("prompt").to_pylist() == ["edu_en.v1.logprobs"] * 2 + ["edu_zh.v1.logprobs"] * 2
    scores = out.column("score").to_pylist()
    mass = out.column("mass").to_pylist()
    assert all(0 < s < 5 for s in scores), scores
    # the model answers with a digit: most of the next-token probability is on 0-5 in both languages
    assert all(m > 0.3 for m in mass), mass
    assert scores[0] > scores[1], scores  # English: the science paragraph above the spam
    assert out.column("label").to_pylist() == ["hq" if s >= 2.0 else "lq" for s in scores]


@pytest.mark.slow
def test_the_cached_prompt_prefix_gives_the_full_forward_pass_numbers(real_model):
    import torch

    from curate.scorers.annotate import _prompt_parts
    from curate.scorers.edu_logprobs import HFDigitScorer
    from curate.synth.chat import ChatFormat

    scorer, chat = HFDigitScorer(real_model, batch_size=3), ChatFormat(real_model)
    parts = [_prompt_parts(t, lang, chat, " " if lang == "en" else "") for t, lang in
             zip(RATED_DOCS.column("text").to_pylist(), RATED_DOCS.column("lang").to_pylist())]
    cached = scorer.logprobs(parts)
    for row, (head, rest) in enumerate(parts):
        ids = torch.tensor([scorer.tok.encode(head + rest, add_special_tokens=False)])
        with torch.inference_mode():
            lp = torch.log_softmax(scorer.model(input_ids=ids).logits[0, -1].float(), -1)
        full = [torch.logsumexp(lp[t], 0).item() for t in scorer.digits]
        assert cached[row].tolist() == pytest.approx(full, abs=1e-3)
