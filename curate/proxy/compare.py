"""Decide between blends: train a proxy per candidate and seed, evaluate all on the same items, report.

Why the uncertainty: two small runs differ by seed alone, and a benchmark subset of a few hundred items is
itself a sample. Every difference to the baseline is reported with both — the seed standard error and a
paired bootstrap over eval items (documents for bits per byte, questions for benchmarks) — and the verdict
says "better" or "worse" only when the difference exceeds 1.96 combined standard errors.

    OUT/tokenizer.json
    OUT/runs/<candidate>/seed<N>/   checkpoint/, log.json, eval.json (each run resumes or is skipped when done)
    OUT/report.json, OUT/report.md, OUT/loss_curves.png, OUT/bpb_domains.png, OUT/benchmarks.png
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pyarrow as pa

from curate.core.hashing import hash_strings
from curate.proxy.config import CompareConfig
from curate.proxy.data import EvalDocs, heldout_mask, read_documents, token_stream
from curate.proxy.evalsets import load_tasks
from curate.proxy.evaluate import MC_METRICS, bits_per_byte, evaluate_items
from curate.proxy.tokenizer import load_tokenizer, train_tokenizer
from curate.proxy.train import export_hf, load_checkpoint, train

#: Metrics where lower is better; all others are higher-is-better.
LOWER_IS_BETTER = ("bpb",)


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


def _metric_items(run: dict) -> dict[str, tuple[np.ndarray, np.ndarray | None]]:
    """Every reported metric of a run as per-item values (numerator, denominator for ratio metrics)."""
    out: dict[str, tuple[np.ndarray, np.ndarray | None]] = {}
    nll, nbytes = np.asarray(run["bpb"]["doc_nll"]) / math.log(2), np.asarray(run["bpb"]["doc_bytes"], dtype=float)
    domains = np.asarray(run["bpb"]["doc_domains"], dtype=object)
    out["bpb/all"] = (nll, nbytes)
    for d in sorted(set(domains.tolist())):
        m = domains == d
        out[f"bpb/{d}"] = (np.where(m, nll, 0.0), np.where(m, nbytes, 0.0))
    for task, rec in run["tasks"].items():
        for metric in MC_METRICS:
            values = np.asarray(rec["per_item"][metric], dtype=float)
            if np.isfinite(values).any():
                out[f"{task}/{metric}"] = (values, None)
    return out


def _value(num: np.ndarray, den: np.ndarray | None, idx: np.ndarray | None = None) -> float:
    if idx is not None:
        num, den = num[idx], (den[idx] if den is not None else None)
    return float(num.sum() / den.sum()) if den is not None else float(np.nanmean(num))


def summarise(cfg: CompareConfig, runs: dict[str, list[dict]]) -> dict:
    """Mean and seed spread of every metric per candidate, and each candidate's difference to the baseline."""
    rng = np.random.default_rng(0)
    base = cfg.baseline
    items = {name: [_metric_items(r) for r in rs] for name, rs in runs.items()}
    metrics = sorted(set.intersection(*(set(m) for rs in items.values() for m in rs)))
    n_items = {m: len(items[base][0][m][0]) for m in metrics}
    boots = {m: rng.integers(0, n_items[m], size=(cfg.eval.bootstrap, n_items[m])) for m in metrics} if cfg.eval.bootstrap else {}
    table: dict[str, dict] = {}
    for metric in metrics:
        row: dict[str, dict] = {}
        seed_values = {name: np.array([_value(*r[metric]) for r in rs]) for name, rs in items.items()}

        def pooled(name: str) -> tuple[np.ndarray, np.ndarray | None]:
            nums = np.mean([r[metric][0] for r in items[name]], axis=0)
            dens = items[name][0][metric][1]
            return nums, dens

        for name, vals in seed_values.items():
            entry = {"mean": float(vals.mean()), "seed_std": float(vals.std(ddof=1)) if len(vals) > 1 else None, "seeds": vals.tolist()}
            if name != base:
                delta = float(vals.mean() - seed_values[base].mean())
                se_seed = math.sqrt(sum(v.var(ddof=1) / len(v) for v in (vals, seed_values[base]) if len(v) > 1)) if len(vals) > 1 else 0.0
                ci, se_boot = None, 0.0
                if cfg.eval.bootstrap:
                    (cn, cd), (bn, bd) = pooled(name), pooled(base)
                    deltas = np.array([_value(cn, cd, idx) - _value(bn, bd, idx) for idx in boots[metric]])
                    se_boot = float(np.nanstd(deltas, ddof=1))
                    ci = [float(np.nanpercentile(deltas, 2.5)), float(np.nanpercentile(deltas, 97.5))]
                se = math.sqrt(se_seed**2 + se_boot**2)
                lower_better = metric.split("/")[0] in LOWER_IS_BETTER
                if se > 0 and abs(delta) > 1.96 * se:
                    verdict = "better" if (delta < 0) == lower_better else "worse"
                elif se == 0:
                    verdict = "no uncertainty estimate (one seed, no bootstrap)"
                else:
                    verdict = "no clear difference"
                entry.update({"delta": delta, "se_seed": se_seed, "se_bootstrap": se_boot, "se": se, "bootstrap_ci95": ci, "verdict": verdict})
            row[name] = entry
        table[metric] = row
    return {"metrics": table, "n_items": n_items}


def _fmt(x: float | None, digits: int = 4) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


def write_markdown(cfg: CompareConfig, summary: dict, runs: dict[str, list[dict]], path: Path) -> None:
    names = [cfg.baseline] + [n for n in cfg.candidates if n != cfg.baseline]
    lines = [
        f"# Proxy comparison: {cfg.name}",
        "",
        f"Baseline **{cfg.baseline}**; {len(cfg.seeds)} seed(s) per candidate; "
        f"{runs[cfg.baseline][0]['tokens']:,} training tokens per run. Values: mean ± seed std. "
        "Δ: candidate − baseline ± combined standard error (seed and paired bootstrap over items), "
        "with the bootstrap 95% interval. bpb: bits per byte, lower is better; others: higher is better.",
        "",
        "| metric | n | " + " | ".join(names) + " | " + " | ".join(f"Δ {n}" for n in names[1:]) + " | verdict |",
        "|---|---|" + "---|" * (len(names) + len(names) - 1) + "---|",
    ]
    for metric, row in summary["metrics"].items():
        cells = [f"{_fmt(row[n]['mean'])} ± {_fmt(row[n]['seed_std'])}" for n in names]
        deltas, verdicts = [], []
        for n in names[1:]:
            e = row[n]
            ci = e.get("bootstrap_ci95")
            deltas.append(f"{e['delta']:+.4f} ± {e['se']:.4f}" + (f" [{ci[0]:+.4f}, {ci[1]:+.4f}]" if ci else ""))
            verdicts.append(f"{n}: {e['verdict']}")
        lines.append(f"| {metric} | {summary['n_items'][metric]} | " + " | ".join(cells) + " | " + " | ".join(deltas) + " | " + "; ".join(verdicts) + " |")
    lines += ["", "Plots: `loss_curves.png`, `bpb_domains.png`, `benchmarks.png`.", ""]
    path.write_text("\n".join(lines), encoding="utf-8")


def write_plots(cfg: CompareConfig, summary: dict, runs: dict[str, list[dict]], out: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [cfg.baseline] + [n for n in cfg.candidates if n != cfg.baseline]
    colors = {n: f"C{i}" for i, n in enumerate(names)}
    fig, ax = plt.subplots(figsize=(7, 4))
    for n in names:
        for i, r in enumerate(runs[n]):
            h = r["history"]
            ax.plot([p["tokens"] for p in h], [p["loss"] for p in h], color=colors[n], alpha=0.8, label=n if i == 0 else None)
    ax.set(xlabel="training tokens", ylabel="train loss (nats/token)", title="Loss curves (one line per seed)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "loss_curves.png", dpi=100)
    plt.close(fig)

    def bars(metrics: list[str], labels: list[str], ylabel: str, title: str, file: str) -> None:
        fig, ax = plt.subplots(figsize=(max(6, 0.9 * len(metrics) + 2), 4))
        width = 0.8 / len(names)
        x = np.arange(len(metrics))
        for i, n in enumerate(names):
            means = [summary["metrics"][m][n]["mean"] for m in metrics]
            stds = [summary["metrics"][m][n]["seed_std"] or 0.0 for m in metrics]
            ax.bar(x + i * width - 0.4 + width / 2, means, width, yerr=stds, capsize=3, color=colors[n], label=n)
        ax.set_xticks(x, labels, rotation=30, ha="right")
        ax.set(ylabel=ylabel, title=title)
        ax.legend()
        fig.tight_layout()
        fig.savefig(out / file, dpi=100)
        plt.close(fig)

    bpb = [m for m in summary["metrics"] if m.startswith("bpb/")]
    bars(bpb, [m.split("/", 1)[1] for m in bpb], "bits per byte (lower is better)", "Held-out bits per byte by domain (± seed std)", "bpb_domains.png")
    bench = [m for m in summary["metrics"] if m.endswith("/correct_prob")]
    if bench:
        bars(bench, [m.split("/")[0] for m in bench], "probability of the correct choice", "Benchmarks: correct_prob (± seed std)", "benchmarks.png")
    return ["loss_curves.png", "bpb_domains.png"] + (["benchmarks.png"] if bench else [])


def compare(cfg: CompareConfig, out: str | Path, quiet: bool = False) -> dict:
    """Run the whole comparison into ``out`` and return the report (also written as report.json)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    say = (lambda msg: None) if quiet else (lambda msg: print(msg, flush=True))
    tokenizer = prepare_tokenizer(cfg, out)
    say(f"tokenizer: {tokenizer.get_vocab_size()} tokens")
    pool = read_documents(cfg.eval.paths or cfg.candidates[cfg.baseline], cfg.eval.domain_column)
    held = pool.filter(pa.array(heldout_mask(pool.column("text"), cfg.eval.heldout_fraction)))
    eval_docs = EvalDocs.build(tokenizer, held, cfg.eval.max_docs)
    held_hashes = hash_strings(held.column("text"))
    items = load_tasks(cfg.eval.tasks, cfg.eval.limit, cfg.eval.wheel) if cfg.eval.tasks else []
    say(f"eval: {len(eval_docs.tokens)} held-out documents, {len(items)} benchmark items")
    runs: dict[str, list[dict]] = {}
    data_stats: dict[str, dict] = {}
    for name, globs in cfg.candidates.items():
        table = read_documents(globs, cfg.eval.domain_column)
        keep = ~np.isin(hash_strings(table.column("text")), held_hashes)
        texts = table.filter(pa.array(keep)).column("text").to_pylist()
        stream = token_stream(tokenizer, texts)
        data_stats[name] = {"documents": len(texts), "held_out_removed": int((~keep).sum()), "tokens": int(len(stream))}
        runs[name] = []
        for seed in cfg.seeds:
            say(f"{name} seed {seed}: training on {len(stream):,} tokens")
            runs[name].append(run_one(cfg, name, seed, stream, tokenizer, eval_docs, items, out, quiet))
    summary = summarise(cfg, runs)
    report = {
        "name": cfg.name,
        "config": cfg.model_dump(mode="json"),
        "data": data_stats,
        "runs": [{k: r[k] for k in ("candidate", "seed", "tokens", "tokens_per_s", "final_loss")} for rs in runs.values() for r in rs],
        **summary,
    }
    report["plots"] = write_plots(cfg, summary, runs, out)
    (out / "report.json").write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    write_markdown(cfg, summary, runs, out / "report.md")
    return report
