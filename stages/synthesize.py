"""``synthesize``: Nemotron-CC rewrites and CoT synthesis of each document with an LLM.

Routing follows Nemotron-CC / CCI4.0: documents whose ``quality_bucket`` is at least ``high_from`` get the
four knowledge rewrites, those below ``low_below`` get ``wiki_rephrase``, the middle gets ``medium_tasks``;
``also`` tasks (e.g. ``cot_template``) run on every document; documents without the column (or with a
null bucket) get ``default_tasks``. Each document is cut into chunks that fit the model (its tokenizer
counts), every (task, chunk) becomes one request, the whole batch goes to the engine in one call, and each
answer is post-processed (kept, or rejected with a reason).

How 1 document → N outputs fits the stage API (stages keep rows and ids): this stage keeps every input
document and adds one list column, ``synth`` — one struct per (task, chunk) with the text, the reject
reason and the provenance (``task``, ``prompt_version``, ``model``, ``sampling`` JSON, ``seed``). The
``explode_synth`` expand stage that follows it in a recipe makes each output a document of its own: kept
outputs in ``data/`` with ``source_id``, rejected ones in ``rejected/`` with their reason. Both run per
unit, atomically and deterministically, so resuming works at shard granularity.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field, field_validator

from curate.core.registry import register
from curate.core.schema import ID, TEXT
from curate.core.stage import MapStage, Params, Resources, Verdict
from curate.synth.engines import EngineSpec, SamplingSpec
from curate.synth.tasks import (
    KNOWLEDGE_TASKS,
    LOW_QUALITY_TASKS,
    TASK_NAMES,
    Task,
    get_task,
)


def _known(tasks: list[str]) -> list[str]:
    bad = [t for t in tasks if t not in TASK_NAMES]
    if bad:
        raise ValueError(f"unknown task(s) {bad}; known tasks: {', '.join(TASK_NAMES)}")
    return tasks


class SynthesizeParams(Params):
    engine: EngineSpec = Field(description="The generation engine and model (kind: vllm | http | hf).")
    sampling: SamplingSpec = Field(default_factory=SamplingSpec, description="Sampling parameters of every request.")
    bucket_column: str = Field("quality_bucket", description="Column routing documents by quality (absent: default_tasks).")
    high_from: int = Field(12, description="Buckets >= this are high quality (20 buckets: top 40%).")
    low_below: int = Field(8, description="Buckets < this are low quality.")
    high_tasks: list[str] = Field(list(KNOWLEDGE_TASKS), description="Tasks for high-quality documents.")
    medium_tasks: list[str] = Field(default_factory=list, description="Tasks for documents between the two thresholds.")
    low_tasks: list[str] = Field(list(LOW_QUALITY_TASKS), description="Tasks for low-quality documents.")
    default_tasks: list[str] = Field(["wiki_rephrase"], description="Tasks when the bucket column is absent or null.")
    also: list[str] = Field(default_factory=list, description="Tasks run on every document as well (e.g. cot_template).")
    prompt_versions: dict[str, str] = Field(default_factory=dict, description="Prompt version per task (default v1).")
    chunk_tokens: int | None = Field(None, ge=16, description="Tokens per chunk (None: what the context leaves after prompt and answer).")
    min_chunk_tokens: int = Field(32, ge=0, description="Chunks with fewer tokens are rejected without generating (input_too_short).")
    max_chunks: int | None = Field(None, ge=1, description="Most chunks per document (None: all).")
    min_tokens: int = Field(16, ge=0, description="Answers with fewer generated tokens are rejected (too_short).")
    max_tokens: int | None = Field(None, ge=1, description="Answers with more generated tokens are rejected (too_long).")
    reject_truncated: bool = Field(True, description="Reject answers cut off by sampling.max_tokens (truncated).")
    min_pairs: int = Field(1, ge=1, description="diverse_qa: fewest Question/Answer pairs to keep an answer.")
    min_items: int = Field(2, ge=1, description="knowledge_list: fewest '- ' items to keep an answer.")
    fraction: float = Field(1.0, gt=0, le=1, description="Share of documents synthesised, picked by a hash of seed and id (the rest get no outputs).")
    column: str = Field("synth", description="Name of the list column of outputs.")
    chat_template: bool = Field(
        False, description="Instruct models: send each prompt in the model's chat template, the instruction as the user turn "
        "and the task's lead prefilled in the assistant turn (false: plain text the model continues, for base models)."
    )

    @field_validator("high_tasks", "medium_tasks", "low_tasks", "default_tasks", "also")
    @classmethod
    def _tasks_exist(cls, v: list[str]) -> list[str]:
        return _known(v)


@register
class Synthesize(MapStage):
    name = "synthesize"
    Params = SynthesizeParams
    default_resources = Resources(cpus=1.0, batch_size=256)

    def columns_added(self) -> dict[str, pa.DataType]:
        from curate.synth.requests import OUTPUTS_TYPE

        return {self.params.column: OUTPUTS_TYPE}

    def _task(self, name: str) -> Task:
        return get_task(name, self.params.prompt_versions.get(name, "v1"))

    def setup(self) -> None:
        from curate.synth.chat import ChatFormat
        from curate.synth.engines import make_engine
        from curate.synth.postprocess import Rules
        from curate.synth.preprocess import TokenCounter

        p = self.params
        self.routes = self.build_routes()
        self.engine = make_engine(p.engine, self.seed)
        self.counter = TokenCounter(p.engine.tokenizer or p.engine.model)
        self.chat = ChatFormat(p.engine.tokenizer or p.engine.model) if p.chat_template else None
        self.budget = p.chunk_tokens or self._auto_budget()
        self.rules = Rules(p.min_tokens, p.max_tokens, p.min_pairs, p.min_items, p.reject_truncated)

    def teardown(self) -> None:
        if getattr(self, "engine", None) is not None:
            self.engine.close()
            self.engine = None

    def build_routes(self) -> dict[str, tuple[Task, ...]]:
        """Route name (high, medium, low, default) -> its tasks with ``also`` appended; loads prompt files."""
        p = self.params
        _known(list(p.prompt_versions))
        groups = (("high", p.high_tasks), ("medium", p.medium_tasks), ("low", p.low_tasks), ("default", p.default_tasks))
        return {key: tuple(self._task(t) for t in dict.fromkeys(tasks + p.also)) for key, tasks in groups}

    def _auto_budget(self) -> int:
        """Context minus the longest prompt template, the answer and a margin for special tokens."""
        tasks = {t.name: t for r in self.routes.values() for t in r}.values()
        overhead = max(self.counter.count([t.overhead(self.chat) for t in tasks]), default=0)
        budget = self.engine.max_context() - self.params.sampling.max_tokens - overhead - 8
        if budget < 16:
            raise ValueError(
                f"engine {self.params.engine.model}: a {self.engine.max_context()}-token context leaves {budget} tokens "
                f"for a chunk after prompts of {overhead} and answers of {self.params.sampling.max_tokens}; "
                "lower sampling.max_tokens or use a longer max_model_len"
            )
        return budget

    def route(self, batch: pa.Table) -> list[tuple[Task, ...]]:
        """The tasks of each row, from its quality bucket (vectorised masks, one tuple per row)."""
        p = self.params
        n = batch.num_rows
        if p.bucket_column not in batch.column_names:
            return self._sampled(batch, [self.routes["default"]] * n)
        b = batch.column(p.bucket_column).cast(pa.int64())
        high = pc.fill_null(pc.greater_equal(b, p.high_from), False).to_numpy(zero_copy_only=False)
        low = pc.fill_null(pc.less(b, p.low_below), False).to_numpy(zero_copy_only=False)
        null = pc.is_null(b).to_numpy(zero_copy_only=False)
        keys = ["default" if nu else "high" if h else "low" if lo else "medium" for nu, h, lo in zip(null, high, low)]
        return self._sampled(batch, [self.routes[k] for k in keys])

    def _sampled(self, batch: pa.Table, routes: list[tuple[Task, ...]]) -> list[tuple[Task, ...]]:
        """Routes with unpicked documents emptied when ``fraction`` < 1 (stable per seed and id)."""
        if self.params.fraction >= 1:
            return routes
        import xxhash

        cut = int(self.params.fraction * 2**64)
        ids = batch.column(ID).to_pylist()
        return [r if xxhash.xxh64_intdigest(f"{self.seed}\x00{i}".encode()) < cut else () for i, r in zip(ids, routes)]

    def process(self, batch: pa.Table) -> Verdict:
        from curate.synth.requests import plan, run

        p = self.params
        ids = batch.column(ID).to_pylist()
        requests = plan(ids, batch.column(TEXT).to_pylist(), self.route(batch), self.counter, self.budget,
                        p.min_chunk_tokens, p.max_chunks, self.seed,
                        max_prompt_tokens=self.engine.max_context() - p.sampling.max_tokens, chat=self.chat)
        outputs = run(self.engine, requests, batch.num_rows, p.sampling, self.rules, p.engine.model, self.seed, self.chat)
        if p.column in batch.column_names:
            batch = batch.drop_columns([p.column])
        return Verdict(batch.append_column(p.column, outputs))
