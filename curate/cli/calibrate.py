"""``curate calibrate RECIPE``: wiring of per-language calibration (:mod:`curate.engine.calibrate`)."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict

from curate.engine.calibrate import PARALLEL, RATIOS, REFERENCE, content_ratios, format_table, read_parallel, removal_table
from curate.engine.recipe import load_recipe


def _cmd_calibrate(args: argparse.Namespace) -> int:
    recipe = load_recipe(args.recipe)
    tables = read_parallel(args.parallel)
    rows = removal_table(recipe, tables)
    ratios = content_ratios(tables) if args.stats else None
    if args.json:
        print(json.dumps({"rows": [{**asdict(r), "gap": r.gap} for r in rows], "ratios": ratios}, indent=1))
        return 0
    print(format_table(rows))
    if ratios:
        print("\n| lang | words | other tokens | characters | word length | sentences |\n|---|---:|---:|---:|---:|---:|")
        print("\n".join(f"| {k} | " + " | ".join(f"{v[n]:.3f}" for n in RATIOS) + " |" for k, v in ratios.items()))
    few = [r.lang for r in rows if r.docs < args.min_docs]
    if few:
        print(f"\nnot held to the tolerance (fewer than {args.min_docs} documents): {', '.join(few)}")
    held = [r for r in rows if r.lang != REFERENCE and r.docs >= args.min_docs]
    worst = max(held, key=lambda r: abs(r.gap), default=None)
    if worst is not None and abs(worst.gap) > args.tolerance:
        print(f"\n{worst.lang}: {100 * worst.gap:+.1f} points from {REFERENCE} (tolerance {100 * args.tolerance:.0f})")
        return 1
    return 0


def register_cli(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``calibrate`` subcommand to the ``curate`` parser."""
    cal = subparsers.add_parser(
        "calibrate",
        help="removal rate per language of a recipe, on parallel text",
        description=(
            "Run RECIPE's stages over each language of a parallel set (one LANG.jsonl.gz or LANG.parquet "
            "per language, documents paired by id) and print each language's share removed next to "
            "English's on the same documents. Exits 1 when a language with at least --min-docs documents is more "
            "than --tolerance from English."
        ),
        epilog="Example: curate calibrate recipes/heuristics.yaml --stats",
    )
    cal.add_argument("recipe", help="recipe YAML file; only its stages are used")
    cal.add_argument("--parallel", default=str(PARALLEL), help="folder of the parallel set (default: data/parallel of this checkout)")
    cal.add_argument("--stats", action="store_true", help="also print the ratios to English the presets are set from")
    cal.add_argument("--tolerance", type=float, default=0.05, help="largest accepted gap to English, as a share (default 0.05)")
    cal.add_argument("--min-docs", type=int, default=100,
                     help="languages with fewer shared documents are shown but not held to --tolerance (default 100)")
    cal.add_argument("--json", action="store_true", help="print JSON instead of tables")
    cal.set_defaults(func=_cmd_calibrate)
