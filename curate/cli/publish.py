"""``curate publish OUT --repo ORG/NAME``: wiring of Hub publishing (:mod:`curate.publish.hub`)."""

from __future__ import annotations

import argparse
import sys

from curate.publish.hub import AUTO_CONFIG_COLUMNS, publish


def _cmd_publish(args: argparse.Namespace) -> int:
    config_by = None
    if args.config_by is not None and args.config_by != "auto":
        config_by = [] if args.config_by == "none" else [c.strip() for c in args.config_by.split(",") if c.strip()]
    publish(
        args.output, args.repo, private=args.private, revision=args.revision, dry_run=args.dry_run,
        config_by=config_by, license=args.license, tokenizer=args.tokenizer, pretty_name=args.pretty_name,
        files_per_commit=args.files_per_commit,
        say=(lambda *_: None) if args.quiet else (lambda msg: print(msg, file=sys.stderr)),
    )
    return 0


def register_cli(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``publish`` subcommand to the ``curate`` parser."""
    pub = subparsers.add_parser(
        "publish",
        help="upload a finished run to the Hugging Face Hub as a dataset",
        description=(
            "Upload the kept documents of a finished run (OUT/data) to the Hugging Face Hub dataset repo ORG/NAME, "
            "with a dataset card (README.md): one config per language / category / quality bucket, license, "
            "languages, size category, per-step counts, token totals, the recipe, and the plots of "
            "`curate report` when OUT/report/ exists. The folder is laid out in OUT/hub/ and uploaded "
            "in several commits, only the files the repo does not already hold: if the upload fails or is "
            "killed, run the same command again and it sends only what is missing. The token comes from HF_TOKEN or "
            "`hf auth login` and is never printed or written. HF_ENDPOINT selects another Hub."
        ),
        epilog="Example: curate report out/sample && curate publish out/sample --repo my-org/sample-curated --dry-run /tmp/hub-preview",
    )
    pub.add_argument("output", help="a finished run's output directory (with manifest.json)")
    pub.add_argument("--repo", required=True, metavar="ORG/NAME", help="dataset repo to create or update")
    pub.add_argument("--private", action="store_true", help="create the repo as private (an existing repo keeps its visibility)")
    pub.add_argument("--revision", metavar="BRANCH", help="upload to this branch (created if missing) instead of main")
    pub.add_argument("--dry-run", metavar="DIR", help="write exactly the folder that would be uploaded to DIR, and upload nothing")
    pub.add_argument(
        "--config-by", metavar="COLS",
        help="column(s) whose values become configs, comma-separated, e.g. lang or lang,quality_bucket; "
        f"'auto' (default) takes the first present of {', '.join(AUTO_CONFIG_COLUMNS)}; 'none' gives one config",
    )
    pub.add_argument("--license", help="license id for the card, e.g. cc-by-4.0 or odc-by (default: the recipe's `license`, else other)")
    pub.add_argument("--tokenizer", metavar="TOKENIZER_JSON", help="local tokenizer.json to count tokens (default: whitespace-separated words)")
    pub.add_argument("--pretty-name", help="human-readable dataset name on the card (default: the recipe name)")
    pub.add_argument("--files-per-commit", type=int, default=100, metavar="N",
                     help="files per commit (default 100); a failed upload loses at most the commit in flight")
    pub.add_argument("--quiet", action="store_true", help="print nothing but errors")
    pub.set_defaults(func=_cmd_publish)
