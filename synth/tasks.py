"""Synthesis tasks: what to ask the model for each chunk of a document, and which format the answer must have.

The Nemotron-CC recipe (used by CCI4.0) rewrites high-quality web text four ways — ``diverse_qa``,
``distill``, ``extract_knowledge``, ``knowledge_list`` — and rephrases low-quality text Wikipedia-style
(``wiki_rephrase``). CCI4.0 adds ``cot_template``: find a reasoning pattern in a document and turn it into
an exercise answered with the reasoning in ``<think>…</think>``, which post-processing renders as a
conversation. Prompts live in versioned files (``prompts/TASK.vN.txt``); the version is part of every
output's provenance, so a prompt is changed by adding a version, never by editing one.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from curate.synth.chat import ChatFormat

Check = Literal["text", "qa", "list", "think"]

#: The Nemotron-CC rewrites for high-quality documents.
KNOWLEDGE_TASKS = ("diverse_qa", "distill", "extract_knowledge", "knowledge_list")
#: The rewrite for low-quality documents.
LOW_QUALITY_TASKS = ("wiki_rephrase",)

# task -> (format check, lead: the last prompt line that starts the answer and belongs to it)
_TASKS: dict[str, tuple[Check, str]] = {
    "diverse_qa": ("qa", "Question:"),
    "distill": ("text", ""),
    "extract_knowledge": ("text", ""),
    "knowledge_list": ("list", "-"),
    "wiki_rephrase": ("text", ""),
    "cot_template": ("think", "Question:"),
}
TASK_NAMES = tuple(_TASKS)
PLACEHOLDER = "{document}"


@dataclass(frozen=True)
class Task:
    """One task at one prompt version: renders prompts, and says how its answers are checked."""

    name: str
    version: str
    check: Check
    lead: str
    template: str

    @property
    def prompt_version(self) -> str:
        """The provenance name of the prompt, e.g. ``diverse_qa.v1``."""
        return f"{self.name}.{self.version}"

    @property
    def kind(self) -> str:
        """``cot`` for chain-of-thought synthesis, ``rewrite`` for the rest (mixtures weight them apart)."""
        return "cot" if self.name == "cot_template" else "rewrite"

    def render(self, chunk: str, chat: ChatFormat | None = None) -> str:
        """The prompt for one chunk: plain text that the lead ends (a base model continues it), or with
        ``chat`` the instruction as the user turn and the lead prefilled in the assistant turn."""
        if chat is None:
            return self.template.replace(PLACEHOLDER, chunk.strip())
        instruction = self.template[: len(self.template) - len(self.lead)].rstrip()
        return chat.render(instruction.replace(PLACEHOLDER, chunk.strip()), self.lead)

    def overhead(self, chat: ChatFormat | None = None) -> str:
        """The prompt without a document, to measure how many tokens the template itself takes."""
        return self.render("", chat)


def prompt_path(name: str, version: str):
    """The packaged prompt file of a task version (an importlib.resources Traversable)."""
    return resources.files("curate.synth").joinpath("prompts", f"{name}.{version}.txt")


@lru_cache(maxsize=None)
def get_task(name: str, version: str = "v1") -> Task:
    """Load a task's prompt file; errors name the task or file and list what exists."""
    if name not in _TASKS:
        raise ValueError(f"unknown synthesis task {name!r}; known tasks: {', '.join(TASK_NAMES)}")
    path = prompt_path(name, version)
    if not path.is_file():
        have = sorted(p.name for p in resources.files("curate.synth").joinpath("prompts").iterdir() if p.name.startswith(name + "."))
        raise ValueError(f"no prompt file prompts/{name}.{version}.txt for task {name!r}; available: {', '.join(have) or 'none'}")
    template = path.read_text(encoding="utf-8").rstrip("\n")
    check, lead = _TASKS[name]
    if template.count(PLACEHOLDER) != 1:
        raise ValueError(f"prompts/{name}.{version}.txt must contain {PLACEHOLDER} exactly once")
    if lead and not template.endswith(lead):
        raise ValueError(f"prompts/{name}.{version}.txt must end with its lead {lead!r} (the start of the answer)")
    return Task(name, version, check, lead, template)
