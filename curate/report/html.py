"""``curate report OUT``: an HTML page with plots of what a run did — ``OUT/report/index.html`` plus PNGs.

The page shows the stage funnel (documents and characters kept per step, the characters cut from kept
documents, and a flag on steps whose character loss far exceeds their document loss), the top drop
reasons of each step, the language and domain distributions, the share of each language's documents
removed (kept and rejected rows both carry ``lang``), a histogram of every numeric score column and the
characters (or tokens, with a tokenizer) per bucket column. Each plot appears only when the data has the
column it needs.

It works on any run output, finished or not. A killed run has no manifest yet: its counts come from the
committed units' stats under ``_work/``, and its documents from ``data/`` for finished units and from the
latest staged shard under ``_work/`` for the rest; the page says the run is partial. Parquet is read
column by column and batch by batch (only the columns a plot needs), so a report of a large corpus needs
little memory; ``text`` is read only to count characters (or tokens) per bucket.
"""

from __future__ import annotations

import html
import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from curate.core.errors import OutputError
from curate.core.schema import DROP_REASON, DROP_STAGE, ID, READ_STAGE, TEXT
from curate.engine.pipeline import StepStats
from curate.engine.worker import load_stats
from curate.io.shards import write_json
from curate.report import plots
from curate.report.funnel import LARGE_CHAR_LOSS, funnel_rows

LANG_COLUMNS = ("lang",)
CATEGORY_COLUMNS = ("domain", "category")
#: Rows per batch when streaming a column out of a shard.
BATCH_ROWS = 65_536
HIST_BINS = 50
_PART = re.compile(r"(?:part|unit)-(\d+)\.parquet$")
_PHASE = re.compile(r"phase-(\d+)$")


@dataclass
class RunView:
    """The Parquet files and step counts of one run output, finished or partial."""

    out: Path
    manifest: dict | None
    kept: list[Path]
    rejected: list[Path]
    steps: list[dict]
    units_total: int | None
    units_final: int
    _schemas: dict[Path, pa.Schema] = field(default_factory=dict, repr=False)

    @property
    def partial(self) -> bool:
        return self.manifest is None

    @property
    def recipe_name(self) -> str:
        if self.manifest is not None:
            return str(self.manifest["recipe"].get("name", "?"))
        info = self.out / "_work" / "run.json"
        return str(json.loads(info.read_text(encoding="utf-8")).get("recipe", "?")) if info.exists() else "?"

    def schema(self, path: Path) -> pa.Schema:
        if path not in self._schemas:
            self._schemas[path] = pq.read_schema(path)
        return self._schemas[path]

    def kept_fields(self) -> dict[str, pa.DataType]:
        """Every column of the kept shards (a partial run's early shards may have fewer)."""
        found: dict[str, pa.DataType] = {}
        for path in self.kept:
            for f in self.schema(path):
                found.setdefault(f.name, f.type)
        return found


def _unit_of(path: Path) -> int:
    match = _PART.search(path.name)
    return int(match.group(1)) if match else -1


def _merged_steps(stats_files: list[Path]) -> list[dict]:
    merged: dict[str, StepStats] = {}
    for path in stats_files:
        steps, _ = load_stats(path)
        for name, stats in steps.items():
            merged.setdefault(name, StepStats()).add(stats)
    order = sorted(merged, key=lambda n: n != READ_STAGE)  # read first, then first-seen order (stable sort)
    return [{"name": n, **merged[n].to_json()} for n in order]


def open_run(out: str | Path) -> RunView:
    """Find a run's kept and rejected shards and its per-step counts; partial runs included."""
    root = Path(out)
    if not root.is_dir():
        raise OutputError(f"{out}: no such directory; give the output folder of a `curate run`")
    manifest_path = root / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8")) if manifest_path.exists() else None
    data = {_unit_of(p): p for p in sorted((root / "data").glob("part-*.parquet"))}
    rejected = {_unit_of(p): [p] for p in sorted((root / "rejected").glob("part-*.parquet"))}
    work = root / "_work"
    phases = sorted(
        (int(m.group(1)), p) for p in work.glob("phase-*") if p.is_dir() and (m := _PHASE.search(p.name))
    )
    kept = dict(data)
    if manifest is None:
        for _, phase_dir in phases:  # later phases overwrite earlier ones: the most advanced shard wins
            for staged in sorted((phase_dir / "staged").glob("unit-*.parquet")):
                if _unit_of(staged) not in data:
                    kept[_unit_of(staged)] = staged
            for rej in sorted((phase_dir / "rejected").glob("unit-*.parquet")):
                if _unit_of(rej) not in data:
                    rejected.setdefault(_unit_of(rej), []).append(rej)
    if manifest is not None:
        steps, units_total = manifest["stages"], manifest.get("units")
    else:
        steps = _merged_steps(sorted(work.glob("phase-*/stats/unit-*.json")))
        info = work / "run.json"
        units_total = json.loads(info.read_text(encoding="utf-8")).get("units") if info.exists() else None
        if not steps and not kept:
            raise OutputError(
                f"{out}: neither manifest.json nor any committed shard or stats under data/ or _work/; "
                "is this the output folder of a `curate run`?"
            )
    return RunView(
        out=root,
        manifest=manifest,
        kept=[kept[u] for u in sorted(kept)],
        rejected=[p for u in sorted(rejected) for p in rejected[u]],
        steps=steps,
        units_total=units_total,
        units_final=len(data),
    )


def _batches(view: RunView, files: list[Path], columns: list[str]) -> Iterator[pa.RecordBatch]:
    """Batches of ``columns`` from every file that has all of them."""
    for path in files:
        if all(c in view.schema(path).names for c in columns):
            yield from pq.ParquetFile(path).iter_batches(batch_size=BATCH_ROWS, columns=columns)


def value_counts(view: RunView, column: str) -> Counter:
    """Documents per value of a kept column (None counts as its own value)."""
    counts: Counter = Counter()
    for batch in _batches(view, view.kept, [column]):
        for item in pc.value_counts(batch.column(0)).to_pylist():
            counts[item["values"]] += item["counts"]
    return counts


def removal_by_value(view: RunView, column: str, top: int) -> list[tuple[str, int, int]]:
    """(value, kept, removed) per value of ``column`` over kept and rejected documents, most documents first.

    Rejected rows without the column (dropped before the stage that adds it, e.g. ``read`` before
    ``lang_id``) count as ``(none)``; values past ``top`` are summed as ``other``.
    """
    kept = value_counts(view, column)
    removed: Counter = Counter()
    for path in view.rejected:
        if column in view.schema(path).names:
            for batch in pq.ParquetFile(path).iter_batches(batch_size=BATCH_ROWS, columns=[column]):
                for item in pc.value_counts(batch.column(0)).to_pylist():
                    removed[item["values"]] += item["counts"]
        else:
            removed[None] += pq.ParquetFile(path).metadata.num_rows
    keys = sorted(set(kept) | set(removed), key=lambda k: (-(kept[k] + removed[k]), str(k)))
    rows = [("(none)" if k is None else str(k), kept[k], removed[k]) for k in keys]
    if len(rows) > top:
        rest = rows[top - 1 :]
        rows = rows[: top - 1] + [(f"other ({len(rest)} values)", sum(r[1] for r in rest), sum(r[2] for r in rest))]
    return rows


def numeric_histogram(view: RunView, column: str, bins: int = HIST_BINS) -> tuple[np.ndarray, np.ndarray, int] | None:
    """(edges, counts, nulls) of a numeric column, in two streaming passes (range, then counts)."""
    lo, hi, nulls = np.inf, -np.inf, 0
    for batch in _batches(view, view.kept, [column]):
        col = batch.column(0)
        nulls += col.null_count
        finite = pc.filter(col, pc.is_finite(col)) if pa.types.is_floating(col.type) else col
        mm = pc.min_max(finite).as_py()
        if mm["min"] is not None:
            lo, hi = min(lo, mm["min"]), max(hi, mm["max"])
    if not np.isfinite(lo):
        return None
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    edges = np.linspace(lo, hi, bins + 1)
    counts = np.zeros(bins, dtype=np.int64)
    for batch in _batches(view, view.kept, [column]):
        values = batch.column(0).to_numpy(zero_copy_only=False).astype(np.float64)
        counts += np.histogram(values[np.isfinite(values)], bins=edges)[0]
    return edges, counts, nulls


def amounts_per_bucket(view: RunView, columns: list[str], tokenizer: str | None = None) -> dict[str, dict]:
    """Per bucket column: {bucket: [documents, characters or tokens]}, reading ``text`` once for all columns."""
    counter = None
    if tokenizer:
        from curate.mix.tokens import MixTokenizer

        counter = MixTokenizer(tokenizer, None)
    out: dict[str, dict] = {c: {} for c in columns}
    for path in view.kept:
        present = [c for c in columns if c in view.schema(path).names]
        if not present:
            continue
        for batch in pq.ParquetFile(path).iter_batches(batch_size=BATCH_ROWS, columns=[TEXT, *present]):
            text = batch.column(TEXT)
            amount = counter.count(text) if counter else pc.fill_null(pc.utf8_length(text), 0).to_numpy(zero_copy_only=False)
            for c in present:
                table = pa.table({"b": batch.column(c), "n": pa.array(amount, pa.int64())})
                for row in table.group_by("b").aggregate([("n", "sum"), ("n", "count")]).to_pylist():
                    docs_amount = out[c].setdefault(row["b"], [0, 0])
                    docs_amount[0] += row["n_count"]
                    docs_amount[1] += row["n_sum"]
    return out


def drop_reasons(view: RunView, top: int = 10) -> dict[str, list[tuple[str, int]]]:
    """Top reason kinds per step: ``exact_dedup:dup_of=doc-1`` counts as ``dup_of``, file and line cut off."""
    counts: Counter = Counter()
    seen_rejected = False
    for batch in _batches(view, view.rejected, [DROP_STAGE, DROP_REASON]):
        seen_rejected = True
        kind = pc.replace_substring_regex(batch.column(1), r"^[^:]*:", "")
        kind = pc.fill_null(pc.replace_substring_regex(kind, r"(=| \(| at ).*$", ""), "(no reason)")
        table = pa.table({"stage": pc.fill_null(batch.column(0), "?"), "kind": kind})
        for row in table.group_by(["stage", "kind"]).aggregate([("kind", "count")]).to_pylist():
            counts[(row["stage"], row["kind"])] += row["kind_count"]
    if not seen_rejected:  # rejected/ turned off: the manifest keeps the top reasons per step
        for step in view.steps:
            for reason, n in step.get("reasons", {}).items():
                counts[(step["name"], reason.split(":", 1)[-1].split("=", 1)[0])] += n
    order = [s["name"] for s in view.steps]
    result: dict[str, list[tuple[str, int]]] = {}
    for (stage, kind), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        result.setdefault(stage, [])
        if len(result[stage]) < top:
            result[stage].append((kind, n))
    return dict(sorted(result.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order)))


def _capped(counts: Counter, top: int) -> list[tuple[str, int]]:
    rows = sorted(((("(none)" if k is None else str(k)), n) for k, n in counts.items()), key=lambda kv: (-kv[1], kv[0]))
    if len(rows) > top:
        rest = rows[top - 1 :]
        rows = rows[: top - 1] + [(f"other ({len(rest)} values)", sum(n for _, n in rest))]
    return rows


def _is_bucket(name: str, dtype: pa.DataType) -> bool:
    return pa.types.is_integer(dtype) and name.endswith("bucket")


def score_columns(fields: dict[str, pa.DataType]) -> list[str]:
    """Numeric columns worth a histogram: floats, and integers that are not buckets or ids."""
    return [
        n for n, t in fields.items()
        if n not in (ID, TEXT) and (pa.types.is_floating(t) or (pa.types.is_integer(t) and not _is_bucket(n, t)))
    ]


@dataclass
class PlotEntry:
    """One plot on the page: its file, a heading and a caption."""

    file: str
    title: str
    caption: str
    table: list[tuple[str, str]] = field(default_factory=list)


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


def build_report(out: str | Path, tokenizer: str | None = None, top: int = 20) -> Path:
    """Write ``OUT/report/index.html``, its PNGs and ``report.json``; returns the page's path."""
    view = open_run(out)
    folder = view.out / "report"
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):  # a previous report may have had plots this one has not
        old.unlink()
    figures: list[PlotEntry] = []
    summary: dict = {"recipe": view.recipe_name, "partial": view.partial, "units_total": view.units_total,
                     "units_final": view.units_final, "steps": view.steps}

    if view.steps:
        plots.funnel(view.steps, folder / "funnel.png")
        figures.append(PlotEntry("funnel.png", "Stage funnel", "Documents and characters left after each step; "
                              "orange is what that step dropped, yellow the text it cut from documents it kept; a red "
                              "percentage flags a step that lost far more characters than documents."))
    reasons = drop_reasons(view)
    summary["drop_reasons"] = reasons
    if any(reasons.values()):
        plots.drop_reasons(reasons, folder / "drop_reasons.png", {s["name"]: s.get("dropped", 0) for s in view.steps})
        figures.append(PlotEntry("drop_reasons.png", "Top drop reasons per step",
                              "Reason kinds: per-document details (duplicate ids, file and line) are cut off."))

    fields = view.kept_fields()
    for column, title in [(c, "Languages") for c in LANG_COLUMNS] + [(c, f"{c.capitalize()}s") for c in CATEGORY_COLUMNS]:
        if column not in fields:
            continue
        rows = _capped(value_counts(view, column), top)
        summary[f"{column}_counts"] = dict(rows)
        plots.categories(rows, f"{title} of kept documents ({column})", folder / f"{column}.png")
        figures.append(PlotEntry(f"{column}.png", title, f"Kept documents per `{column}` value.",
                              [(k, f"{n:,}") for k, n in rows]))

    if any(LANG_COLUMNS[0] in view.schema(p).names for p in view.kept + view.rejected):
        _removal_by_language(view, top, folder, figures, summary)

    histograms, constant = {}, {}
    for column in score_columns(fields):
        hist = numeric_histogram(view, column)
        if hist is None:
            continue
        edges, counts, nulls = hist
        if int(np.count_nonzero(counts)) == 1:  # min == max (the bins hold min and max in the first and last)
            constant[column] = float((edges[0] + edges[-1]) / 2)  # every value the same: a histogram says nothing
            continue
        histograms[column] = {"edges": edges.tolist(), "counts": counts.tolist(), "nulls": nulls}
        name = f"score_{_safe(column)}.png"
        plots.histogram(edges, counts, column, folder / name, nulls)
        figures.append(PlotEntry(name, f"Histogram of {column}", f"Values of `{column}` over kept documents."))
    summary["histograms"] = histograms
    if constant:  # named on the page instead of a one-bar histogram
        summary["constant_columns"] = constant
        figures.append(PlotEntry("", "Columns with one value", "Every kept document has the same value in these columns.",
                                 [(c, f"{v:g}") for c, v in constant.items()]))

    bucket_cols = [n for n, t in fields.items() if _is_bucket(n, t)]
    unit = "tokens" if tokenizer else "characters"
    if bucket_cols:
        per_bucket = amounts_per_bucket(view, bucket_cols, tokenizer)
        summary["per_bucket"] = {c: {str(k): v for k, v in rows.items()} for c, rows in per_bucket.items()}
        for column, rows in per_bucket.items():
            keys = sorted(rows, key=lambda k: (k is None, k if k is not None else 0))
            labels = ["none" if k is None else str(k) for k in keys]
            name = f"{unit}_per_{_safe(column)}.png"
            plots.buckets(labels, [rows[k][0] for k in keys], [rows[k][1] for k in keys], unit, column, folder / name)
            figures.append(PlotEntry(name, f"{unit.capitalize()} per {column}",
                                  f"{unit.capitalize()} and documents of kept documents per `{column}` value."))

    summary["plots"] = [f.file for f in figures if f.file]
    write_json(summary, folder / "report.json")
    page = folder / "index.html"
    page.write_text(_html(view, figures, unit), encoding="utf-8")
    return page


def _removal_by_language(view: RunView, top: int, folder: Path, figures: list[PlotEntry], summary: dict) -> None:
    """The share of each language's documents the run removed: a language filtered harder than the others
    stands out (``curate calibrate`` measures the same on parallel text)."""
    column = LANG_COLUMNS[0]
    rows = removal_by_value(view, column, top)
    summary[f"{column}_removal"] = {k: {"kept": kept, "removed": removed} for k, kept, removed in rows}
    plots.removal_shares(rows, f"Documents removed per language ({column})", folder / f"{column}_removal.png")
    figures.append(PlotEntry(
        f"{column}_removal.png", "Removal by language",
        f"Share of each `{column}` value's documents (kept + rejected) that the run removed; (none): dropped "
        "before the language was known.",
        [(k, f"{100 * r / (kp + r):.1f}% of {kp + r:,}") for k, kp, r in rows],
    ))


def _html(view: RunView, figures: list[PlotEntry], unit: str) -> str:
    e = html.escape
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>curate report: {e(view.recipe_name)}</title>",
        "<style>body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}"
        "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}"
        "td:first-child,th:first-child{text-align:left}img{max-width:100%;border:1px solid #eee}"
        ".partial{background:#fff3cd;border:1px solid #e0c36a;padding:.8em}"
        ".loss{background:#fde2d8}div.loss{border:1px solid #d8643b;padding:.5em .8em}</style></head><body>",
        f"<h1>curate report: {e(view.recipe_name)}</h1>",
        f"<p>Run output: <code>{e(str(view.out))}</code></p>",
    ]
    if view.partial:
        total = "?" if view.units_total is None else str(view.units_total)
        parts.append(
            f'<p class="partial"><strong>Partial run.</strong> There is no manifest.json yet: {view.units_final} of '
            f"{total} unit(s) are finished. Counts cover only the units each step has committed, and the "
            "distributions mix finished shards (data/) with the latest staged shards (_work/). Run the same "
            "<code>curate run</code> command again to finish it, then re-run <code>curate report</code>.</p>"
        )
    elif view.manifest is not None:
        t = view.manifest.get("totals", {})
        docs_in, kept = t.get("docs_in", 0), t.get("docs_kept", 0)
        parts.append(
            f"<p>{kept:,} of {docs_in:,} documents kept ({docs_in - kept:,} dropped); "
            f"{t.get('chars_kept', 0):,} of {t.get('chars_in', 0):,} characters; "
            f"{view.manifest.get('units', '?')} unit(s); {t.get('seconds', 0.0):.1f} s.</p>"
        )
    if view.steps:
        parts.append(_steps_table(view.steps))
    for fig in figures:
        parts.append(f"<h2>{e(fig.title)}</h2><p>{e(fig.caption)}</p>")
        if fig.file:
            parts.append(f'<img src="{e(fig.file)}" alt="{e(fig.title)}">')
        if fig.table:
            parts.append("<table>" + "".join(f"<tr><td>{e(k)}</td><td>{e(v)}</td></tr>" for k, v in fig.table) + "</table>")
    if not figures:
        parts.append("<p>No committed shards or counts to plot yet.</p>")
    parts.append(f"<p><small>Bucket plots count {e(unit)}. Machine-readable numbers: "
                 '<a href="report.json">report.json</a>.</small></p></body></html>')
    return "\n".join(parts) + "\n"


def _steps_table(steps: list[dict]) -> str:
    """The funnel in documents and characters; steps that cut far more characters than documents are flagged."""
    e = html.escape
    rows = funnel_rows(steps)
    out = []
    flagged = [r.warning() for r in rows if r.large_char_loss]
    if flagged:
        out.append('<div class="loss"><strong>Large character loss</strong> (characters kept fall '
                   f"{LARGE_CHAR_LOSS:.0f} points or more below documents kept):<ul>"
                   + "".join(f"<li>{e(w)}</li>" for w in flagged) + "</ul></div>")
    out.append("<h2>Steps</h2><table><tr><th>step</th><th>in</th><th>kept</th><th>dropped</th><th>docs kept %</th>"
               "<th>characters in</th><th>characters kept</th><th>chars kept %</th><th>cut from kept docs</th>"
               "<th>seconds</th></tr>")
    for r, s in zip(rows, steps):
        cut = "?" if r.chars_cut is None else f"{r.chars_cut:,}"
        mark = ' class="loss"' if r.large_char_loss else ""
        out.append(
            f"<tr{mark}><td>{e(r.name)}</td><td>{r.docs_in:,}</td><td>{r.kept:,}</td><td>{r.dropped:,}</td>"
            f"<td>{r.docs_kept_pct:.1f}%</td><td>{r.chars_in:,}</td><td>{r.chars_kept:,}</td>"
            f"<td>{r.chars_kept_pct:.1f}%{' ⚠' if r.large_char_loss else ''}</td><td>{cut}</td><td>{s['seconds']:.2f}</td></tr>"
        )
    out.append("</table>")
    return "\n".join(out)
