"""The verdicts of a proxy comparison and how they are reported: per-metric deltas with their uncertainty,
the smallest difference the comparison can resolve, whether each control was caught, a plain-language
summary, report.md and the plots.

Why the uncertainty: two small runs differ by seed alone, and a benchmark subset of a few hundred items is
itself a sample. Every difference to the baseline is reported with both — the seed standard error and a
paired bootstrap over eval items (documents for bits per byte, questions for benchmarks) — and the verdict
says "better" or "worse" only when the difference exceeds 1.96 combined standard errors. That threshold,
1.96 × se, is the smallest difference the budget and seed count can resolve, and is reported as such.
Memory: per-item values of every run (a few thousand floats each).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from curate.proxy.evaluate import MC_LOWER_BETTER, MC_METRICS

Z95 = 1.96
HEADLINE = "headline/score"


def lower_is_better(metric: str) -> bool:
    return metric.startswith("bpb/") or metric.split("/")[-1] in MC_LOWER_BETTER


def metric_items(run: dict) -> dict[str, tuple[np.ndarray, np.ndarray | None]]:
    """Every reported metric of a run as per-item values (numerator, denominator for ratio metrics).

    ``headline/score``: each benchmark item's correct_prob rescaled so chance is 0 and certainty 1
    ((p - 1/k) / (1 - 1/k) for k choices; p for a single continuation), averaged with every task weighted
    equally — one continuous score per candidate that moves before accuracy leaves chance.
    """
    out: dict[str, tuple[np.ndarray, np.ndarray | None]] = {}
    nll, nbytes = np.asarray(run["bpb"]["doc_nll"]) / math.log(2), np.asarray(run["bpb"]["doc_bytes"], dtype=float)
    domains = np.asarray(run["bpb"]["doc_domains"], dtype=object)
    out["bpb/all"] = (nll, nbytes)
    for d in sorted(set(domains.tolist())):
        m = domains == d
        out[f"bpb/{d}"] = (np.where(m, nll, 0.0), np.where(m, nbytes, 0.0))
    heads, weights = [], []
    for task, rec in run["tasks"].items():
        for metric in MC_METRICS:
            values = np.asarray(rec["per_item"].get(metric, []), dtype=float)
            if np.isfinite(values).any():
                out[f"{task}/{metric}"] = (values, None)
        p = np.asarray(rec["per_item"]["correct_prob"], dtype=float)
        k = np.asarray(rec["per_item"].get("n_choices", [2.0] * len(p)), dtype=float)
        chance = np.where(k > 1, 1.0 / k, 0.0)
        heads.append((p - chance) / (1.0 - chance))
        weights.append(np.full(len(p), 1.0 / max(1, len(p))))
    if heads:
        w = np.concatenate(weights)
        out[HEADLINE] = (np.concatenate(heads) * w, w)
    return out


def _value(num: np.ndarray, den: np.ndarray | None, idx: np.ndarray | None = None) -> float:
    if idx is not None:
        num, den = num[idx], (den[idx] if den is not None else None)
    return float(num.sum() / den.sum()) if den is not None else float(np.nanmean(num))


def summarise(baseline: str, runs: dict[str, list[dict]], bootstrap: int) -> dict:
    """Mean and seed spread of every metric per candidate, and each candidate's difference to the baseline."""
    rng = np.random.default_rng(0)
    items = {name: [metric_items(r) for r in rs] for name, rs in runs.items()}
    metrics = sorted(set.intersection(*(set(m) for rs in items.values() for m in rs)))
    n_items = {m: len(items[baseline][0][m][0]) for m in metrics}
    boots = {m: rng.integers(0, n_items[m], size=(bootstrap, n_items[m])) for m in metrics} if bootstrap else {}
    table: dict[str, dict] = {}
    for metric in metrics:
        row: dict[str, dict] = {}
        seed_values = {name: np.array([_value(*r[metric]) for r in rs]) for name, rs in items.items()}

        def pooled(name: str, metric: str = metric) -> tuple[np.ndarray, np.ndarray | None]:
            return np.mean([r[metric][0] for r in items[name]], axis=0), items[name][0][metric][1]

        for name, vals in seed_values.items():
            entry = {"mean": float(vals.mean()), "seed_std": float(vals.std(ddof=1)) if len(vals) > 1 else None, "seeds": vals.tolist()}
            if name != baseline:
                delta = float(vals.mean() - seed_values[baseline].mean())
                se_seed = math.sqrt(sum(v.var(ddof=1) / len(v) for v in (vals, seed_values[baseline]) if len(v) > 1)) if len(vals) > 1 else 0.0
                ci, se_boot = None, 0.0
                if bootstrap:
                    (cn, cd), (bn, bd) = pooled(name), pooled(baseline)
                    deltas = np.array([_value(cn, cd, idx) - _value(bn, bd, idx) for idx in boots[metric]])
                    se_boot = float(np.nanstd(deltas, ddof=1))
                    ci = [float(np.nanpercentile(deltas, 2.5)), float(np.nanpercentile(deltas, 97.5))]
                se = math.sqrt(se_seed**2 + se_boot**2)
                if se > 0 and abs(delta) > Z95 * se:
                    verdict = "better" if (delta < 0) == lower_is_better(metric) else "worse"
                elif se == 0 and len(vals) < 2 and not bootstrap:
                    verdict = "no uncertainty estimate (one seed, no bootstrap)"
                else:
                    verdict = "no clear difference"
                entry.update({"delta": delta, "se_seed": se_seed, "se_bootstrap": se_boot, "se": se, "bootstrap_ci95": ci,
                              "resolvable": Z95 * se if se > 0 else None, "verdict": verdict})
            row[name] = entry
        table[metric] = row
    return {"metrics": table, "n_items": n_items}


def _fmt(x: float | None, digits: int = 4) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


def plain_summary(baseline: str, candidates: list[str], controls: dict[str, str], summary: dict, eval_info: dict, cost: str = "") -> list[str]:
    """The report's opening: who wins on what, how sure, what the budget resolves, whether controls were caught."""
    rows = summary["metrics"]
    lines = ["## Summary", "", f"- Held-out text: {eval_info['description']}."]
    if eval_info.get("overlap"):
        lines.append(f"- {eval_info['overlap']}")
    for name in candidates:
        e = rows["bpb/all"][name]
        sure = f"{abs(e['delta']) / e['se']:.1f} standard errors" if e["se"] else "no uncertainty estimate"
        if e["verdict"] in ("better", "worse"):
            lines.append(f"- **{name}** is **{e['verdict']}** than {baseline} on held-out bits per byte by {abs(e['delta']):.4f} bpb ({sure}).")
        else:
            lines.append(f"- **{name}** vs {baseline} on held-out bits per byte: **{e['verdict']}** (Δ {e['delta']:+.4f} bpb). "
                         f"This comparison resolves differences of {_fmt(e['resolvable'])} bpb or more; to resolve smaller ones, add training tokens or seeds.")
        wins = [m.split("/", 1)[1] for m in rows if m.startswith("bpb/") and m != "bpb/all" and rows[m][name].get("verdict") == "better"]
        losses = [m.split("/", 1)[1] for m in rows if m.startswith("bpb/") and m != "bpb/all" and rows[m][name].get("verdict") == "worse"]
        if wins or losses:
            lines.append(f"  By domain: better on {', '.join(wins) or 'none'}; worse on {', '.join(losses) or 'none'}.")
        if HEADLINE in rows:
            h = rows[HEADLINE][name]
            lines.append(f"  Benchmarks (headline score, chance-normalised correct_prob): {h['verdict']} "
                         f"(Δ {h['delta']:+.4f} ± {_fmt(h['se'])}; resolvable: {_fmt(h['resolvable'])}).")
    for name, what in controls.items():
        e = rows["bpb/all"][name]
        caught = e["verdict"] == "worse"
        lines.append(f"- Control **{name}** ({what}): {'caught' if caught else 'NOT caught'} — Δ {e['delta']:+.4f} bpb, "
                     f"{e['verdict']}." + ("" if caught else " This budget cannot tell damaged data from clean: treat every verdict here as weak; add tokens or seeds."))
    if cost:
        lines.append(f"- {cost}")
    return lines + [""]


def write_markdown(name: str, baseline: str, summary: dict, runs: dict[str, list[dict]], opening: list[str], path: Path) -> None:
    names = [baseline] + [n for n in runs if n != baseline]
    n_seeds = len(runs[baseline])
    lines = [f"# Proxy comparison: {name}", "", *opening, "## All metrics", "",
             (f"Baseline **{baseline}**; {n_seeds} seed(s) per candidate; {runs[baseline][0]['tokens']:,} training tokens per run. "
             "Values: mean ± seed std. Δ: candidate − baseline ± combined standard error (seed and paired bootstrap over items), "
             "with the bootstrap 95% interval; res.: the smallest difference this comparison resolves (1.96 × se). "
             "bpb and gold_bpb: bits per byte, lower is better; others: higher is better."),
             "",
             "| metric | n | " + " | ".join(names) + " | " + " | ".join(f"Δ {n}" for n in names[1:]) + " | verdict |",
             "|---|---|" + "---|" * (len(names) + len(names) - 1) + "---|"]
    for metric, row in summary["metrics"].items():
        cells = [f"{_fmt(row[n]['mean'])} ± {_fmt(row[n]['seed_std'])}" for n in names]
        deltas, verdicts = [], []
        for n in names[1:]:
            e = row[n]
            ci = e.get("bootstrap_ci95")
            deltas.append(f"{e['delta']:+.4f} ± {e['se']:.4f}" + (f" [{ci[0]:+.4f}, {ci[1]:+.4f}]" if ci else "") + f" res. {_fmt(e['resolvable'])}")
            verdicts.append(f"{n}: {e['verdict']}")
        lines.append(f"| {metric} | {summary['n_items'][metric]} | " + " | ".join(cells) + " | " + " | ".join(deltas) + " | " + "; ".join(verdicts) + " |")
    lines += ["", "Plots: `loss_curves.png`, `bpb_domains.png`, `benchmarks.png`.", ""]
    path.write_text("\n".join(lines), encoding="utf-8")


def write_plots(baseline: str, summary: dict, runs: dict[str, list[dict]], out: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [baseline] + [n for n in runs if n != baseline]
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
    bench = [m for m in summary["metrics"] if m.endswith("/correct_prob")] + ([HEADLINE] if HEADLINE in summary["metrics"] else [])
    if bench:
        bars(bench, [m.split("/")[0] for m in bench], "probability of the correct choice", "Benchmarks: correct_prob and the headline score (± seed std)", "benchmarks.png")
    return ["loss_curves.png", "bpb_domains.png"] + (["benchmarks.png"] if bench else [])


