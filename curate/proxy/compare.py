"""Decide between blends: train a proxy per candidate and seed, evaluate all on the same items, report.

Neutral evaluation (Paloma's rule): held-out bits per byte is measured on documents no candidate was
chosen by — by default the shipped multi-domain, multilingual set ``data/evalset`` — and any eval
document found in a candidate is removed from every candidate's training data, with the counts reported.
Controls (``shuffle_F``: the baseline with the words of a fraction F of its documents shuffled within
lines) train as extra candidates, so the report shows whether the budget catches known damage. The
verdicts, the resolvable difference and the plain-language summary are made in :mod:`curate.proxy.report`.
Memory: each candidate is tokenized to a file on disk, one record batch at a time, and trained from it
memory-mapped (:func:`curate.proxy.data.write_tokens`); the eval documents and items are held in memory.

    OUT/tokenizer.json
    OUT/tokens/<candidate>.bin|.json   the training tokens (reused when the data and eval set are the same)
    OUT/runs/<candidate>/seed<N>/   checkpoint/, log.json, eval.json (each run resumes or is skipped when done)
    OUT/report.json, OUT/report.md, OUT/loss_curves.png, OUT/bpb_domains.png, OUT/benchmarks.png
"""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import numpy as np
import pyarrow as pa
import xxhash

from curate.core.hashing import hash_strings
from curate.proxy.config import DEFAULT_EVALSET, CompareConfig
from curate.proxy.data import EvalDocs, heldout_mask, read_documents, shuffle_words, write_tokens
from curate.proxy.evalsets import load_tasks
from curate.proxy.evaluate import bits_per_byte, evaluate_items
from curate.proxy.placement import run_on_ray
from curate.proxy.report import plain_summary, summarise, write_markdown, write_plots
from curate.proxy.tokenizer import load_tokenizer, train_tokenizer
from curate.proxy.train import export_hf, load_checkpoint, train


def prepare_tokenizer(cfg: CompareConfig, out: Path):
    """The configured tokenizer.json, or one trained once on the reference sample and kept in OUT."""
    if cfg.tokenizer.path:
        return load_tokenizer(cfg.tokenizer.path)
    path = out / "tokenizer.json"
    if path.is_file():
        return load_tokenizer(path)
    table = read_documents(cfg.tokenizer.train_on or cfg.candidates[cfg.baseline])
    if cfg.tokenizer.max_docs:
        table = table.slice(0, cfg.tokenizer.max_docs)
    tokenizer = train_tokenizer(table.column("text").to_pylist(), cfg.tokenizer.vocab_size)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer.save(str(path))
    return tokenizer


def eval_table(cfg: CompareConfig) -> tuple[pa.Table, np.ndarray, str]:
    """The held-out documents, the text hashes removed from training, and a sentence saying what they are."""
    neutral = not cfg.eval.paths
    pool = read_documents(cfg.eval.paths or [DEFAULT_EVALSET], cfg.eval.domain_column, where="eval.paths")
    if cfg.eval.heldout_fraction:
        pool = pool.filter(pa.array(heldout_mask(pool.column("text"), cfg.eval.heldout_fraction)))
    hashes = hash_strings(pool.column("text"))
    held = pool
    if cfg.eval.max_docs and pool.num_rows > cfg.eval.max_docs:  # a fixed subset by hash, kept in file order
        held = pool.take(pa.array(np.sort(np.argsort(hashes, kind="stable")[: cfg.eval.max_docs])))
    domains = sorted(set(held.column("domain").to_pylist()))
    what = (f"the shipped neutral set data/evalset ({held.num_rows} documents, {len(domains)} domains, in no candidate)" if neutral
            else f"{held.num_rows} documents of {', '.join(cfg.eval.paths)} ({len(domains)} domain{'s' if len(domains) != 1 else ''})")
    return held, hashes, what


def run_one(cfg: CompareConfig, name: str, seed: int, stream: np.ndarray, tokenizer, eval_docs: EvalDocs, items: list, out: Path, quiet: bool) -> dict:
    """Train (or resume) one run and evaluate it; a run with eval.json already there is read back."""
    run_dir = out / "runs" / name / f"seed{seed}"
    done = run_dir / "eval.json"
    if done.is_file():
        return json.loads(done.read_text(encoding="utf-8"))
    model_config = cfg.model.build(tokenizer.get_vocab_size())
    result = train(model_config, cfg.train.model_copy(update={"seed": seed}), stream, run_dir, quiet=quiet)
    export_hf(result.model, tokenizer, run_dir / "hf")
    model, _ = load_checkpoint(run_dir)  # evaluate what was saved, on the CPU or the training device
    model = model.to(next(result.model.parameters()).device)
    bpb = bits_per_byte(model, tokenizer, eval_docs, cfg.eval.batch_size)
    tasks = evaluate_items(model, tokenizer, items, cfg.eval.batch_size)
    record = {
        "candidate": name,
        "seed": seed,
        "tokens": result.tokens,
        "tokens_per_s": result.tokens_per_s,
        "final_loss": result.final_loss,
        "history": result.history,
        "bpb": bpb,
        "tasks": {t: {"summary": s.summary(), "per_item": {m: v.tolist() for m, v in s.per_item.items()}} for t, s in tasks.items()},
    }
    done.write_text(json.dumps(record) + "\n", encoding="utf-8")
    return record


def training_sets(cfg: CompareConfig) -> dict[str, tuple[list[str], object, str]]:
    """Every candidate and control: its globs, the transform of its texts, and what it is."""
    sets = {name: (globs, None, "") for name, globs in cfg.candidates.items()}
    for control in cfg.controls:
        fraction = float(control.split("_", 1)[1])
        sets[f"control/{control}"] = (cfg.candidates[cfg.baseline], partial(shuffle_words, fraction=fraction),
                                      f"{cfg.baseline} with the words of {fraction:.0%} of its documents shuffled within lines")
    return sets


def compare(cfg: CompareConfig, out: str | Path, quiet: bool = False) -> dict:
    """Run the whole comparison into ``out`` and return the report (also written as report.json)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    say = (lambda msg: None) if quiet else (lambda msg: print(msg, flush=True))
    tokenizer = prepare_tokenizer(cfg, out)
    say(f"tokenizer: {tokenizer.get_vocab_size()} tokens")
    held, held_hashes, eval_what = eval_table(cfg)
    eval_docs = EvalDocs.build(tokenizer, held)
    items = load_tasks(cfg.eval.tasks, cfg.eval.limit, cfg.eval.wheel) if cfg.eval.tasks else []
    say(f"eval: {eval_what}; {len(items)} benchmark items")
    eval_key = xxhash.xxh64(np.sort(held_hashes).tobytes()).hexdigest()
    runs: dict[str, list[dict]] = {}
    data_stats: dict[str, dict] = {}
    controls: dict[str, str] = {}
    jobs = []
    for name, (globs, transform, what) in training_sets(cfg).items():
        key = json.dumps([globs, what, eval_key, tokenizer.get_vocab_size()])
        stream, stats = write_tokens(tokenizer, globs, out / "tokens" / f"{name}.bin", held_hashes, transform, key)
        data_stats[name] = {k: stats[k] for k in ("documents", "eval_overlap_removed", "tokens")}
        if what:
            controls[name] = what
        jobs += [(name, seed, stream) for seed in cfg.seeds]
    if cfg.placement.executor == "ray":
        say(f"{len(jobs)} runs on Ray")
        results = run_on_ray(cfg, jobs, tokenizer, eval_docs, items, out)
    else:
        results = []
        for name, seed, stream in jobs:
            say(f"{name} seed {seed}: training on {len(stream):,} tokens")
            results.append(run_one(cfg, name, seed, stream, tokenizer, eval_docs, items, out, quiet))
    for (name, _, _), record in zip(jobs, results):
        runs.setdefault(name, []).append(record)
    summary = summarise(cfg.baseline, runs, cfg.eval.bootstrap)
    overlap = {n: s["eval_overlap_removed"] for n, s in data_stats.items() if s["eval_overlap_removed"] and n not in controls}
    eval_info = {"description": eval_what, "overlap": ""}
    if overlap:
        eval_info["overlap"] = ("Eval documents found in training data, removed from every candidate: "
                                + ", ".join(f"{n} {c}" for n, c in overlap.items())
                                + (f". The eval set came from {next(iter(overlap))} only, which favours it; prefer a neutral set." if len(overlap) == 1 else "."))
    others = [n for n in cfg.candidates if n != cfg.baseline]
    all_runs = [r for rs in runs.values() for r in rs]
    seconds = sum(r["tokens"] / r["tokens_per_s"] for r in all_runs if r["tokens_per_s"])
    cost = (f"Cost: {len(all_runs)} runs of {all_runs[0]['tokens']:,} tokens, {seconds / 60:.1f} min of training at "
            f"{sum(r['tokens'] for r in all_runs) / max(seconds, 1e-9):,.0f} tokens/s; `curate proxy plan` estimates another budget's time before it runs.")
    opening = plain_summary(cfg.baseline, others, controls, summary, eval_info, cost)
    report = {
        "name": cfg.name,
        "config": cfg.model_dump(mode="json"),
        "eval": eval_info,
        "data": data_stats,
        "controls": {n: {"what": w, "caught": summary["metrics"]["bpb/all"][n]["verdict"] == "worse"} for n, w in controls.items()},
        "summary": opening,
        "runs": [{k: r[k] for k in ("candidate", "seed", "tokens", "tokens_per_s", "final_loss")} for rs in runs.values() for r in rs],
        **summary,
    }
    report["plots"] = write_plots(cfg.baseline, summary, runs, out)
    (out / "report.json").write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    write_markdown(cfg.name, cfg.baseline, summary, runs, opening, out / "report.md")
    return report
