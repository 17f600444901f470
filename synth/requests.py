"""From a batch of documents to generation requests and back to per-document output lists.

Kept apart from the stage so that the benchmark and tests drive exactly the code a run drives. A request
is one (document, task, chunk); its seed is an xxhash of the recipe seed, the document id, the task and the
chunk index, so an answer never depends on batch composition, worker count or order.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pyarrow as pa
import xxhash

from curate.synth.chat import ChatFormat
from curate.synth.engines import Engine, SamplingSpec
from curate.synth.postprocess import Rules, check
from curate.synth.preprocess import TokenCounter, split_document
from curate.synth.tasks import Task

#: One element per (task, chunk) of a document: the answer or the reason it was rejected, with provenance.
OUTPUT_TYPE = pa.struct(
    [
        ("task", pa.string()),
        ("prompt_version", pa.string()),
        ("chunk", pa.int32()),
        ("text", pa.string()),
        ("tokens", pa.int32()),
        ("finish", pa.string()),
        ("drop_reason", pa.string()),
        ("model", pa.string()),
        ("sampling", pa.string()),
        ("seed", pa.int64()),
    ]
)
OUTPUTS_TYPE = pa.list_(OUTPUT_TYPE)


def request_seed(seed: int, doc_id: str, task: str, chunk: int) -> int:
    """A per-request seed in [0, 2**31): stable across runs, machines and workers."""
    return xxhash.xxh64_intdigest(f"{seed}\x00{doc_id}\x00{task}\x00{chunk}".encode()) & 0x7FFFFFFF


@dataclass(frozen=True)
class Request:
    row: int
    task: Task
    chunk: int
    prompt: str | None  # None: rejected before generation (reason in `early`)
    seed: int
    early: str | None = None
    chunk_text: str | None = None  # kept only for tasks generated in steps (chat CoT, synth/cot.py)


def plan(
    ids: list[str],
    texts: list[str],
    routes: list[tuple[Task, ...]],
    counter: TokenCounter,
    budget: int,
    min_chunk_tokens: int,
    max_chunks: int | None,
    seed: int,
    max_prompt_tokens: int | None = None,
    chat: ChatFormat | None = None,
) -> list[Request]:
    """Chunk every document once and render one request per (task, chunk), in row, task, chunk order.

    Chunk budgets are planned from token counts of the pieces, and tokens do not add up exactly across a
    join, so each rendered prompt is counted again: one longer than ``max_prompt_tokens`` is rejected
    (``prompt_too_long``) instead of failing the engine call for the whole batch.
    """
    out: list[Request] = []
    for row, (doc_id, text, tasks) in enumerate(zip(ids, texts, routes)):
        if not tasks:
            continue
        chunks = split_document(text or "", counter, budget, max_chunks).chunks
        sizes = counter.count(chunks)
        for task in tasks:
            if not chunks:
                out.append(Request(row, task, 0, None, request_seed(seed, doc_id, task.name, 0), "empty_input"))
            for k, (chunk, size) in enumerate(zip(chunks, sizes)):
                s = request_seed(seed, doc_id, task.name, k)
                if size < min_chunk_tokens:
                    out.append(Request(row, task, k, None, s, "input_too_short"))
                else:
                    staged = chunk if chat is not None and task.check == "think" else None
                    out.append(Request(row, task, k, task.render(chunk, chat), s, chunk_text=staged))
    if max_prompt_tokens is not None:
        sizes = iter(counter.count([r.prompt for r in out if r.prompt is not None]))
        out = [
            replace(r, prompt=None, early="prompt_too_long")
            if r.prompt is not None and next(sizes) > max_prompt_tokens
            else r
            for r in out
        ]
    return out


def run(
    engine: Engine,
    requests: list[Request],
    rows: int,
    sampling: SamplingSpec,
    rules: Rules,
    model: str,
    seed: int,
    chat: ChatFormat | None = None,
) -> pa.Array:
    """Generate every request in one engine call (chat CoT: three, see synth/cot.py), check each answer,
    and group them per row."""
    from curate.synth import cot

    live = [r for r in requests if r.prompt is not None and r.chunk_text is None]
    answers = engine.generate([r.prompt for r in live], [r.seed for r in live], sampling)  # type: ignore[misc]
    staged = [r for r in requests if r.prompt is not None and r.chunk_text is not None]
    if staged:
        answers += cot.generate(engine, chat, [r.prompt for r in staged], [r.chunk_text for r in staged],  # type: ignore[arg-type,misc]
                                [r.seed for r in staged], sampling)
        live += staged
    by_request = dict(zip((id(r) for r in live), answers))
    per_row: list[list[dict]] = [[] for _ in range(rows)]
    params = sampling.to_json()
    for r in requests:
        item = {
            "task": r.task.name,
            "prompt_version": r.task.prompt_version,
            "chunk": r.chunk,
            "model": model,
            "sampling": params,
            "seed": seed,
        }
        gen = by_request.get(id(r))
        if gen is None:
            item.update(text=None, tokens=0, finish=None, drop_reason=r.early)
        else:
            outcome = check(r.task, gen.text, gen.tokens, gen.finish, rules)
            text = outcome.text if outcome.reason is None else r.task.lead + gen.text  # rejected: raw, for audit
            item.update(text=text, tokens=gen.tokens, finish=gen.finish, drop_reason=outcome.reason)
        per_row[r.row].append(item)
    return pa.array(per_row, type=OUTPUTS_TYPE)
