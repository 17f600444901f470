"""``curate report OUT``: wiring of the HTML run report (:mod:`curate.report.html`)."""

from __future__ import annotations

import argparse

from curate.report.html import build_report


def _cmd_report(args: argparse.Namespace) -> int:
    page = build_report(args.output, tokenizer=args.tokenizer, top=args.top)
    print(f"{page}")
    return 0


def register_cli(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``report`` subcommand to the ``curate`` parser."""
    rep = subparsers.add_parser(
        "report",
        help="write an HTML report with plots of a run",
        description=(
            "Write OUT/report/index.html with PNG plots of a run output: the stage funnel (documents and "
            "characters kept per step), top drop reasons per step, language and domain distributions, the "
            "share of each language's documents removed, a "
            "histogram of every numeric score column, and characters (or tokens) per bucket column such as "
            "quality_bucket. Plots appear only when the data has their column. Works on partial runs "
            "(killed, no manifest.json yet): the page says so. `curate publish` puts these plots on the "
            "dataset card when OUT/report/ exists."
        ),
        epilog="Example: curate report out/sample && xdg-open out/sample/report/index.html",
    )
    rep.add_argument("output", help="a run's output directory (the -o of `curate run`)")
    rep.add_argument("--tokenizer", metavar="TOKENIZER_JSON",
                     help="a local Hugging Face tokenizer.json: count tokens per bucket instead of characters")
    rep.add_argument("--top", type=int, default=20, help="values shown per language/domain plot; the rest are summed as 'other' (default 20)")
    rep.set_defaults(func=_cmd_report)
