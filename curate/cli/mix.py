"""``curate mix MIXTURE.yaml -o OUT``: build a Phi-4-like blend from curated outputs."""

from __future__ import annotations

import argparse


def _cmd_mix(args: argparse.Namespace) -> int:
    from curate.core.errors import CurateError
    from curate.mix.blend import build_mixture
    from curate.mix.config import load_mixture

    mixture = load_mixture(args.mixture)
    if args.seed is not None:
        mixture = mixture.model_copy(update={"seed": args.seed})
    out = args.output or mixture.output.path
    if not out:
        raise CurateError(f"{args.mixture}: no output directory; set `output.path` in the mixture or give -o/--output")
    summary = build_mixture(
        mixture, out, mixture_file=args.mixture, tokenize=args.tokenize, dry_run=args.dry_run,
        overwrite=args.overwrite, quiet=args.quiet, executor=args.executor, workers=args.workers, ray_address=args.ray_address,
    )
    if not args.quiet:
        for stage in summary["stages"]:
            folder = out if stage["folder"] == "." else f"{out}/{stage['folder']}"
            done = "planned (dry run)" if args.dry_run else f"in {len(stage['shards'])} shard(s)"
            print(f"{folder}: {stage['documents']:,} documents, {stage['tokens']:,} tokens {done} — see {folder}/weights.md")
    return 0


def register_cli(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``mix`` subcommand to the ``curate`` parser."""
    mix = subparsers.add_parser(
        "mix",
        help="build a training blend from curated outputs",
        description=(
            "Build the blend a MIXTURE file describes: every source (a curated run output or Parquet glob, "
            "optionally filtered) takes its category's epochs (web 1, knowledge 1.5, rewrite 4, synthesis 10) "
            "or a target share; the result is shuffled deterministically and written to OUT as Parquet shards "
            "(data/), optional Megatron .bin/.idx files (bin/), weights.md / weights.csv, data_path.txt for "
            "Megatron-LM / FlagScale --data-path, and mixture.json. A mixture with `stages:` writes one blend "
            "per stage under OUT/<stage>/. Token counts are cached in OUT/.cache, so a re-run is fast. The work runs "
            "as parallel tasks (--workers, --executor ray); re-running a killed mix finishes the tasks left."
        ),
        epilog="Example: curate mix recipes/phi4-mixture.yaml -o out/phi4-mix --tokenize",
    )
    mix.add_argument("mixture", help="mixture YAML file (see recipes/phi4-mixture.yaml)")
    mix.add_argument("-o", "--output", help="output directory (default: the mixture's output.path)")
    tok = mix.add_mutually_exclusive_group()
    tok.add_argument("--tokenize", dest="tokenize", action="store_true", default=None, help="also write Megatron indexed datasets (overrides output.tokenize)")
    tok.add_argument("--no-tokenize", dest="tokenize", action="store_false", help="write Parquet only (overrides output.tokenize)")
    mix.add_argument("--seed", type=int, help="seed of the subsets and the shuffle (overrides the mixture's seed)")
    mix.add_argument("--dry-run", action="store_true", help="count tokens and write the weights table only, no blend data")
    mix.add_argument("--overwrite", action="store_true", help="replace another mixture's blend in OUT")
    mix.add_argument("--executor", choices=["local", "ray"], default="local", help="where the mix's tasks run (default: local)")
    mix.add_argument("--workers", type=int, default=1, help="worker processes or concurrent Ray tasks (default 1); the blend's bytes do not depend on it")
    mix.add_argument("--ray-address", help="join a Ray cluster: auto or HOST:PORT (implies --executor ray)")
    mix.add_argument("--quiet", action="store_true", help="no progress bars or summary")
    mix.set_defaults(func=_cmd_mix)
