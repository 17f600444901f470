"""Post-processing: clean each generated answer, and keep it or reject it with one named reason.

Synthetic data is upsampled hard in a blend (rewrites 4 epochs, CoT 10), so one bad pattern is repeated
many times. Every rule here therefore rejects rather than repairs, except for boilerplate lead-ins
("Sure! Here is the rewritten text:") which are cut. Reasons, checked in this order:

* ``empty`` — nothing left after cleaning;
* ``refusal`` — the model declined ("I'm sorry, but I can't …", "I am unable to …");
* ``truncated`` — generation stopped at ``max_tokens`` (the answer is unfinished);
* ``too_short`` / ``too_long`` — outside the configured token bounds;
* ``qa_unparsed`` — ``diverse_qa`` without at least ``min_pairs`` Question/Answer pairs;
* ``not_a_list`` — ``knowledge_list`` with fewer than ``min_items`` ``- `` lines;
* ``no_think_block`` / ``no_question`` / ``no_answer`` — ``cot_template`` without a non-empty
  ``<think>…</think>``, a question before it, or an answer after it.

A kept CoT answer is rendered as a conversation: ``User: question`` then ``Assistant: <think>…</think>``
and the final answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from curate.synth.tasks import Task

_PREFIXES = re.compile(
    r"^\s*(?:(?:sure|certainly|of course|okay|ok|absolutely)\b[^\n]{0,80}?[:.!]\s*)?"
    r"(?:here(?:'s| is| are)\b[^\n]{0,120}?:\s*)?"
    r"(?:(?:rewritten|distilled|rephrased|paraphrased|encyclopedia-style) text\s*:\s*)?",
    re.IGNORECASE,
)
_REFUSAL = re.compile(
    r"^\s*(?:i'?m sorry|i am sorry|sorry, (?:but )?i|i can(?:no|')t|i cannot|i am unable|i'm unable|"
    r"as an (?:ai|artificial intelligence|assistant|language model)\b|i won'?t be able)",
    re.IGNORECASE,
)
_QA = re.compile(r"Question:\s*(?P<q>\S[^\n]*?)\s*\n+\s*Answer:\s*(?P<a>\S.*?)\s*(?=\n\s*Question:|\Z)", re.DOTALL)
_ITEM = re.compile(r"^\s*[-*•]\s+\S", re.MULTILINE)
_COT = re.compile(
    r"^\s*Question:\s*(?P<q>.*?)\s*<think>(?P<t>.*?)</think>\s*(?:Answer:\s*)?(?P<a>.*?)\s*$", re.DOTALL
)


@dataclass(frozen=True)
class Rules:
    """Bounds and format minimums; each field is set from the stage's parameters."""

    min_tokens: int = 16
    max_tokens: int | None = None
    min_pairs: int = 1
    min_items: int = 2
    reject_truncated: bool = True


@dataclass(frozen=True)
class Outcome:
    """The cleaned text (None when rejected) and the reason it was rejected (None when kept)."""

    text: str | None
    reason: str | None


def strip_boilerplate(text: str) -> str:
    """Cut lead-ins such as "Sure! Here is the rewritten text:" and surrounding whitespace."""
    return _PREFIXES.sub("", text, count=1).strip()


def render_conversation(question: str, thinking: str, answer: str) -> str:
    """The conversation form of a CoT sample, reasoning inside ``<think>…</think>``."""
    return f"User: {question.strip()}\nAssistant: <think>\n{thinking.strip()}\n</think>\n{answer.strip()}"


def check(task: Task, generated: str, tokens: int, finish: str, rules: Rules) -> Outcome:
    """Clean one answer (the task's lead plus what the model generated) and apply the rules in order."""
    raw = generated if not task.lead else task.lead + generated
    body = strip_boilerplate(raw) if not task.lead else raw.strip()
    if not body or body == task.lead:
        return Outcome(None, "empty")
    unlead = body[len(task.lead) :].lstrip() if task.lead and body.startswith(task.lead) else body
    if _REFUSAL.match(unlead):
        return Outcome(None, "refusal")
    if finish == "length" and rules.reject_truncated:
        return Outcome(None, "truncated")
    if tokens < rules.min_tokens:
        return Outcome(None, "too_short")
    if rules.max_tokens is not None and tokens > rules.max_tokens:
        return Outcome(None, "too_long")
    if task.check == "qa":
        pairs = _QA.findall(body)
        if len(pairs) < rules.min_pairs:
            return Outcome(None, "qa_unparsed")
        return Outcome("\n\n".join(f"Question: {q.strip()}\nAnswer: {a.strip()}" for q, a in pairs), None)
    if task.check == "list":
        if len(_ITEM.findall(body)) < rules.min_items:
            return Outcome(None, "not_a_list")
        return Outcome(body, None)
    if task.check == "think":
        if "<think>" not in body or "</think>" not in body:
            return Outcome(None, "no_think_block")
        m = _COT.match(body)
        if m is None or not m.group("t").strip():
            return Outcome(None, "no_think_block")
        if not m.group("q").strip():
            return Outcome(None, "no_question")
        if not m.group("a").strip():
            return Outcome(None, "no_answer")
        return Outcome(render_conversation(m.group("q"), m.group("t"), m.group("a")), None)
    return Outcome(body, None)
