"""PNG plots of a run, drawn with matplotlib's object API on the Agg canvas.

Plots take plain numbers (already aggregated by :mod:`curate.report.html`) and a path, so they never touch
Parquet and never hold documents. We build ``Figure`` objects directly instead of going through
``pyplot``: no global backend switch, no figure registry to leak, safe in any process (a Ray worker, a
notebook with its own backend).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from curate.report.funnel import funnel_rows

#: One colour for kept, one for dropped, everywhere.
KEPT = "#3b7dd8"
DROPPED = "#d8643b"
CUT = "#e8b923"  # text a step cut out of documents it kept
DPI = 100


def _figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    # no Software/date metadata: the same run draws the same bytes
    fig.savefig(path, format="png", metadata={"Software": None})
    return path


def _human(value: float, _pos: object = None) -> str:
    for unit, size in (("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(value) >= size:
            return f"{value / size:.3g}{unit}"
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.3g}"


def funnel(steps: list[dict], path: Path) -> Path:
    """Documents and characters kept after each step, what each step dropped, and the text it cut from kept documents."""
    rows = funnel_rows(steps)
    y = np.arange(len(rows))
    fig = _figure(11, 1.5 + 0.45 * len(rows))
    docs, chars = fig.subplots(1, 2, sharey=True)
    kept = np.array([r.kept for r in rows], dtype=float)
    dropped = np.array([r.dropped for r in rows], dtype=float)
    docs.barh(y, kept, color=KEPT, label="kept")
    docs.barh(y, dropped, left=kept, color=DROPPED, label="dropped here")
    docs.set_title("documents after each step")
    chars_kept = np.array([r.chars_kept for r in rows], dtype=float)
    cut = np.array([max(r.chars_cut or 0, 0) for r in rows], dtype=float)
    chars_lost = np.array([r.chars_in - r.chars_kept for r in rows], dtype=float) - cut
    chars.barh(y, chars_kept, color=KEPT)
    chars.barh(y, chars_lost, left=chars_kept, color=DROPPED)
    chars.barh(y, cut, left=chars_kept + chars_lost, color=CUT, label="cut from kept documents")
    chars.set_title("characters after each step")
    handles = docs.get_legend_handles_labels()[0] + (chars.get_legend_handles_labels()[0] if cut.any() else [])
    fig.legend(handles=handles, loc="outside lower center", ncols=3, fontsize="small", frameon=False)
    docs.set_yticks(y, [r.name for r in rows])
    docs.invert_yaxis()
    for ax, widest in ((docs, max((r.kept + r.dropped for r in rows), default=0)), (chars, max((r.chars_in for r in rows), default=0))):
        ax.set_xlim(0, 1.12 * widest or 1)  # room for the percentages
        ax.xaxis.set_major_formatter(FuncFormatter(_human))
        ax.grid(axis="x", alpha=0.3)
    for i, r in enumerate(rows):
        docs.annotate(f"{r.docs_kept_pct:.1f}%", (r.kept + r.dropped, i), xytext=(3, 0), textcoords="offset points", va="center", fontsize="small")
        weight = "bold" if r.large_char_loss else "normal"
        colour = DROPPED if r.large_char_loss else "black"
        chars.annotate(f"{r.chars_kept_pct:.1f}%", (r.chars_in, i), xytext=(3, 0), textcoords="offset points", va="center",
                       fontsize="small", fontweight=weight, color=colour)
    return _save(fig, path)


def panel_title(step: str, counts: list[int], total: int) -> str:
    """``gopher: 458 dropped (top 10 reasons: 446)``: the step's whole count, and what the bars show."""
    total = max(total, sum(counts))
    shown = f" (top {len(counts)} reasons: {sum(counts):,})" if total > sum(counts) else ""
    return f"{step}: {total:,} dropped{shown}"


def drop_reasons(by_step: dict[str, list[tuple[str, int]]], path: Path, totals: dict[str, int] | None = None) -> Path:
    """Top drop reasons of every step that dropped something, one panel per step.

    A panel's title counts every document the step dropped (``totals``, from the manifest), not only the
    reasons shown, and says when the bars are the top few of more.
    """
    steps = [s for s, rows in by_step.items() if rows]
    heights = [max(1, len(by_step[s])) for s in steps]
    fig = _figure(10, 0.8 + sum(0.32 * h + 0.7 for h in heights))
    axes = fig.subplots(len(steps), 1, gridspec_kw={"height_ratios": heights}, squeeze=False)[:, 0]
    for ax, step in zip(axes, steps):
        rows = by_step[step]
        labels = [r if len(r) <= 48 else r[:47] + "…" for r, _ in rows]
        counts = [c for _, c in rows]
        ax.barh(np.arange(len(rows)), counts, color=DROPPED)
        for i, c in enumerate(counts):
            ax.annotate(f"{c:,}", (c, i), xytext=(3, 0), textcoords="offset points", va="center", fontsize="small")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_yticks(np.arange(len(rows)), labels, fontsize="small")
        ax.invert_yaxis()
        ax.set_title(panel_title(step, counts, (totals or {}).get(step, 0)), loc="left", fontsize="medium")
        ax.xaxis.set_major_formatter(FuncFormatter(_human))
        ax.grid(axis="x", alpha=0.3)
    return _save(fig, path)


def categories(counts: list[tuple[str, int]], title: str, path: Path, unit: str = "documents") -> Path:
    """Horizontal bars of a categorical column's counts (already sorted and capped by the caller)."""
    fig = _figure(9, 1.0 + 0.32 * max(1, len(counts)))
    ax = fig.subplots()
    y = np.arange(len(counts))
    values = np.array([c for _, c in counts], dtype=float)
    ax.barh(y, values, color=KEPT)
    ax.set_yticks(y, [label for label, _ in counts])
    ax.invert_yaxis()
    total = values.sum()
    for i, v in enumerate(values):
        ax.annotate(f"{100 * v / total:.1f}%" if total else "", (v, i), xytext=(3, 0), textcoords="offset points", va="center", fontsize="small")
    ax.set_title(title)
    ax.set_xlabel(unit)
    ax.xaxis.set_major_formatter(FuncFormatter(_human))
    ax.grid(axis="x", alpha=0.3)
    return _save(fig, path)


def removal_shares(rows: list[tuple[str, int, int]], title: str, path: Path) -> Path:
    """Horizontal bars of the share of documents removed per value, from (label, kept, removed) rows."""
    fig = _figure(9, 1.0 + 0.32 * max(1, len(rows)))
    ax = fig.subplots()
    y = np.arange(len(rows))
    share = np.array([100.0 * r / (k + r) if k + r else 0.0 for _, k, r in rows])
    ax.barh(y, share, color=DROPPED)
    ax.set_yticks(y, [label for label, _, _ in rows])
    ax.invert_yaxis()
    for i, (v, (_, k, r)) in enumerate(zip(share, rows)):
        ax.annotate(f"{v:.1f}% of {_human(k + r)}", (v, i), xytext=(3, 0), textcoords="offset points", va="center", fontsize="small")
    ax.set_xlim(0, 100)
    ax.set_title(title)
    ax.set_xlabel("% of documents removed")
    ax.grid(axis="x", alpha=0.3)
    return _save(fig, path)


def histogram(edges: np.ndarray, counts: np.ndarray, title: str, path: Path, nulls: int = 0) -> Path:
    """A histogram from precomputed bin edges and counts (the caller streams the column)."""
    fig = _figure(7, 3.6)
    ax = fig.subplots()
    ax.stairs(counts, edges, fill=True, color=KEPT)
    note = f" ({nulls:,} missing)" if nulls else ""
    ax.set_title(f"{title}{note}")
    ax.set_ylabel("documents")
    ax.yaxis.set_major_formatter(FuncFormatter(_human))
    ax.grid(axis="y", alpha=0.3)
    return _save(fig, path)


def buckets(labels: list[str], docs: list[int], amounts: list[int], unit: str, title: str, path: Path) -> Path:
    """Tokens (or characters) and documents per bucket value, side by side."""
    fig = _figure(10, 3.8)
    left, right = fig.subplots(1, 2)
    x = np.arange(len(labels))
    left.bar(x, amounts, color=KEPT)
    left.set_title(f"{unit} per {title}")
    right.bar(x, docs, color="#7a7a7a")
    right.set_title(f"documents per {title}")
    for ax in (left, right):
        ax.set_xticks(x, labels, rotation=90 if len(labels) > 12 else 0, fontsize="small")
        ax.yaxis.set_major_formatter(FuncFormatter(_human))
        ax.grid(axis="y", alpha=0.3)
    return _save(fig, path)
