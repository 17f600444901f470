"""``curate inspect OUT``: what a run did, in a terminal — documents and characters kept per step (steps that
cut far more characters than documents are flagged), top reasons, sample rows."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq

from curate.core.errors import OutputError
from curate.report.funnel import funnel_rows


def _clip(text: str, width: int = 100) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 1] + "…"


def inspect_run(out: str, samples: int = 3) -> str:
    """A plain-text summary of a run output (finished, or partial when no manifest exists yet)."""
    root = Path(out)
    manifest_path = root / "manifest.json"
    if not manifest_path.exists():
        raise OutputError(f"{out}: no manifest.json (not a finished curate run); run it again to finish it")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    lines = [f"run {out} — recipe {manifest['recipe']['name']!r}, {manifest['units']} unit(s)", ""]
    lines.append(f"{'step':<24}{'in':>10}{'kept':>10}{'dropped':>10}{'docs %':>8}{'chars in':>14}{'chars %':>9}{'seconds':>10}")
    for step, row in zip(manifest["stages"], funnel_rows(manifest["stages"])):
        flag = "  <- chars" if row.large_char_loss else ""
        lines.append(
            f"{row.name:<24}{row.docs_in:>10,}{row.kept:>10,}{row.dropped:>10,}{row.docs_kept_pct:>7.1f}%"
            f"{row.chars_in:>14,}{row.chars_kept_pct:>8.1f}%{step['seconds']:>10.2f}{flag}"
        )
    warnings = [row.warning() for row in funnel_rows(manifest["stages"]) if row.large_char_loss]
    if warnings:
        lines += ["", "large character loss (docs % / chars %: share of documents / characters a step kept):"]
        lines += [f"  {w}" for w in warnings]
    lines.append("")
    for step in manifest["stages"]:
        if step["reasons"]:
            lines.append(f"top drop reasons of {step['name']}:")
            for reason, count in list(step["reasons"].items())[:5]:
                lines.append(f"  {count:>8,}  {_clip(reason, 90)}")
        if step.get("counters"):
            lines.append(f"counters of {step['name']}: " + ", ".join(f"{k} {v:,}" for k, v in step["counters"].items()))
    for folder in ("data", "rejected"):
        parts = sorted((root / folder).glob("*.parquet"))
        if not parts or samples <= 0:
            continue
        table = pq.read_table(parts[0]).slice(0, samples)
        lines += ["", f"sample rows of {folder}/{parts[0].name} (columns: {', '.join(table.column_names)}):"]
        for row in table.to_pylist():
            extra = {k: v for k, v in row.items() if k not in ("id", "text")}
            lines.append(f"  {row['id']}: {_clip(row['text'])}")
            if extra:
                lines.append(f"      {_clip(json.dumps(extra, ensure_ascii=False, default=str), 96)}")
    return "\n".join(lines)
