"""``curate annotate``: wiring of LLM quality annotation (:mod:`curate.scorers.annotate`)."""

from __future__ import annotations

import argparse
import time
from collections import Counter
from pathlib import Path

import pyarrow as pa

from curate.core.errors import InputError
from curate.scorers.annotate import __doc__ as ANNOTATE_DOC


def _read(patterns: list[str], text_column: str) -> pa.Table:
    from curate.io.readers import ColumnMap, find_inputs, plan_units, read_unit

    files = find_inputs(patterns)
    if not files:
        raise InputError(f"no input files match {patterns}; give Parquet or JSONL files, globs or directories")
    columns = ColumnMap(text_column=text_column)
    tables = []
    for unit in plan_units(files, columns):
        table, _ = read_unit(unit, columns)
        tables.append(table.select([c for c in ("id", "text", "lang") if c in table.column_names]))
    return pa.concat_tables(tables, promote_options="permissive")


def _run(args: argparse.Namespace) -> int:
    from curate.scorers.annotate import AnnotateConfig, annotate, write
    from curate.synth.engines import EngineSpec, SamplingSpec

    extra = {"kv_cache_gb": args.kv_cache_gb, "enforce_eager": True, "chunked_prefill": False} if args.engine == "vllm" else {}
    engine = EngineSpec(kind=args.engine, model=args.model, tokenizer=args.tokenizer, dtype=args.dtype,
                        max_model_len=args.max_model_len, tensor_parallel_size=args.tensor_parallel_size,
                        base_url=args.base_url, **extra)
    config = AnnotateConfig(engine=engine, sampling=SamplingSpec(temperature=0.0, max_tokens=args.max_tokens),
                            chat_template=not args.no_chat_template, fraction=args.fraction, limit=args.limit,
                            max_chars=args.max_chars, threshold=args.threshold, seed=args.seed,
                            score_from=args.score_from, max_doc_tokens=args.max_doc_tokens, batch_size=args.batch_size)
    start = time.perf_counter()
    table = annotate(_read(args.input, args.text_column), config)
    seconds = time.perf_counter() - start
    path = write(table, args.output)
    values = table.column("score").to_pylist()
    print(f"{path}: {table.num_rows:,} documents rated by {args.model} in {seconds:.1f} s "
          f"({table.num_rows / max(seconds, 1e-9):.2f} docs/s, model load included); unparsed {values.count(None)}")
    scores = Counter(None if v is None else min(5, int(v + 0.5)) for v in values)  # logprob scores: to the nearest digit
    print("  scores " + "  ".join(f"{k}: {scores.get(k, 0)}" for k in range(6)))
    labels = Counter(table.column("label").to_pylist())
    print(f"  labels hq: {labels.get('hq', 0)}  lq: {labels.get('lq', 0)} (score >= {args.threshold:g} is hq)")
    return 0


def register_cli(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``annotate`` command to the ``curate`` parser."""
    p = subparsers.add_parser(
        "annotate",
        help="rate documents' educational value (0-5) with an instruct LLM, as labels for train-classifier",
        description=ANNOTATE_DOC.split("\n\n")[1],
    )
    p.add_argument("input", nargs="+", help="Parquet / JSONL files, globs or directories (columns id, text, optional lang)")
    p.add_argument("-o", "--output", required=True, type=Path, help="Parquet file of annotations to write")
    p.add_argument("--model", required=True, help="model directory (vllm, hf) or the served model name (http)")
    p.add_argument("--engine", choices=("vllm", "http", "hf"), default="vllm", help="generation engine (default: vllm)")
    p.add_argument("--tokenizer", help="tokenizer directory with the chat template (default: --model; needed for http)")
    p.add_argument("--base-url", default="http://127.0.0.1:8000", help="http: server root (default: http://127.0.0.1:8000)")
    p.add_argument("--dtype", default="auto", choices=("auto", "float32", "bfloat16", "float16"), help="weights dtype")
    p.add_argument("--max-model-len", type=int, help="context length to use (default: the model's)")
    p.add_argument("--tensor-parallel-size", type=int, default=1, help="GPUs one vLLM engine shards the model over")
    p.add_argument("--kv-cache-gb", type=float, default=0.5, help="vllm on CPU: KV-cache size (default: 0.5)")
    p.add_argument("--no-chat-template", action="store_true", help="send plain prompts (base models, or servers that template)")
    p.add_argument("--text-column", default="text", help="column holding the text (default: text)")
    p.add_argument("--fraction", type=float, default=1.0, help="share of documents rated, by a stable hash of seed and id")
    p.add_argument("--limit", type=int, help="rate at most N documents")
    p.add_argument("--max-chars", type=int, default=2000, help="characters of each document in the prompt (default: 2000)")
    p.add_argument("--max-tokens", type=int, default=8, help="tokens generated per rating (default: 8)")
    p.add_argument("--threshold", type=float, default=3, help="score >= N is labelled hq, below lq (default: 3)")
    p.add_argument("--score-from", choices=("text", "logprobs"), default="text",
                   help="text: parse a generated answer; logprobs: the expected digit from the next-token "
                        "probabilities of 0-5 (one forward pass, continuous score; engines hf, vllm)")
    p.add_argument("--max-doc-tokens", type=int, default=384, help="logprobs: tokens of each document in the prompt (default: 384)")
    p.add_argument("--batch-size", type=int, default=8, help="logprobs with --engine hf: prompts per forward pass (default: 8)")
    p.add_argument("--seed", type=int, default=0, help="seed of the sample and the requests (default: 0)")
    p.set_defaults(func=_run)
