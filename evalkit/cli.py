"""The `evalkit` command line: the parser, and one error handler for every command.

Heavy libraries are imported inside the commands that use them (evalkit.commands), so
`evalkit --help` and `evalkit ls` return at once.
"""

from __future__ import annotations

import argparse
import os
import sys

from evalkit import __version__
from evalkit.errors import DEBUG_ENV, one_line


def build_parser() -> argparse.ArgumentParser:
    from evalkit.commands import ls, run, score
    from evalkit.human.cli import add_subcommands as add_human

    parser = argparse.ArgumentParser(
        prog="evalkit",
        description="Evaluate text-to-image models: prompt suites -> generators -> run directory -> metrics -> reports.",
        epilog=f"Set {DEBUG_ENV}=1 to see the full traceback of an error.",
    )
    parser.add_argument("--version", action="version", version=f"evalkit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in (ls, run, score):
        module.add_parsers(sub)
    add_human(sub)  # evalkit human create|serve|analyze|export
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("evalkit: interrupted; re-run the same command to resume", file=sys.stderr)
        return 130
    except Exception as err:
        message = one_line(err)
        if message is None or os.environ.get(DEBUG_ENV):
            raise
        print(f"evalkit: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
