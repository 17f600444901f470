import pytest

from curate.synth.postprocess import Rules, check, strip_boilerplate
from curate.synth.tasks import get_task

RULES = Rules(min_tokens=5, max_tokens=100, min_pairs=2, min_items=3)
PROSE = "The scheduler picks the next process to run from the ready queue by priority."


def verdict(task, generated, tokens=20, finish="stop", rules=RULES):
    return check(get_task(task), generated, tokens, finish, rules)


@pytest.mark.parametrize(
    "task, generated, tokens, finish, reason",
    [
        ("distill", "   \n ", 20, "stop", "empty"),
        ("distill", "Sure! Here is the rewritten text:", 20, "stop", "empty"),
        ("distill", "I'm sorry, but I can't help with that.", 20, "stop", "refusal"),
        ("wiki_rephrase", "As an assistant, I cannot rephrase this.", 20, "stop", "refusal"),
        ("distill", PROSE, 20, "length", "truncated"),
        ("distill", PROSE, 3, "stop", "too_short"),
        ("extract_knowledge", PROSE, 101, "stop", "too_long"),
        ("diverse_qa", " What does the scheduler do? It picks processes.", 20, "stop", "qa_unparsed"),
        ("diverse_qa", " What does it pick?\nAnswer: A process.", 20, "stop", "qa_unparsed"),  # one pair < 2
        ("knowledge_list", " one fact\n- another fact", 20, "stop", "not_a_list"),
        ("cot_template", " Which process runs next?\nAnswer: the first.", 20, "stop", "no_think_block"),
        ("cot_template", " Which process runs next?\n<think>\n \n</think>\nAnswer: x", 20, "stop", "no_think_block"),
        ("cot_template", " \n<think>\nCompare priorities.\n</think>\nAnswer: the first.", 20, "stop", "no_question"),
        ("cot_template", " Which runs next?\n<think>\nCompare priorities.\n</think>\n", 20, "stop", "no_answer"),
    ],
)
def test_each_rule_rejects_with_its_reason(task, generated, tokens, finish, reason):
    out = verdict(task, generated, tokens, finish)
    assert out.text is None and out.reason == reason


def test_truncated_can_be_allowed():
    assert verdict("distill", PROSE, finish="length", rules=Rules(reject_truncated=False)).reason is None


def test_boilerplate_prefix_is_stripped():
    assert strip_boilerplate("Certainly! Here's the distilled text:\n\nFacts.") == "Facts."
    assert verdict("distill", "Sure, here is the rewritten text:\n" + PROSE).text == PROSE
    assert strip_boilerplate(PROSE) == PROSE  # ordinary text untouched


def test_kept_formats_are_normalised():
    qa = verdict("diverse_qa", " What is picked?\nAnswer: A process.\n\nQuestion: From where?\nAnswer: The ready queue.")
    assert qa.reason is None
    assert qa.text == "Question: What is picked?\nAnswer: A process.\n\nQuestion: From where?\nAnswer: The ready queue."
    items = verdict("knowledge_list", " a\n- b\n- c")
    assert items.reason is None and items.text == "- a\n- b\n- c"
    cot = verdict("cot_template", " Which job runs first?\n<think>\nJob A has priority 1.\n</think>\nAnswer: Job A.")
    assert cot.reason is None
    assert cot.text == "User: Which job runs first?\nAssistant: <think>\nJob A has priority 1.\n</think>\nJob A."
