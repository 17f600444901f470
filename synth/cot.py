"""Chain-of-thought synthesis for small instruct models: question, reasoning and answer as three turns.

CCI4.0's ``cot_template`` asks for an exercise, its reasoning in ``<think>…</think>`` and an answer in one
go; a large model follows that format, a small one (SmolLM2-135M) does not: asked for it, it copies the
format's words or skips the reasoning. What a small instruct model does follow is one plain request at a
time with the start of its answer prefilled, so with ``chat_template`` on, the task runs as three
generations over the same chunk, each batched over every request of the stage:

1. the task's prompt file, prefilled ``Question:`` and stopped at the line end — the exercise;
2. the passage and the exercise, "reason step by step" — the reasoning, which becomes the ``<think>`` block;
3. the exercise and the reasoning, prefilled ``Answer:`` and stopped at the line end — the answer.

The three parts are joined as ``Question: … <think>…</think> Answer: …``, the form the ``think`` rule of
post-processing parses, so the same checks apply to both ways of generating. Each step's seed is derived
from the request's seed, so outputs stay independent of batch composition.
"""

from __future__ import annotations

from curate.synth.chat import ChatFormat
from curate.synth.engines import Engine, Generation, SamplingSpec

REASON = "Passage:\n{document}\n\nQuestion: {question}\n\nThink step by step and explain the reasoning that answers the question."
ANSWER = "Question: {question}\n\nReasoning: {reasoning}\n\nGive the final answer in one sentence."


def _one_line(sampling: SamplingSpec, max_tokens: int) -> SamplingSpec:
    return sampling.model_copy(update={"max_tokens": min(max_tokens, sampling.max_tokens), "stop": ["\n"]})


def generate(engine: Engine, chat: ChatFormat, prompts: list[str], chunks: list[str], seeds: list[int],
             sampling: SamplingSpec) -> list[Generation]:
    """One ``Question: … <think>…</think> Answer: …`` generation per (step-1 prompt, chunk, seed)."""
    questions = engine.generate(prompts, seeds, _one_line(sampling, 64))
    qs = [g.text.strip() for g in questions]
    reason_prompts = [chat.render(REASON.format(document=c.strip(), question=q)) for c, q in zip(chunks, qs)]
    reasons = engine.generate(reason_prompts, [(s + 1) & 0x7FFFFFFF for s in seeds], sampling)
    answer_prompts = [chat.render(ANSWER.format(question=q, reasoning=r.text.strip()), "Answer:") for q, r in zip(qs, reasons)]
    answers = engine.generate(answer_prompts, [(s + 2) & 0x7FFFFFFF for s in seeds], _one_line(sampling, 96))
    out = []
    for q, r, a in zip(questions, reasons, answers):
        text = f" {q.text.strip()}\n<think>\n{r.text.strip()}\n</think>\nAnswer: {a.text.strip()}"
        # the reasoning is the long part: a cut-off reasoning marks the whole sample truncated
        out.append(Generation(text, q.tokens + r.tokens + a.tokens, r.finish if r.finish == "length" else a.finish))
    return out
