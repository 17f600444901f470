"""``curate docs``: regenerate the reference docs and JSON Schemas from the models (:mod:`curate.docgen`)."""

from __future__ import annotations

import argparse
import filecmp
import tempfile
from pathlib import Path

from curate.core.errors import CurateError

DOCS = Path(__file__).resolve().parents[2] / "docs"


def _cmd_docs(args: argparse.Namespace) -> int:
    from curate.docgen import generate

    out = Path(args.out)
    if not args.check:
        for path in generate(out):
            print(path)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        stale = [str(out / p.relative_to(tmp)) for p in generate(Path(tmp))
                 if not (out / p.relative_to(tmp)).is_file() or not filecmp.cmp(p, out / p.relative_to(tmp), shallow=False)]
    if stale:
        raise CurateError(f"out of date: {', '.join(stale)}; run `curate docs` and commit the result")
    print(f"{out}: generated docs are up to date")
    return 0


def register_cli(sub: argparse._SubParsersAction) -> None:
    """Add ``docs`` to the ``curate`` parser."""
    docs = sub.add_parser(
        "docs",
        help="regenerate docs/recipe.md, mix.md, proxy.md and docs/schema/*.json",
        description="Write the field references of recipes, mixtures and proxy comparisons, and their JSON "
        "Schemas, from the pydantic models. --check only compares.",
    )
    docs.add_argument("--out", default=str(DOCS), help="the docs folder (default: the repository's docs/)")
    docs.add_argument("--check", action="store_true", help="fail when the files there differ from what would be generated")
    docs.set_defaults(func=_cmd_docs)
