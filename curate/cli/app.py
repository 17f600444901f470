"""The ``curate`` command line: one parser, each command wired to the function that does the work.

Every subcommand has ``--help``; errors print one line, not a traceback. Each ``curate.cli.<command>``
module only parses arguments and calls into the package that owns the work (engine, mix, proxy, report,
publish, scorers); nothing here decides anything.
"""

from __future__ import annotations

import argparse
import sys

from curate.core.errors import CurateError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="curate",
        description="Build pretraining corpora: run recipes of stages over web shards into curated Parquet.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    from curate.cli.annotate import register_cli as register_annotate
    from curate.cli.calibrate import register_cli as register_calibrate
    from curate.cli.classify import register_cli as register_train_classifier
    from curate.cli.docs import register_cli as register_docs
    from curate.cli.mix import register_cli as register_mix
    from curate.cli.models import register_cli as register_models
    from curate.cli.proxy import register_cli as register_proxy
    from curate.cli.publish import register_cli as register_publish
    from curate.cli.report import register_cli as register_report
    from curate.cli.run import register_cli as register_run

    register_run(sub)
    register_mix(sub)
    register_proxy(sub)
    register_report(sub)
    register_publish(sub)
    register_train_classifier(sub)
    register_calibrate(sub)
    register_models(sub)
    register_annotate(sub)
    register_docs(sub)
    _plain_help(parser)
    return parser


def _plain_help(parser: argparse.ArgumentParser) -> None:
    """Help built from docstrings shows Markdown-style `x`, never reStructuredText ``x`` or :func:`x`."""
    from curate.docgen import plain

    if parser.description:
        parser.description = plain(parser.description)
    for action in parser._actions:
        if isinstance(action.help, str):
            action.help = plain(action.help)
        if isinstance(action, argparse._SubParsersAction):
            for choice in action._choices_actions:
                choice.help = plain(choice.help) if isinstance(choice.help, str) else choice.help
            for child in dict.fromkeys(action.choices.values()):
                _plain_help(child)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except CurateError as exc:
        print(f"curate: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("curate: interrupted; run the same command again to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
