"""``curate run | validate | stages | inspect``: wiring of the run engine (:mod:`curate.engine`)."""

from __future__ import annotations

import argparse
import sys
import textwrap

from curate.core.errors import CurateError


def _cmd_run(args: argparse.Namespace) -> int:
    from curate.engine.recipe import load_recipe
    from curate.engine.runner import run_recipe
    from curate.engine.validate import check_recipe_file

    problems = check_recipe_file(args.recipe, args.input)
    if problems:  # the checks of `curate validate`, with file:line, before any work
        raise CurateError("\n".join(problems))
    recipe = load_recipe(args.recipe)
    if args.input:
        from curate.engine.recipe import InputSpec

        base = recipe.input.model_dump() if recipe.input else {}
        recipe = recipe.model_copy(update={"input": InputSpec.model_validate({**base, "paths": args.input})})
    out = args.output or recipe.output.path
    if not out:
        raise CurateError(f"{args.recipe}: no output directory; set `output.path` in the recipe or give -o/--output")
    manifest = run_recipe(
        recipe,
        out,
        executor=args.executor,
        workers=args.workers,
        ray_address=args.ray_address,
        limit=args.limit,
        overwrite=args.overwrite,
        quiet=args.quiet,
        recipe_file=args.recipe,
    )
    if not args.quiet:
        t = manifest["totals"]
        print(
            f"{out}: {t['docs_kept']:,} documents kept, {t['docs_rejected']:,} in rejected/ "
            f"(from {t['docs_in']:,} read), {t['seconds']:.1f}s — see {out}/manifest.json"
        )
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from curate.engine.recipe import build_stages, load_recipe
    from curate.engine.validate import check_recipe_file

    problems = check_recipe_file(args.recipe, args.input)
    if problems:
        print("\n".join(problems), file=sys.stderr)
        print(f"{args.recipe}: {len(problems)} problem(s)", file=sys.stderr)
        return 2
    steps = build_stages(load_recipe(args.recipe))
    print(f"{args.recipe}: valid — {len(steps)} stage(s): {', '.join(n for n, _ in steps) or '(none)'}")
    return 0


def _cmd_stages(args: argparse.Namespace) -> int:
    from curate.core.registry import all_stages
    from curate.core.stage import ExpandStage, GlobalStage
    from curate.docgen import plain
    from curate.engine.validate import suggest

    known = all_stages()
    unknown = [n for n in args.name if n not in known]
    if unknown:
        raise CurateError("; ".join(f"no stage named {n!r}{suggest(n, tuple(known))}" for n in unknown)
                          + "; `curate stages` lists them all")
    for name, cls in known.items():
        if args.name and name not in args.name:
            continue
        kind = "global" if issubclass(cls, GlobalStage) else "expand" if issubclass(cls, ExpandStage) else "map"
        doc = plain((cls.__module__ and sys.modules[cls.__module__].__doc__ or cls.__doc__ or "").strip()).splitlines()
        print(f"{name}  ({kind} stage)")
        if doc:
            print(textwrap.indent(doc[0], "    "))
        for field, info in cls.Params.model_fields.items():
            default = "required" if info.is_required() else f"default {info.get_default(call_default_factory=True)!r}"
            print(f"    {field}: {info.annotation.__name__ if hasattr(info.annotation, '__name__') else info.annotation} ({default})")
            if info.description:
                print(textwrap.indent(textwrap.fill(plain(info.description), 90), "        "))
        print()
    return 0


def _cmd_inspect(args: argparse.Namespace) -> int:
    from curate.report.inspect import inspect_run

    print(inspect_run(args.output, samples=args.samples))
    return 0


def register_cli(sub: argparse._SubParsersAction) -> None:
    """Add ``run``, ``validate``, ``stages`` and ``inspect`` to the ``curate`` parser."""
    run = sub.add_parser(
        "run",
        help="run a recipe",
        description="Run RECIPE into OUT (data/, rejected/, manifest.json). Re-running the same command "
        "resumes a killed run; a different recipe on the same OUT is refused unless --overwrite.",
    )
    run.add_argument("recipe", help="recipe YAML file (see recipes/)")
    run.add_argument("-o", "--output", help="output directory (default: the recipe's output.path)")
    run.add_argument("--input", action="append", metavar="GLOB", help="input files/globs/dirs; repeatable; replaces the recipe's input paths")
    run.add_argument("--executor", choices=["local", "ray"], help="where stages run (default: the recipe's executor.kind)")
    run.add_argument("--workers", type=int, help="worker processes or Ray actors (default: the recipe's executor.workers)")
    run.add_argument("--ray-address", help="join a Ray cluster: auto or HOST:PORT (implies --executor ray)")
    run.add_argument("--limit", type=int, help="read only the first N documents (quick looks)")
    run.add_argument("--overwrite", action="store_true", help="replace an existing run of another recipe in OUT")
    run.add_argument("--quiet", action="store_true", help="no progress bars or summary")
    run.set_defaults(func=_cmd_run)

    val = sub.add_parser("validate", help="check a recipe without running it", description="Validate RECIPE completely, reporting every problem at once: fields, stages and parameters (with the closest known name), the first file of each input glob (readable, has the text column), the columns each stage needs, the model and list files stages name. Errors give file:line: field.")
    val.add_argument("recipe")
    val.add_argument("--input", action="append", metavar="GLOB", help="check these inputs instead of the recipe's (as `run --input`)")
    val.set_defaults(func=_cmd_validate)

    st = sub.add_parser("stages", help="list stages and their parameters", description="List every registered stage with its parameters and defaults.")
    st.add_argument("name", nargs="*", help="only these stages")
    st.set_defaults(func=_cmd_stages)

    ins = sub.add_parser("inspect", help="summarise a run output", description="Counts per stage, top drop reasons and sample rows of a run output.")
    ins.add_argument("output", help="a run's output directory")
    ins.add_argument("--samples", type=int, default=3, help="sample rows to show from data/ and rejected/")
    ins.set_defaults(func=_cmd_inspect)
