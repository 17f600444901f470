import pytest

from curate.synth.tasks import KNOWLEDGE_TASKS, TASK_NAMES, get_task


@pytest.mark.parametrize("name", TASK_NAMES)
def test_every_task_has_a_v1_prompt_that_renders(name):
    task = get_task(name)
    assert task.prompt_version == f"{name}.v1"
    prompt = task.render("  The kernel schedules processes.  ")
    assert "The kernel schedules processes." in prompt and "{document}" not in prompt
    assert prompt.endswith(task.lead)


def test_kinds_split_rewrites_from_cot():
    assert get_task("cot_template").kind == "cot"
    assert {get_task(t).kind for t in KNOWLEDGE_TASKS + ("wiki_rephrase",)} == {"rewrite"}


def test_unknown_task_and_missing_version_are_named():
    with pytest.raises(ValueError, match="unknown synthesis task 'poem'"):
        get_task("poem")
    with pytest.raises(ValueError, match=r"no prompt file prompts/distill.v9.txt .*distill.v1.txt"):
        get_task("distill", "v9")
