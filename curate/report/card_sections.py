"""Sections of the dataset card that describe the data: columns, sources, funnel, limitations, PII.

A card travels with the dataset, so it must not carry the machine it was made on: paths in the recipe
block are shown relative (an absolute path keeps only its last parts; a temporary folder, nothing) and the
recipe's ``output.path`` is left out (it need not be where the run wrote). Columns are described from the
stages' declared columns (``Stage.columns_added``) and the input; the funnel counts documents and
characters with percentages; the PII section says what ``pii_redact`` did, or that nothing was done.
"""

from __future__ import annotations

import copy
import re
import sys
from pathlib import PurePosixPath

_CORE = {
    "id": "Document id: the input's id, or a stable hash of the source file and row.",
    "text": "The document text, after every step that rewrites it.",
}
_GLOB = re.compile(r"[*?\[]")


def portable_path(value: str) -> str:
    """An absolute local path as its last parts (``…/corpus/*.jsonl``); relative and remote paths as given."""
    if "://" in value or not (value.startswith(("/", "~")) or re.match(r"^[A-Za-z]:[\\/]", value)):
        return value
    parts = PurePosixPath(value.replace("\\", "/")).parts
    keep = 2 if _GLOB.search(parts[-1]) and len(parts) > 2 else 1
    return "…/" + "/".join(parts[-keep:])


def portable_recipe(recipe: dict) -> dict:
    """The recipe with absolute paths shortened and ``output.path`` removed (see the module docstring)."""
    clean = copy.deepcopy(recipe)
    (clean.get("output") or {}).pop("path", None)

    def walk(node):
        if isinstance(node, dict):
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return portable_path(node) if isinstance(node, str) else node

    return walk(clean)


def _stage_columns(recipe: dict) -> dict[str, tuple[str, str]]:
    """Column → (step, what the stage is) for every column a step of the recipe declares it adds."""
    from pydantic import ValidationError

    from curate.core.errors import RecipeError
    from curate.engine.recipe import Recipe, build_stages

    try:
        steps = build_stages(Recipe.model_validate(recipe))
    except (RecipeError, ValidationError):  # a stage no longer installed: the card renders without these descriptions
        return {}
    found: dict[str, tuple[str, str]] = {}
    for step, stage in steps:
        doc = (sys.modules[type(stage).__module__].__doc__ or "").strip().splitlines()
        summary = doc[0].split(":", 1)[-1].strip() if doc else ""
        for column in stage.columns_added():
            found[column] = (step, summary)
    return found


def columns_section(recipe: dict, columns: dict[str, str]) -> list[str]:
    """A table of every column of the published shards: type, where it comes from, what it holds."""
    from curate.docgen import plain

    made = _stage_columns(recipe)
    lines = ["## Columns", "", "| column | type | from | description |", "|---|---|---|---|"]
    for name, dtype in columns.items():
        if name in _CORE:
            origin, desc = "input", _CORE[name]
        elif name in made:
            step, summary = made[name]
            origin, desc = f"step `{step}`", plain(summary)
        else:
            origin, desc = "input", "Carried from the source data as read."
        lines.append(f"| `{name}` | {dtype} | {origin} | {desc.replace('|', '/')} |")
    return lines + [""]


def source_section(manifest: dict) -> list[str]:
    """What was read: files (by name only), formats, documents and characters."""
    recorded = manifest.get("inputs", {})  # {"files": N, "examples": [first few paths], ...}
    inputs = [str(p) for p in recorded.get("examples", [])] if isinstance(recorded, dict) else [str(p) for p in recorded]
    count = recorded.get("files", len(inputs)) if isinstance(recorded, dict) else len(inputs)
    totals = manifest.get("totals", {})
    kinds = sorted({_kind(p) for p in inputs})
    names = [PurePosixPath(portable_path(p)).name for p in inputs]
    shown = ", ".join(f"`{n}`" for n in names[:10]) + (f" and {count - len(names[:10])} more" if count > 10 else "")
    said = (f"{count} input file(s) ({', '.join(kinds) or 'unknown format'}): {shown or '(none recorded)'}; "
            f"{totals.get('docs_in', 0):,} documents and {totals.get('chars_in', 0):,} characters read.")
    return ["## Source data", "", said, ""]


def _kind(path: str) -> str:
    name = path.lower()
    for fmt in ("parquet", "jsonl", "warc"):
        if f".{fmt}" in name:
            return fmt
    return "other"


def funnel_section(manifest: dict, reasons: dict[str, list[tuple[str, int]]], cell) -> list[str]:
    """Every step: documents and characters in and kept, with percentages, and the top drop reasons."""
    lines = ["## Processing funnel", "",
             "Every step's documents and characters in and kept; dropped documents are not published.", "",
             "| step | docs in | docs kept | kept % | chars in | chars kept | chars kept % | top drop reasons |",
             "|---|---:|---:|---:|---:|---:|---:|---|"]
    for step in manifest.get("stages", []):
        docs = 100.0 * step["kept"] / step["docs_in"] if step["docs_in"] else 100.0
        chars_in = step.get("chars_in", 0)
        chars = 100.0 * step.get("chars_kept", 0) / chars_in if chars_in else 100.0
        top = ", ".join(f"{cell(k)} ({n:,})" for k, n in reasons.get(step["name"], [])[:3])
        lines.append(f"| {cell(step['name'])} | {step['docs_in']:,} | {step['kept']:,} | {docs:.1f}% | {chars_in:,} | "
                     f"{step.get('chars_kept', 0):,} | {chars:.1f}% | {top} |")
    return lines + [""]


def limitations_section(manifest: dict, token_unit: str) -> list[str]:
    steps = {s.get("stage") for s in manifest.get("recipe", {}).get("stages", [])}
    notes = [("Heuristic filters and classifiers make mistakes both ways: some low-quality text is kept and some "
              "good text is dropped, more often in languages and genres they were not calibrated on.")]
    if not steps & {"exact_dedup", "minhash_dedup", "paragraph_dedup"}:
        notes.append("No deduplication step ran: the data may hold duplicates.")
    else:
        notes.append("Deduplication covers this run's input only, not other datasets it may be mixed with.")
    if "decontaminate" not in steps:
        notes.append("No decontamination step ran: benchmark items may appear in the data.")
    if token_unit == "whitespace tokens":
        notes.append("Token counts are whitespace tokens, which undercount languages written without spaces.")
    return ["## Limitations", "", *[f"- {n}" for n in notes], ""]


def pii_section(manifest: dict) -> list[str]:
    recipe_steps = manifest.get("recipe", {}).get("stages", [])
    pii = [(s.get("name") or s["stage"]) for s in recipe_steps if s.get("stage") == "pii_redact"]
    lines = ["## Personal information", ""]
    if not pii:
        return lines + [("No PII redaction step ran: documents may contain e-mail addresses, phone numbers, IP "
                         "addresses and other personal data as they appeared in the source."), ""]
    counters: dict[str, int] = {}
    for step in manifest.get("stages", []):
        if step["name"] in pii:
            for k, v in step.get("counters", {}).items():
                counters[k] = counters.get(k, 0) + v
    done = ", ".join(f"{k}: {v:,}" for k, v in sorted(counters.items())) or "none found"
    said = (f"Step(s) {', '.join(f'`{p}`' for p in pii)} replaced personal data with placeholders "
            f"(replacements by kind — {done}). Pattern-based redaction misses some personal data; "
            "names and addresses in free text are not detected.")
    return [*lines, said, ""]
